"""Multi-account promotion end to end: three emulated accounts, StackSets and assumed roles, real DAG runs."""

from __future__ import annotations

import pytest
import yaml
from metadata import xcom

pytestmark = pytest.mark.integration

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
INSTANCES = {"dev": "ml.m5.large", "staging": "ml.m5.xlarge", "prod": "ml.c5.2xlarge"}


def stages(**per_stage) -> dict:
    """``stages`` of a defaults file: the three accounts, each with its connection and automatic gates."""
    result = {}
    for stage, account in ACCOUNTS.items():
        result[stage] = {"account_id": account, "aws_conn_id": f"aws_{stage}", "approval": "automatic"}
        result[stage].update(per_stage.get(stage, {}))
    return result


def realtime(model: str, **extra) -> dict:
    """An MWO multi-account realtime payload, unchanged: per-stage instance types and capture locations."""
    return {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": f"models/{model}/model.tar.gz",
        "data_capture_location": {s: f"it-assets/capture/{s}/{model}" for s in ACCOUNTS},
        "inference_instance": dict(INSTANCES),
        **extra,
    }


@pytest.fixture
def multi_account(run_config, local_aws):
    """Run a config under a defaults file with ``stages`` and ``multi_account``; stage accounts set up."""
    from mlops_orchestrator.run.accounts import account_client

    def run(config: dict, *, method: str = "stackset", name: str = "pipeline.yaml", action: str = "deploy", **settings):
        defaults_file = run_config.folder / "defaults.yaml"
        defaults = yaml.safe_load(defaults_file.read_text())
        defaults["stages"] = settings.pop("stages", None) or stages()
        defaults["multi_account"] = {"method": method, **settings}
        defaults_file.write_text(yaml.safe_dump(defaults))
        return run_config(config, name=name, action=action)

    run.account = lambda stage: account_client(local_aws.endpoint_url, "us-east-1", ACCOUNTS[stage])
    return run


def endpoints_by_account(multi_account) -> dict[str, dict]:
    found = {}
    for stage in ACCOUNTS:
        sagemaker = multi_account.account(stage)("sagemaker")
        found[stage] = {
            e["EndpointName"]: sagemaker.describe_endpoint(EndpointName=e["EndpointName"])
            for e in sagemaker.list_endpoints()["Endpoints"]
        }
    return found


