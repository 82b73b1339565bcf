"""The training DAGs' shape per approval mode and deployment, their parse-time parameters, and the
approval decision of the threshold operator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow.providers.common.compat.sdk import AirflowFailException
from mlops_orchestrator.config import load_config
from mlops_orchestrator.factory.context import BuildContext
from mlops_orchestrator.factory.registry import PLANNED, builder_for
from mlops_orchestrator.factory.training import (
    ROLE_ARN,
    content_types,
    deploy_stack_name,
    role_stack_parameters,
)
from mlops_orchestrator.operators.model_registry import (
    ApprovalThresholdOperator,
    ModelApprovalGateOperator,
    metric_value,
    model_package_alias_name,
    package_summary,
)

REPO = Path(__file__).resolve().parents[2]
KMS = "arn:aws:kms:us-east-1:111122223333:key/abcd-1234"
REALTIME = {"type": "realtime", "inference_instance": "ml.m5.large", "data_capture_location": "capture-bucket/churn"}
BATCH = {
    "type": "batch",
    "inference_instance": "ml.c5.xlarge",
    "batch_inference_data": "data-bucket/in",
    "batch_job_output_location": "data-bucket/out",
    "content_type": "application/jsonlines",
}
TRAINING = {
    "pipeline_type": "model_training_builtin",
    "model_name": "churn",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "training_data": "churn/train/data.csv",
    "validation_data": "s3://other-bucket/churn/validation/",
    "job_output_location": "churn/output/",
    "algo_hyperparamaters": {"num_round": 10},
    "assets_bucket": "assets-bucket",
}


def _build(tmp_path: Path, **fields: Any):
    path = tmp_path / "churn_training.yaml"
    path.write_text(yaml.safe_dump({**TRAINING, **fields}))
    config = load_config(path, root=tmp_path)
    ctx = BuildContext(path=path, folder=tmp_path, dag_id="churn_training")
    return config, ctx, builder_for(config.pipeline_type)(config, ctx)


def _downstream(dag) -> dict[str, list[str]]:
    return {task.task_id: sorted(task.downstream_task_ids) for task in dag.tasks}


def test_the_training_types_have_builders_now():
    assert not {"model_training_builtin", "model_tuner_builtin", "model_autopilot_training"} & set(PLANNED)


def test_the_example_training_configs_become_dags_through_the_dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"), safe_mode=True)
    assert bag.import_errors == {}
    train = bag.dags["training_builtin_xgboost"]
    assert "invalid-config" not in train.tags
    assert set(train.task_ids) == {
        "deploy_role_stack",
        "train",
        "stop_training_jobs",
        "delete_role_stack",
    }
    tuner = bag.dags["tuner_builtin_xgboost"]
    assert tuner.get_task("register_model").downstream_task_ids == set()
    assert tuner.get_task("register_model").approval_status == "Approved"
    autopilot = bag.dags["autopilot_training"]
    assert autopilot.get_task("check_threshold").metric == "objective"
    flow = bag.dags["training_deploy_realtime"]
    assert "invalid-config" not in flow.tags
    assert flow.get_task("deploy.deploy_stack").upstream_task_ids == {"approve_model_version"}
    assert flow.get_task("deploy.deploy_stack").stack_name == "mlops-pipeline-churn-retrain-modeltraining-realtime"
    assert flow.get_task("deploy.deploy_stack").blueprint == "realtime-endpoint.yaml"


def test_without_registry_the_dag_trains_only_as_mwo_did(tmp_path):
    _, _, dag = _build(tmp_path)
    assert _downstream(dag) == {
        "deploy_role_stack": ["stop_training_jobs", "train"],
        "train": [],
        "stop_training_jobs": ["delete_role_stack"],
        "delete_role_stack": [],
    }
    train = dag.get_task("train")
    assert train.role_arn == ROLE_ARN
    assert train.request["RoleArn"] == ROLE_ARN
    assert "TrainingJobName" not in train.request
    assert (train.model_framework, train.model_framework_version) == ("xgboost", "1.7-1")
    assert train.tags == {
        "mlops-orchestrator:dag-id": "churn_training",
        "mlops-orchestrator:pipeline-type": "model_training_builtin",
        "mlops-orchestrator:model-name": "churn",
    }
    assert dag.get_task("deploy_role_stack").stack_name == "mlops-pipeline-churn-modeltraining"
    assert dag.get_task("stop_training_jobs").trigger_rule == "all_skipped"  # runs when deploy_role_stack skipped
    assert dag.get_task("delete_role_stack").stack_name == "mlops-pipeline-churn-modeltraining"
    stop = dag.get_task("stop_training_jobs")
    assert (stop.job_kind, stop.name_contains) == ("training", "churn")
    assert stop.tags == {"mlops-orchestrator:dag-id": "churn_training"}


def test_automatic_approval_registers_approved_and_deploys_right_after(tmp_path):
    _, _, dag = _build(tmp_path, model_approval="automatic", deploy=REALTIME)
    assert _downstream(dag)["register_model"] == ["deploy.deploy_stack"]
    register = dag.get_task("register_model")
    assert register.approval_status == "Approved"
    assert register.model_package_group_name == "churn"
    assert register.inference_instances == ["ml.m5.large"] and register.transform_instances == []
    assert register.metrics_location == "s3://assets-bucket/churn/output"
    assert [o.name for o in register.outlets] == [model_package_alias_name("churn")]
    deploy = dag.get_task("deploy.deploy_stack")
    assert deploy.model_source["model_package_name"] == "{{ ti.xcom_pull(task_ids='register_model')['model_package_arn'] }}"
    assert deploy.parameters["EndpointName"] == "churn-endpoint"
    assert deploy.parameters["DataCaptureS3Path"] == "capture-bucket/churn"


def test_a_threshold_branches_to_approve_or_reject(tmp_path):
    _, _, dag = _build(
        tmp_path,
        model_package_group_name="churn-models",
        approval_threshold={"metric": "validation:auc", "min": 0.8},
        deploy=REALTIME,
    )
    shape = _downstream(dag)
    assert shape["register_model"] == ["check_threshold"]
    assert shape["check_threshold"] == ["approve_model_version", "reject_model_version"]
    assert shape["approve_model_version"] == ["deploy.deploy_stack"]
    assert shape["reject_model_version"] == []
    assert dag.get_task("register_model").approval_status == "PendingManualApproval"
    check = dag.get_task("check_threshold")
    assert (check.metric, check.min_value, check.max_value) == ("validation:auc", 0.8, None)
    approve, reject = dag.get_task("approve_model_version"), dag.get_task("reject_model_version")
    assert (approve.approval_status, reject.approval_status) == ("Approved", "Rejected")
    assert "task_ids='check_threshold', key='decision'" in approve.approval_description
    # Only an approval is published as an asset event.
    assert [o.name for o in approve.outlets] == [model_package_alias_name("churn-models")]
    assert reject.outlets == []
    # The version's model card is written on registering and follows either decision (no extra task).
    cards = [dag.get_task(t).model_card for t in ("register_model", "approve_model_version", "reject_model_version")]
    assert cards == [{"algorithm_type": "xgboost 1.7-1"}] * 3


def test_manual_approval_asks_a_person_in_the_airflow_ui(tmp_path):
    _, _, dag = _build(tmp_path, model_package_group_name="churn-models", deploy=REALTIME)
    gate = dag.get_task("approve_model")
    assert isinstance(gate, ModelApprovalGateOperator)
    assert gate.options == ["Approve", "Reject"]
    assert gate.options_mapping == {"Approve": "approve_model_version", "Reject": "reject_model_version"}
    assert "of churn-models?" in gate.subject
    assert "and deploy it" in gate.body
    assert list(gate.params) == ["comment"]
    assert (gate.response_timeout, gate.defaults) == (None, None)  # waits until someone answers
    assert _downstream(dag)["approve_model"] == ["approve_model_version", "reject_model_version"]


def test_an_unanswered_approval_times_out_into_a_rejection(tmp_path):
    _, _, dag = _build(tmp_path, model_package_group_name="churn-models", approval_timeout_hours=48)
    gate = dag.get_task("approve_model")
    assert (gate.response_timeout, gate.defaults) == (timedelta(hours=48), ["Reject"])
    assert "Unanswered after 48 hour(s), the version is rejected." in gate.body


def test_a_batch_deployment_transforms_with_the_approved_version_and_is_deprovisioned(tmp_path):
    config, ctx, dag = _build(
        tmp_path, model_approval="automatic", kms_key_arn=KMS, deploy=BATCH | {"stack_name": "churn-scoring"}
    )
    assert _downstream(dag)["deploy.deploy_stack"] == ["deploy.batch_transform"]
    transform = dag.get_task("deploy.batch_transform")
    assert transform.model_name == "{{ ti.xcom_pull(task_ids='deploy.deploy_stack')['outputs']['ModelName'] }}"
    assert transform.config["TransformInput"]["ContentType"] == "application/jsonlines"
    assert transform.config["TransformOutput"]["KmsKeyId"] == KMS  # the training's key, as none was given
    assert transform.output_location == "s3://data-bucket/out"
    register = dag.get_task("register_model")
    assert (register.content_types, register.response_types) == (["application/jsonlines"], ["application/jsonlines"])
    assert register.transform_instances == ["ml.c5.xlarge"]
    assert deploy_stack_name(config, ctx) == "churn-scoring"
    shape = _downstream(dag)
    assert shape["stop_training_jobs"] == ["stop_transform_jobs"]
    assert shape["stop_transform_jobs"] == ["delete_deploy_stack"]
    assert shape["delete_deploy_stack"] == ["delete_role_stack"]
    assert dag.get_task("delete_deploy_stack").stack_name == "churn-scoring"


def test_the_role_stack_parameters_scope_the_role_to_the_data(tmp_path):
    config, _, _ = _build(tmp_path, kms_key_arn=KMS, subnet_ids=["subnet-0a1b2c3d"], security_group_ids=["sg-0a1b2c3d"])
    assert role_stack_parameters(config, "dev") == {
        "ModelName": "churn",
        "JobKind": "training",
        "TrainingDataS3Path": "assets-bucket/churn/train/data.csv",
        "TrainingDataBucket": "assets-bucket",
        "TrainingDataPrefix": "churn/train/data.csv",
        "ValidationDataS3Path": "other-bucket/churn/validation",
        "ValidationDataBucket": "other-bucket",
        "ValidationDataPrefix": "churn/validation",
        "OutputS3Path": "assets-bucket/churn/output",
        "OutputBucket": "assets-bucket",
        "OutputPrefix": "churn/output",
        "KmsKeyArn": KMS,
        "SubnetIds": "subnet-0a1b2c3d",
    }


def test_tuning_and_autopilot_jobs(tmp_path):
    _, _, tune = _build(
        tmp_path,
        pipeline_type="model_tuner_builtin",
        tuner_configs={"objective_metric_name": "validation:auc", "base_tuning_job_name": "churn-hpo"},
        hyperparamaters_ranges={"eta": ["continuous", [0.1, 0.5]]},
    )
    task = tune.get_task("tune")
    assert task.request["TrainingJobDefinition"]["RoleArn"] == ROLE_ARN
    assert tune.get_task("stop_training_jobs").name_contains == "churn-hpo"
    autopilot_fields = {
        "pipeline_type": "model_autopilot_training",
        "target_attribute": "churn",
        "model_framework": None,
        "model_framework_version": None,
        "algo_hyperparamaters": None,
        "validation_data": None,
    }
    path = tmp_path / "auto.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in {**TRAINING, **autopilot_fields}.items() if v is not None}))
    config = load_config(path, root=tmp_path)
    dag = builder_for(config.pipeline_type)(config, BuildContext(path=path, folder=tmp_path, dag_id="auto"))
    assert dag.get_task("autopilot").request["RoleArn"] == ROLE_ARN
    assert dag.get_task("stop_training_jobs").job_kind == "automl"
    assert role_stack_parameters(config, "dev")["JobKind"] == "autopilot"
    assert content_types(config) == (["text/csv"], ["text/csv"])


# --------------------------------------------------------------------------------------------
# the decision of the threshold, and the registry helpers
# --------------------------------------------------------------------------------------------


class _TaskInstance:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


JOB = {
    "job_name": "churn-0123456789ab",
    "metrics": {"validation:auc": 0.84, "validation:rmse": 0.31},
    "objective": {"name": "validation:f1", "value": 0.7},
}


@pytest.mark.parametrize(
    ("metric", "bounds", "branch", "description"),
    [
        ("validation:auc", {"min_value": 0.8}, "approve", "validation:auc = 0.84 meets the threshold validation:auc >= 0.8"),
        ("validation:auc", {"min_value": 0.9}, "reject", "validation:auc = 0.84 does not meet the threshold validation:auc >= 0.9"),
        ("validation:rmse", {"max_value": 0.3}, "reject", "validation:rmse = 0.31 does not meet the threshold validation:rmse <= 0.3"),
        ("objective", {"min_value": 0.5, "max_value": 0.9}, "approve", "objective = 0.7 meets the threshold objective >= 0.5 and <= 0.9"),
        ("validation:f1", {"min_value": 0.75}, "reject", "validation:f1 = 0.7 does not meet the threshold validation:f1 >= 0.75"),
    ],
)
def test_the_threshold_approves_within_bounds_and_rejects_outside(metric, bounds, branch, description):
    operator = ApprovalThresholdOperator(
        task_id="check_threshold", training=JOB, metric=metric, approve_task_id="approve", reject_task_id="reject", **bounds
    )
    ti = _TaskInstance()
    assert operator.choose_branch({"ti": ti}) == branch
    assert ti.xcom["decision"]["description"] == description
    assert ti.xcom["decision"]["status"] == ("Approved" if branch == "approve" else "Rejected")


def test_a_threshold_on_a_metric_the_job_did_not_report_fails_without_deciding():
    operator = ApprovalThresholdOperator(
        task_id="check_threshold", training=JOB, metric="val:auc", min_value=0.5, approve_task_id="a", reject_task_id="r"
    )
    ti = _TaskInstance()
    with pytest.raises(AirflowFailException) as info:
        operator.choose_branch({"ti": ti})
    assert str(info.value) == (
        "approval_threshold: job 'churn-0123456789ab' reported no metric 'val:auc' (it reported: "
        "validation:auc, validation:rmse; objective validation:f1)"
    )
    assert ti.xcom == {}


def test_registry_helpers():
    assert metric_value(JOB, "objective") == 0.7
    assert metric_value({"metrics": {}}, "objective") is None
    arn = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-models/12"
    assert package_summary(arn, "Approved") == {
        "model_package_arn": arn,
        "version": 12,
        "group": "churn-models",
        "status": "Approved",
    }
    assert model_package_alias_name("churn-models") == "mlops-orchestrator/model-package-group/churn-models"
