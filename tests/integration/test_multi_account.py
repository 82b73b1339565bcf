"""Multi-account promotion end to end: three emulated accounts, StackSets and assumed roles, real DAG runs."""

from __future__ import annotations

import pytest
import yaml

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
        "choose_action": "success",
        **{f"{s}.resolve_model": "success" for s in ACCOUNTS},
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
