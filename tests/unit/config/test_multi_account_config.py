"""Multi-account settings: stages with gates and connections, multi_account, and what each needs of the other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from config_helpers import problem_lines
from mlops_orchestrator.config import load_config
from mlops_orchestrator.config.multi_account import MultiAccount, OperationPreferences

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def realtime(**extra: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": "churn",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/churn.tar.gz",
        "data_capture_location": "assets-bucket/capture",
        "inference_instance": {"dev": "ml.m5.large", "staging": "ml.m5.xlarge", "prod": "ml.c5.2xlarge"},
        **extra,
    }


def stages(**per_stage: dict[str, Any]) -> dict[str, Any]:
    return {s: {"account_id": a, **per_stage.get(s, {})} for s, a in ACCOUNTS.items()}


def folder_with(tmp_path: Path, defaults: dict[str, Any], config: dict[str, Any], name: str = "churn.yaml") -> Path:
    (tmp_path / "defaults.yaml").write_text(yaml.safe_dump({"assets_bucket": "assets-bucket", **defaults}))
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def test_stages_in_defaults_make_a_realtime_pipeline_promote_with_gates(tmp_path):
    config = load_config(folder_with(tmp_path, {"stages": stages(prod={"approval": "AUTOMATIC"})}, realtime()))
    assert config.is_multi_account
    assert config.stages.names() == ["dev", "staging", "prod"]
    assert [config.stages.gate(s) for s in ("dev", "staging", "prod")] == ["automatic", "manual", "automatic"]
    settings = config.multi_account_settings  # MWO's way when nothing is said: StackSets
    assert (settings.method, settings.permission_model, settings.call_as) == ("stackset", "self_managed", "self")
    assert config.for_stage("inference_instance", "staging") == "ml.m5.xlarge"


def test_a_first_stage_can_be_gated_too(tmp_path):
    config = load_config(folder_with(tmp_path, {"stages": stages(dev={"approval": "manual"})}, realtime()))
    assert config.stages.gate("dev") == "manual"


def test_the_api_spellings_of_the_settings_are_accepted(tmp_path):
    defaults = {
        "stages": stages(**{s: {"org_unit_id": "ou-ab12-cdefgh34"} for s in ACCOUNTS}),
        "multi_account": {
            "method": "StackSet",
            "permission_model": "SERVICE_MANAGED",
            "call_as": "DELEGATED_ADMIN",
            "operation_preferences": {"failure_tolerance_count": "0", "max_concurrent_count": 1, "region_concurrency_type": "parallel"},
        },
    }
    config = load_config(folder_with(tmp_path, defaults, realtime()))
    settings = config.multi_account
    assert (settings.method, settings.permission_model, settings.call_as) == ("stackset", "service_managed", "delegated_admin")
    assert settings.operation_preferences.to_api() == {
        "RegionConcurrencyType": "PARALLEL",
        "MaxConcurrentCount": 1,
        "FailureToleranceCount": 0,
    }


@pytest.mark.parametrize(
    ("defaults", "config", "expected"),
    [
        pytest.param(
            {"stages": {"dev": {"account_id": "111111111111"}, "qa": {"account_id": "444444444444"}}},
            realtime(inference_instance="ml.m5.large"),
            ["defaults.yaml: stages.qa: unknown stage 'qa'; expected dev, staging or prod"],
            id="unknown stage",
        ),
        pytest.param(
            {"stages": {"dev": {"account_id": "1111"}}},
            realtime(inference_instance="ml.m5.large"),
            ["defaults.yaml: stages.dev.account_id: expected a 12-digit AWS account id, got '1111'"],
            id="bad account id",
        ),
        pytest.param(
            {"stages": {"dev": {"account_id": "111111111111", "org_unit_id": "ou-1"}}},
            realtime(inference_instance="ml.m5.large"),
            ["defaults.yaml: stages.dev.org_unit_id: expected an organizational unit id like ou-ab12-cdefgh34, got 'ou-1'"],
            id="bad OU",
        ),
        pytest.param(
            {"stages": stages()},
            realtime(inference_instance={"dev": "ml.m5.large", "staging": "ml.m5.xlarge"}),
            ["churn.yaml: inference_instance: no value for stage prod (this map gives dev, staging; stages in use: dev, staging, prod)"],
            id="a per-stage map misses a stage in use",
        ),
        pytest.param(
            {"stages": stages(), "multi_account": {"method": "assume_role"}},
            realtime(),
            [
                f"churn.yaml: stages.{s}.aws_conn_id: required with multi_account.method assume_role: an Airflow AWS "
                f"connection whose extra has the role_arn to assume in account {ACCOUNTS[s]} (value from defaults.yaml)"
                for s in ACCOUNTS
            ],
            id="assume_role without connections",
        ),
        pytest.param(
            {"stages": stages(), "multi_account": {"permission_model": "service_managed"}},
            realtime(),
            [
                f"churn.yaml: stages.{s}.org_unit_id: required with multi_account.permission_model service_managed "
                "(StackSets target organizational units) (value from defaults.yaml)"
                for s in ACCOUNTS
            ],
            id="service-managed without units",
        ),
        pytest.param(
            {"stages": stages(staging={"account_id": ACCOUNTS["dev"]})},
            realtime(),
            [
                "churn.yaml: stages.staging: same account (111111111111) and region as stage dev: each stage deploys "
                "the pipeline's stack once, so stages need different accounts or regions (value from defaults.yaml)"
            ],
            id="two stages in one place",
        ),
        pytest.param(
            {"multi_account": {"method": "stackset"}},
            realtime(inference_instance="ml.m5.large"),
            ["churn.yaml: multi_account: needs stages: the dev, staging and prod accounts to deploy to (value from defaults.yaml)"],
            id="multi_account without stages",
        ),
        pytest.param(
            {"stages": stages(), "multi_account": {"call_as": "delegated_admin", "execution_role_name": "Exec"}},
            realtime(),
            ["defaults.yaml: multi_account: call_as delegated_admin needs permission_model service_managed"],
            id="delegated admin of a self-managed stack set",
        ),
        pytest.param(
            {"stages": stages(), "multi_account": {"operation_preferences": {"failure_tolerance_count": 1, "failure_tolerance_percentage": 10}}},
            realtime(),
            ["defaults.yaml: multi_account.operation_preferences: give failure_tolerance_count or failure_tolerance_percentage, not both"],
            id="count and percentage",
        ),
        pytest.param(
            {"stages": stages(dev={"approval": "maybe"})},
            realtime(),
            ["defaults.yaml: stages.dev.approval: expected one of manual, automatic, got 'maybe'"],
            id="bad gate",
        ),
    ],
)
def test_bad_stage_settings_are_named_by_field(tmp_path, defaults, config, expected):
    lines = problem_lines(folder_with(tmp_path, defaults, config))
    assert [line.replace(str(tmp_path) + "/", "") for line in lines] == expected


def test_a_batch_pipeline_needs_a_connection_per_stage_even_with_stacksets(tmp_path):
    batch = {
        "pipeline_type": "byom_batch_builtin",
        "model_name": "scoring",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "models/scoring.tar.gz",
        "inference_instance": "ml.m5.large",
        "batch_inference_data": "data-bucket/in",
        "batch_job_output_location": "data-bucket/out",
    }
    connected = {s: {"aws_conn_id": f"aws_{s}"} for s in ("dev", "staging")}
    lines = problem_lines(folder_with(tmp_path, {"stages": stages(**connected)}, batch, name="scoring.yaml"))
    assert [line.replace(str(tmp_path) + "/", "") for line in lines] == [
        "scoring.yaml: stages.prod.aws_conn_id: required for this pipeline (its batch transform job runs in each "
        "stage's account, in account 333333333333; a StackSet only deploys stacks): an Airflow AWS connection with "
        "the role_arn to assume there (value from defaults.yaml)"
    ]


def test_pipelines_that_do_not_deploy_ignore_the_stages(tmp_path):
    training = {
        "pipeline_type": "model_training_builtin",
        "model_name": "churn",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "training_data": "churn/train.csv",
        "job_output_location": "churn/output",
        "algo_hyperparamaters": {"num_round": 5},
    }
    config = load_config(folder_with(tmp_path, {"stages": stages(), "multi_account": {"method": "assume_role"}}, training))
    assert not config.is_multi_account  # training runs in the orchestrator account; nothing is promoted


def test_settings_models_on_their_own():
    assert MultiAccount().uses_stacksets
    assert not MultiAccount(method="assume_role").uses_stacksets
    assert OperationPreferences(max_concurrent_percentage=50).to_api() == {"MaxConcurrentPercentage": 50}
    with pytest.raises(ValueError, match="administration_role_arn is only used with permission_model self_managed"):
        MultiAccount(permission_model="service_managed", administration_role_arn="arn:aws:iam::123456789012:role/Admin")
