"""The DAGs of multi-account pipelines: a task group per stage in promotion order, gates, the right operators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from mlops_orchestrator.config import load_config
from mlops_orchestrator.factory.context import BuildContext
from mlops_orchestrator.factory.registry import builder_for
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployEndpointStackOperator
from mlops_orchestrator.operators.cloudformation_stackset import (
    DeleteStackSetOperator,
    DeployStackSetOperator,
)
from mlops_orchestrator.operators.promotion_gate import PromotionGateOperator

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def build(tmp_path: Path, config: dict[str, Any], **defaults: Any):
    stages = defaults.pop("stages", None) or {
        s: {"account_id": a, "aws_conn_id": f"aws_{s}"} for s, a in ACCOUNTS.items()
    }
    (tmp_path / "defaults.yaml").write_text(
        yaml.safe_dump({"assets_bucket": "assets-bucket", "region_name": "us-east-1", "stages": stages, **defaults})
    )
    path = tmp_path / "churn.yaml"
    path.write_text(yaml.safe_dump(config))
    loaded = load_config(path, root=tmp_path)
    return builder_for(loaded.pipeline_type)(loaded, BuildContext(path=path, folder=tmp_path, dag_id="churn"))


REALTIME = {
    "pipeline_type": "byom_realtime_builtin",
    "model_name": "churn",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "model_artifact_location": "models/churn.tar.gz",
    "data_capture_location": "assets-bucket/capture",
    "inference_instance": {"dev": "ml.m5.large", "staging": "ml.m5.xlarge", "prod": "ml.c5.2xlarge"},
}


def chain(dag, start: str) -> list[str]:
    """The task ids from ``start`` following the single downstream task each time (past the
    deprovision path, which follows the deploy path's first task)."""
    order = [start]
    while True:
        downstream = sorted(
            t for t in dag.get_task(order[-1]).downstream_task_ids if dag.get_task(t).trigger_rule != "all_skipped"
        )
        if len(downstream) != 1:
            return order
        order.append(downstream[0])


def test_realtime_stages_follow_each_other_with_gates_before_staging_and_prod(tmp_path):
    dag = build(tmp_path, REALTIME)
    assert chain(dag, "dev.deploy_stack") == [
        "dev.deploy_stack",
        "staging.approve_promotion",
        "staging.deploy_stack",
        "prod.approve_promotion",
        "prod.deploy_stack",
    ]
    assert chain(dag, "prod_deprovision.delete_stack") == [
        "prod_deprovision.delete_stack",
        "staging_deprovision.delete_stack",
        "dev_deprovision.delete_stack",
    ]
    # deprovision: dev.deploy_stack skips itself, and with it every stage; then the stacks go, prod first
    assert dag.get_task("dev.deploy_stack").downstream_task_ids == {"staging.approve_promotion", "prod_deprovision.delete_stack"}
    assert dag.get_task("prod_deprovision.delete_stack").trigger_rule == "all_skipped"
    assert "choose_action" not in dag.task_ids
    gate = dag.get_task("prod.approve_promotion")
    assert isinstance(gate, PromotionGateOperator)
    assert gate.stage == "prod" and gate.response_timeout is None
    assert "account 333333333333" in gate.subject


def test_stackset_stages_target_their_account_from_the_orchestrator_connection(tmp_path):
    dag = build(tmp_path, REALTIME, multi_account={"execution_role_name": "Exec", "operation_preferences": {"failure_tolerance_count": 0}})
    deploy = dag.get_task("staging.deploy_stack")
    assert isinstance(deploy, DeployStackSetOperator)
    assert deploy.stack_set_name == "mlops-pipeline-churn-byompipelinerealtimebuiltin-staging"
    assert (deploy.accounts, deploy.regions, deploy.org_unit_ids) == (["222222222222"], ["us-east-1"], [])
    assert (deploy.aws_conn_id, deploy.execution_role_name) == ("aws_default", "Exec")
    assert deploy.operation_preferences == {"FailureToleranceCount": 0}
    assert deploy.outputs_aws_conn_id == "aws_staging"
    assert deploy.tags["mlops-orchestrator:stage"] == "staging"
    assert deploy.model_source["instance_type"] == "ml.m5.xlarge"
    assert deploy.model_source["aws_conn_id"] == "aws_default"  # the registry is the orchestrator's
    assert isinstance(dag.get_task("dev_deprovision.delete_stack"), DeleteStackSetOperator)


def test_service_managed_stages_target_their_unit_narrowed_to_the_account(tmp_path):
    units = {s: {"account_id": a, "org_unit_id": f"ou-ab12-{s}0000000"} for s, a in ACCOUNTS.items()}
    dag = build(tmp_path, REALTIME, stages=units, multi_account={"permission_model": "service_managed", "call_as": "delegated_admin"})
    deploy = dag.get_task("prod.deploy_stack")
    assert (deploy.accounts, deploy.org_unit_ids, deploy.whole_org_unit) == (["333333333333"], ["ou-ab12-prod0000000"], False)
    assert deploy.call_as == "DELEGATED_ADMIN"
    assert deploy.targets.request()["DeploymentTargets"] == {
        "OrganizationalUnitIds": ["ou-ab12-prod0000000"],
        "Accounts": ["333333333333"],
        "AccountFilterType": "INTERSECTION",
    }


def test_assume_role_stages_deploy_stacks_through_their_connection_in_their_region(tmp_path):
    stages = {s: {"account_id": a, "aws_conn_id": f"aws_{s}"} for s, a in ACCOUNTS.items()}
    stages["prod"]["region"] = "eu-west-1"
    stages["staging"]["approval"] = "automatic"
    dag = build(tmp_path, REALTIME, stages=stages, multi_account={"method": "assume_role", "approval_timeout_hours": 48})
    deploy = dag.get_task("prod.deploy_stack")
    assert isinstance(deploy, DeployEndpointStackOperator)
    assert (deploy.aws_conn_id, deploy.region_name) == ("aws_prod", "eu-west-1")
    assert deploy.stack_name == "mlops-pipeline-churn-byompipelinerealtimebuiltin-prod"
    source = deploy.model_source
    assert (source["aws_conn_id"], source["image_region"]) == ("aws_default", "eu-west-1")  # registry here, image there
    assert "staging.approve_promotion" not in dag.task_ids
    assert dag.get_task("prod.approve_promotion").response_timeout.total_seconds() == 48 * 3600
    delete = dag.get_task("prod_deprovision.delete_stack")
    assert isinstance(delete, DeleteStackOperator) and delete.aws_conn_id == "aws_prod"


def test_monitor_stages_report_together_and_the_next_gate_follows_the_schedule(tmp_path):
    config = {
        "pipeline_type": "byom_data_quality_monitor",
        "model_name": "churn",
        "endpoint_name": "churn-endpoint",
        "baseline_data": "monitor/baseline.csv",
        "baseline_job_output_location": "assets-bucket/baseline",
        "data_capture_location": "assets-bucket/capture",
        "monitoring_output_location": "assets-bucket/reports",
        "schedule_expression": "cron(0 * ? * * *)",
        "instance_type": "ml.m5.large",
        "instance_volume_size": 20,
    }
    dag = build(tmp_path, config)
    assert dag.get_task("staging.approve_promotion").upstream_task_ids == {"dev.schedule_monitoring"}
    results = {f"{s}.monitor_results" for s in ACCOUNTS}
    assert results <= dag.get_task("choose_action").downstream_task_ids
    assert dag.get_task("staging.baseline").aws_conn_id == "aws_staging"
    assert "'staging.deploy_stack'" in dag.get_task("staging.baseline").role_arn


def test_a_training_deploy_section_is_promoted_and_its_group_shared(tmp_path):
    config = {
        "pipeline_type": "model_training_builtin",
        "model_name": "churn",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "training_data": "churn/train.csv",
        "job_output_location": "churn/output",
        "algo_hyperparamaters": {"num_round": 5},
        "model_approval": "automatic",
        "deploy": {"type": "realtime", "inference_instance": "ml.m5.large", "data_capture_location": "assets-bucket/capture"},
    }
    dag = build(tmp_path, config)
    assert {f"deploy.{s}.deploy_stack" for s in ACCOUNTS} <= set(dag.task_ids)
    assert dag.get_task("register_model").share_with_accounts == sorted(ACCOUNTS.values())
    assert dag.get_task("train").aws_conn_id == "aws_default"  # training stays in the orchestrator account
    assert chain(dag, "stop_training_jobs")[-1] == "delete_role_stack"


@pytest.mark.parametrize("pipeline", ["byom_image_builder"])
def test_pipelines_without_a_deployment_are_built_as_before(tmp_path, pipeline):
    config = {"pipeline_type": pipeline, "custom_algorithm_docker": "docker/ctx.zip", "ecr_repo_name": "churn", "image_tag": "v1"}
    dag = build(tmp_path, config)
    assert not any("." in task_id for task_id in dag.task_ids)
