"""Provisioning without a server: validation as a dropped file, file names, conflicts, atomic writes,
and how a pipeline id is found (DAG id, MWO stack name or ARN)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlops_orchestrator.api.provisioning import (
    Conflict,
    FolderTarget,
    InvalidBody,
    body_text,
    dag_id_of,
    provision,
    validate_body,
)
from mlops_orchestrator.api.settings import ApiSettings
from mlops_orchestrator.pipelines.catalog import find_pipeline, list_pipelines

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(tmp_path) -> ApiSettings:
    folder = tmp_path / "dags"
    (folder / "provisioned").mkdir(parents=True)
    (folder / "defaults.yaml").write_text(yaml.safe_dump({"assets_bucket": "unit-assets", "region_name": "us-east-1"}))
    return ApiSettings(config_folder=folder, provision_folder=folder / "provisioned")


def body(model_name: str = "churn", **extra) -> dict:
    loaded = yaml.safe_load((REPO / "dags/examples/realtime_builtin_xgboost.yaml").read_text())
    return {**loaded, "model_name": model_name, **extra}


def test_a_body_inherits_the_defaults_of_the_provision_folder(settings):
    validated = validate_body(body(), settings)
    assert validated.config.assets_bucket == "unit-assets"
    assert dag_id_of(validated.config) == "mlops-pipeline-churn-byompipelinerealtimebuiltin"
    assert dag_id_of(validate_body(body(dag_id="churn_rt"), settings).config) == "churn_rt"


def test_an_invalid_body_names_the_request_and_a_bad_defaults_file_names_itself(settings):
    with pytest.raises(InvalidBody) as raised:
        validate_body(body(inference_instance="large"), settings)
    [problem] = raised.value.problems
    assert (problem.file, problem.field) == ("request body", "inference_instance")
    (settings.config_folder / "defaults.yaml").write_text(yaml.safe_dump({"assets_bucket": "Not_A_Bucket"}))
    with pytest.raises(InvalidBody) as raised:
        validate_body(body(), settings)
    assert str(settings.config_folder / "defaults.yaml") in {p.file for p in raised.value.problems}


def test_provisioning_writes_the_body_and_re_posting_updates_the_same_file(settings):
    first = provision(body(), validate_body(body(), settings), settings)
    path = settings.provision_folder / "mlops-pipeline-churn-byompipelinerealtimebuiltin.json"
    assert (first.created, first.changed, first.file) == (True, True, f"provisioned/{path.name}")
    assert json.loads(path.read_text()) == body()
    same = provision(body(), validate_body(body(), settings), settings)
    assert (same.created, same.changed) == (False, False)
    bigger = body(inference_instance="ml.m5.xlarge")
    updated = provision(bigger, validate_body(bigger, settings), settings)
    assert (updated.created, updated.changed) == (False, True)
    assert json.loads(path.read_text())["inference_instance"] == "ml.m5.xlarge"
    assert sorted(p.name for p in settings.provision_folder.iterdir()) == [
        ".mlops-orchestrator-provision.lock",
        path.name,
    ]


def test_a_file_of_another_pipeline_is_not_replaced(settings):
    path = settings.provision_folder / "shared.json"
    other = body("other", pipeline_type="byom_realtime_custom", custom_image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1")
    for key in ("model_framework", "model_framework_version"):
        other.pop(key)
    path.write_text(json.dumps(other))
    mine = body(dag_id="shared")
    with pytest.raises(Conflict, match=r"provisioned/shared.json holds another pipeline \('byom_realtime_custom'"):
        provision(mine, validate_body(mine, settings), settings)
    assert json.loads(path.read_text()) == other


def test_a_write_refuses_a_file_changed_since_it_was_read(settings):
    target = FolderTarget(settings)
    target.write("x.json", b"{}", None)
    with pytest.raises(Conflict, match="changed while it was being provisioned"):
        target.write("x.json", b'{"a": 1}', None)
    assert (settings.provision_folder / "x.json").read_bytes() == b"{}"
    assert body_text({"b": 1, "a": 2}) == b'{\n  "b": 1,\n  "a": 2\n}\n'  # the body's key order is kept


def test_a_provision_folder_outside_the_config_folder_is_refused(monkeypatch, tmp_path):
    from mlops_orchestrator.api.settings import SettingsError

    monkeypatch.setenv("AIRFLOW__MLOPS_ORCHESTRATOR__CONFIG_FOLDER", str(tmp_path / "dags"))
    monkeypatch.setenv("AIRFLOW__MLOPS_ORCHESTRATOR__PROVISION_FOLDER", str(tmp_path / "elsewhere"))
    with pytest.raises(SettingsError, match="is outside config_folder"):
        ApiSettings.from_airflow()
    monkeypatch.setenv("AIRFLOW__MLOPS_ORCHESTRATOR__PROVISION_FOLDER", "team/provisioned")
    assert ApiSettings.from_airflow().provision_folder == (tmp_path / "dags/team/provisioned").resolve()


def test_a_pipeline_is_found_by_dag_id_stack_name_or_mwos_stack_arn(settings):
    provision(body(), validate_body(body(), settings), settings)
    (settings.config_folder / "broken.yaml").write_text("pipeline_type: byom_realtime_builtin\nmodel_nmae: x\n")
    entries = list_pipelines(settings.config_folder)
    stack = "mlops-pipeline-churn-byompipelinerealtimebuiltin"
    for pipeline_id in (
        stack,
        f"{stack}-codepipeline",
        f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}-codepipeline/0a1b2c3d",
    ):
        assert find_pipeline(entries, pipeline_id).dag_id == stack, pipeline_id
    broken = find_pipeline(entries, "broken")
    assert (broken.valid, broken.file, broken.pipeline_type) == (False, "broken.yaml", "byom_realtime_builtin")
    assert find_pipeline(entries, "nothing") is None