def instance_type(multi_account, stage: str, endpoint: dict) -> str:
    sagemaker = multi_account.account(stage)("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    return config["ProductionVariants"][0]["InstanceType"]


def stacks_by_account(multi_account, prefix: str) -> dict[str, list[tuple[str, str]]]:
    """(name, status) of each account's live stacks whose name contains ``prefix``."""
    found = {}
    for stage in ACCOUNTS:
        cloudformation = multi_account.account(stage)("cloudformation")
        found[stage] = [
            (s["StackName"], s["StackStatus"])
            for s in cloudformation.describe_stacks()["Stacks"]
            if prefix in s["StackName"] and s["StackStatus"] != "DELETE_COMPLETE"
        ]
    return found


@pytest.mark.parametrize("method", ["stackset", "assume_role"])
def test_realtime_promotes_through_three_accounts_updates_one_stage_and_deprovisions(multi_account, aws, method):
    model = f"churn-{method.replace('_', '-')}"
    # 1. dev -> staging -> prod: an endpoint InService in each account, with that stage's instance type.
    report = multi_account(realtime(model), method=method, name=f"{model}.yaml")
    assert report["state"] == "success", report["failures"]
    deploying = {k: v for k, v in report["tasks"].items() if "_deprovision." not in k}
    assert deploying == {
        **{f"{s}.deploy_stack": "success" for s in ACCOUNTS},
    }
    endpoints = endpoints_by_account(multi_account)
    for stage in ACCOUNTS:
        endpoint = endpoints[stage][f"{model}-endpoint"]
        assert endpoint["EndpointStatus"] == "InService"
        assert endpoint["EndpointArn"].split(":")[4] == ACCOUNTS[stage]
        assert instance_type(multi_account, stage, endpoint) == INSTANCES[stage]
    if method == "stackset":
        stack_sets = {s["StackSetName"] for s in aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"]}
        assert {f"mlops-pipeline-{model}-byompipelinerealtimebuiltin-{s}" for s in ACCOUNTS} <= stack_sets
    else:  # the orchestrator account holds nothing of the deployment
        assert aws("sagemaker").list_endpoints(NameContains=model)["Endpoints"] == []
    before = {s: endpoints[s][f"{model}-endpoint"]["EndpointConfigName"] for s in ACCOUNTS}

    # 2. a new prod value: only prod's endpoint changes; dev and staging are left as they are.
    changed = realtime(model, inference_instance={**INSTANCES, "prod": "ml.c5.4xlarge"})
    report = multi_account(changed, method=method, name=f"{model}.yaml")
    assert report["state"] == "success", report["failures"]
    after = endpoints_by_account(multi_account)
    assert {s: after[s][f"{model}-endpoint"]["EndpointConfigName"] for s in ("dev", "staging")} == {
        s: before[s] for s in ("dev", "staging")
    }
    assert after["prod"][f"{model}-endpoint"]["EndpointConfigName"] != before["prod"]
    assert instance_type(multi_account, "prod", after["prod"][f"{model}-endpoint"]) == "ml.c5.4xlarge"

    # 3. deprovision: prod, then staging, then dev; nothing of the pipeline is left in any account.
    report = multi_account(changed, method=method, name=f"{model}.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    removing = {k: v for k, v in report["tasks"].items() if "_deprovision." in k}
    assert removing == {f"{s}_deprovision.delete_stack": "success" for s in ACCOUNTS}
    remaining = endpoints_by_account(multi_account)
    assert [s for s in ACCOUNTS if f"{model}-endpoint" in remaining[s]] == []
    assert stacks_by_account(multi_account, model) == {s: [] for s in ACCOUNTS}
    if method == "stackset":
        active = {s["StackSetName"] for s in aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"]}
        assert not any(model in name for name in active)


@pytest.mark.timeout(300)
def test_a_person_approves_staging_and_rejects_prod_which_stays_untouched(multi_account, aws):
    from hitl import respond
    from notify import TopicInbox

    model = "churn-gated"
    inbox = TopicInbox(aws)  # in the orchestrator's account
    gated = stages(staging={"approval": "manual"}, prod={"approval": "manual"})
    approve = respond(model.replace("-", "_"), "staging.approve_promotion", "Approve", comment="dev looks good")
    reject = respond(model.replace("-", "_"), "prod.approve_promotion", "Reject", comment="not before the audit")
    config = realtime(model, notifications={"sns_topic_arn": inbox.topic_arn, "on": ["approval"]})
    report = multi_account(config, name=f"{model.replace('-', '_')}.yaml", stages=gated)
    approve.join(timeout=5)
    reject.join(timeout=5)
    assert report["state"] == "success", report["failures"]
    tasks = report["tasks"]
    assert "dev.approve_promotion" not in tasks  # the first stage has no gate
    assert [tasks[f"staging.{t}"] for t in ("approve_promotion", "deploy_stack")] == ["success"] * 2
    assert tasks["prod.approve_promotion"] == "success"  # a decision was taken
    assert tasks["prod.deploy_stack"] == "skipped"
    assert {tasks[f"{s}_deprovision.delete_stack"] for s in ACCOUNTS} == {"skipped"}  # a rejection never deprovisions
    endpoints = endpoints_by_account(multi_account)
    assert f"{model}-endpoint" in endpoints["staging"]
    assert endpoints["prod"] == {} or f"{model}-endpoint" not in endpoints["prod"]
    assert stacks_by_account(multi_account, model)["prod"] == []
    decision = xcom("churn_gated", "prod.approve_promotion", key="decision")
    assert decision == {
        "status": "rejected",
        "stage": "prod",
        "by": "risk-officer",
        "comment": "not before the audit",
        "description": "Promotion to prod rejected by risk-officer: not before the audit",
    }
    assert xcom("churn_gated", "staging.approve_promotion", key="decision")["status"] == "approved"
    # each gate told the team it was waiting, in promotion order
    messages = inbox.read(2)
    assert [m["Message"].splitlines()[0] for m in messages] == [
        f"A person's decision is waiting in Airflow: Promote churn_gated to {stage} (account {ACCOUNTS[stage]})?"
        for stage in ("staging", "prod")
    ]
    assert all("/tasks/" in m["Message"] and "approve_promotion" in m["Message"] for m in messages)


@pytest.mark.parametrize("method", ["stackset", "assume_role"])
def test_a_failing_staging_account_stops_the_promotion_names_the_account_and_recovers(multi_account, control, method):
    model = f"churn-fail-{method.replace('_', '-')}"
    control.add_failure("endpoint", match=f":{ACCOUNTS['staging']}:endpoint/{model}", reason="Failed to download model data")
    report = multi_account(realtime(model), method=method, name=f"{model}.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["dev.deploy_stack"] == "success"
    assert report["tasks"]["staging.deploy_stack"] == "failed"
    assert report["tasks"]["prod.deploy_stack"] == "upstream_failed"
    message = report["failures"]["staging.deploy_stack"]
    assert ACCOUNTS["staging"] in message
    assert "Failed to download model data" in message
    if method == "stackset":
        assert f"account {ACCOUNTS['staging']} (us-east-1): FAILED: ResourceLogicalId:Endpoint" in message
    assert stacks_by_account(multi_account, model)["prod"] == []  # prod untouched

    # The cause is fixed: the next run recovers staging (a failed create is not an obstacle) and goes on to prod.
    control.clear_failures()
    report = multi_account(realtime(model), method=method, name=f"{model}.yaml")
    assert report["state"] == "success", report["failures"]
    endpoints = endpoints_by_account(multi_account)
    assert all(endpoints[s][f"{model}-endpoint"]["EndpointStatus"] == "InService" for s in ACCOUNTS)


def batch(model: str) -> dict:
    """An MWO multi-account batch payload: per-stage input and output locations."""
    return {
        "pipeline_type": "byom_batch_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": f"models/{model}/model.tar.gz",
        "inference_instance": dict(INSTANCES),
        "batch_inference_data": {s: f"it-assets/score/{model}/{s}/in" for s in ACCOUNTS},
        "batch_job_output_location": {s: f"it-assets/score/{model}/{s}/out" for s in ACCOUNTS},
    }


def test_batch_runs_its_transform_job_in_each_stage_account(multi_account, aws):
    model = "score-multi"
    report = multi_account(batch(model), name=f"{model.replace('-', '_')}.yaml")
    assert report["state"] == "success", report["failures"]
    for stage in ACCOUNTS:
        assert report["tasks"][f"{stage}.batch_transform"] == "success"
        sagemaker = multi_account.account(stage)("sagemaker")
        (job,) = sagemaker.list_transform_jobs(NameContains=model)["TransformJobSummaries"]
        described = sagemaker.describe_transform_job(TransformJobName=job["TransformJobName"])
        assert described["TransformJobStatus"] == "Completed"
        assert described["TransformResources"]["InstanceType"] == INSTANCES[stage]
        assert described["TransformOutput"]["S3OutputPath"].startswith(f"s3://it-assets/score/{model}/{stage}/out/")
        outputs = aws("s3").list_objects_v2(Bucket="it-assets", Prefix=f"score/{model}/{stage}/out/")
        assert outputs["KeyCount"] >= 1
    assert aws("sagemaker").list_transform_jobs(NameContains=model)["TransformJobSummaries"] == []

    report = multi_account(batch(model), name=f"{model.replace('-', '_')}.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    assert stacks_by_account(multi_account, model) == {s: [] for s in ACCOUNTS}


def serve_in(multi_account, stage: str, name: str) -> None:
    """An endpoint capturing its traffic in a stage account, as a realtime pipeline leaves it there."""
    sagemaker = multi_account.account(stage)("sagemaker")
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNTS[stage]}:role/model",
        PrimaryContainer={"Image": image, "ModelDataUrl": "s3://it-assets/models/any/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)


@pytest.mark.parametrize("method", ["stackset", "assume_role"])
def test_a_data_quality_monitor_baselines_and_schedules_in_each_stage_account(multi_account, aws, method):
    model = f"dq-{method.replace('_', '-')}"
    for stage in ACCOUNTS:
        serve_in(multi_account, stage, f"{model}-endpoint")
    config = {
        "pipeline_type": "byom_data_quality_monitor",
        "model_name": model,
        "endpoint_name": f"{model}-endpoint",
        "baseline_data": f"monitor/{model}/baseline.csv",
        "baseline_job_output_location": {s: f"it-assets/monitor/{model}/{s}/baseline" for s in ACCOUNTS},
        "data_capture_location": {s: f"it-assets/capture/{s}/{model}" for s in ACCOUNTS},
        "monitoring_output_location": {s: f"it-assets/monitor/{model}/{s}/reports" for s in ACCOUNTS},
        "schedule_expression": {"dev": "cron(0 * ? * * *)", "staging": "cron(0 */2 ? * * *)", "prod": "cron(0 0 ? * * *)"},
        "instance_type": dict(INSTANCES),
        "instance_volume_size": "20",
        "monitor_max_runtime_seconds": "1800",
    }
    report = multi_account(config, method=method, name=f"{model}.yaml")
    assert report["state"] == "success", report["failures"]
    for stage in ACCOUNTS:
        assert [report["tasks"][f"{stage}.{t}"] for t in ("deploy_stack", "baseline", "schedule_monitoring")] == [
            "success"
        ] * 3
        sagemaker = multi_account.account(stage)("sagemaker")
        (schedule,) = sagemaker.list_monitoring_schedules(EndpointName=f"{model}-endpoint")["MonitoringScheduleSummaries"]
        described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=schedule["MonitoringScheduleName"])
        assert described["MonitoringScheduleArn"].split(":")[4] == ACCOUNTS[stage]
        assert described["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == config["schedule_expression"][stage]
        definition = sagemaker.describe_data_quality_job_definition(
            JobDefinitionName=described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
        )
        assert definition["JobResources"]["ClusterConfig"]["InstanceType"] == INSTANCES[stage]
        assert definition["RoleArn"].split(":")[4] == ACCOUNTS[stage]
        constraints = aws("s3").list_objects_v2(Bucket="it-assets", Prefix=f"monitor/{model}/{stage}/baseline/")
        assert any(o["Key"].endswith("constraints.json") for o in constraints.get("Contents", []))

    report = multi_account(config, method=method, name=f"{model}.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    for stage in ACCOUNTS:
        sagemaker = multi_account.account(stage)("sagemaker")
        assert sagemaker.list_monitoring_schedules(EndpointName=f"{model}-endpoint")["MonitoringScheduleSummaries"] == []
    assert stacks_by_account(multi_account, model) == {s: [] for s in ACCOUNTS}


def test_a_trained_version_is_approved_once_and_promoted_to_every_account(multi_account, aws):
    model = "churn-trained"
    config = {
        "pipeline_type": "model_training_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "training_data": f"{model}/train/data.csv",
        "job_output_location": f"{model}/output",
        "algo_hyperparamaters": {"objective": "binary:logistic", "eval_metric": "auc", "num_round": 5},
        "model_approval": "automatic",
        "deploy": {
            "type": "realtime",
            "inference_instance": dict(INSTANCES),
            "data_capture_location": {s: f"it-assets/capture/{s}/{model}" for s in ACCOUNTS},
        },
    }
    report = multi_account(config, name=f"{model.replace('-', '_')}.yaml")
    assert report["state"] == "success", report["failures"]
    for stage in ACCOUNTS:
        assert report["tasks"][f"deploy.{stage}.deploy_stack"] == "success"
    (package,) = aws("sagemaker").list_model_packages(ModelPackageGroupName=model)["ModelPackageSummaryList"]
    endpoints = endpoints_by_account(multi_account)
    for stage in ACCOUNTS:
        endpoint = endpoints[stage][f"{model}-endpoint"]
        assert endpoint["EndpointStatus"] == "InService"
        sagemaker = multi_account.account(stage)("sagemaker")
        config_ = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        served = sagemaker.describe_model(ModelName=config_["ProductionVariants"][0]["ModelName"])
        assert served["PrimaryContainer"]["ModelPackageName"] == package["ModelPackageArn"]
        assert config_["ProductionVariants"][0]["InstanceType"] == INSTANCES[stage]
    import json

    policy = json.loads(aws("sagemaker").get_model_package_group_policy(ModelPackageGroupName=model)["ResourcePolicy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"]["AWS"] == [f"arn:aws:iam::{a}:root" for a in sorted(ACCOUNTS.values())]
    assert statement["Action"] == [
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:ListModelPackages",
    ]

    report = multi_account(config, name=f"{model.replace('-', '_')}.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    assert stacks_by_account(multi_account, model) == {s: [] for s in ACCOUNTS}


def test_service_managed_stacksets_reach_only_the_stage_account_of_its_unit(multi_account, aws):
    model = "churn-org"
    units = {s: {"org_unit_id": f"ou-ab12-{s}0000000", "approval": "automatic"} for s in ACCOUNTS}
    report = multi_account(
        realtime(model),
        name=f"{model.replace('-', '_')}.yaml",
        stages=stages(**units),
        permission_model="service_managed",
        call_as="delegated_admin",
    )
    assert report["state"] == "success", report["failures"]
    cloudformation = aws("cloudformation")
    for stage in ACCOUNTS:
        name = f"mlops-pipeline-{model}-byompipelinerealtimebuiltin-{stage}"
        described = cloudformation.describe_stack_set(StackSetName=name, CallAs="DELEGATED_ADMIN")["StackSet"]
        assert described["PermissionModel"] == "SERVICE_MANAGED"
        (instance,) = cloudformation.list_stack_instances(StackSetName=name, CallAs="DELEGATED_ADMIN")["Summaries"]
        assert (instance["Account"], instance["OrganizationalUnitId"]) == (ACCOUNTS[stage], f"ou-ab12-{stage}0000000")
    endpoints = endpoints_by_account(multi_account)
    assert all(endpoints[s][f"{model}-endpoint"]["EndpointStatus"] == "InService" for s in ACCOUNTS)


@pytest.mark.timeout(300)
def test_an_unanswered_gate_stops_the_promotion_when_its_time_is_up(multi_account):
    from hitl import time_out_when_waiting

    model = "churn-late"
    sweep = time_out_when_waiting("churn_late", "staging.approve_promotion")
    report = multi_account(
        realtime(model), name="churn_late.yaml", stages=stages(staging={"approval": "manual"}), approval_timeout_hours=24
    )
    sweep.join(timeout=5)
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["staging.deploy_stack"] == "skipped"
    assert report["tasks"]["prod.deploy_stack"] == "skipped"
    decision = xcom("churn_late", "staging.approve_promotion", key="decision")
    assert decision["status"] == "rejected"
    assert decision["description"] == "Promotion to staging rejected: nobody answered within 24 hour(s)"
    assert stacks_by_account(multi_account, model)["staging"] == []
