"""
Our DAGs on Airflow as deployed: scheduler, DAG processor, triggerer and API server as processes.

Configs are dropped into the dags folder beside the loader file; runs are triggered through the
REST API with a token, as the UI does; AWS is the local emulator over HTTP. What ``dag.test()``
cannot show is asserted here: the waits were deferred to the triggerer, the DAG processor shows a
bad config with its file and field, and a config added while everything runs becomes a DAG.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from mlops_orchestrator.run.services import AirflowServices, connection_env

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = {"assets_bucket": "svc-assets", "region_name": "us-east-1", "aws_conn_id": "aws_default", "retries": 0}


def _realtime(model_name: str) -> dict:
    config = yaml.safe_load((REPO / "dags/examples/realtime_builtin_xgboost.yaml").read_text())
    config.update(
        model_name=model_name,
        model_artifact_location=f"models/{model_name}/model.tar.gz",
        data_capture_location=f"svc-assets/datacapture/{model_name}",
        endpoint_name=f"{model_name}-endpoint",
    )
    return config


def _drop(folder: Path, name: str, config: dict, aws) -> None:
    """Write a config into the dags folder and seed the inputs it points at (as a user would upload)."""
    from mlops_orchestrator.config import load_config
    from mlops_orchestrator.run.inputs import seed_inputs

    path = folder / name
    path.write_text(yaml.safe_dump(config))
    seed_inputs(load_config(path, root=folder), aws, "us-east-1")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, local_aws, aws):
    from mlops_orchestrator.local.control import LocalAwsControl

    # long enough that the deployment's waits are seen deferred while the test polls
    control = LocalAwsControl(local_aws.endpoint_url)
    before = control.get_settings()
    control.set_settings(stack_seconds=6, endpoint_seconds=6)
    root = tmp_path_factory.mktemp("services")
    dags = root / "dags"
    dags.mkdir()
    shutil.copy(REPO / "dags/mlops_pipelines.py", dags / "mlops_pipelines.py")
    (dags / "defaults.yaml").write_text(yaml.safe_dump(DEFAULTS))
    _drop(dags, "churn_services.yaml", _realtime("churn-services"), aws)
    bad = _realtime("churn-typo")
    bad["model_nmae"] = bad.pop("model_name")
    (dags / "team").mkdir()
    (dags / "team" / "churn_typo.yaml").write_text(yaml.safe_dump(bad))
    services = AirflowServices(
        home=root / "airflow-home",
        dags_folder=dags,
        env={**connection_env(["aws_default"], local_aws.endpoint_url), "MLOPS_ORCHESTRATOR_POLL_SECONDS": "1"},
    )
    with services:
        yield services, services.client(), dags
    control.set_settings(**before.to_dict())


def test_a_run_triggered_through_the_rest_api_deploys_and_defers_its_waits(deployment, aws):
    services, api, _ = deployment
    api.wait_for_dag("churn_services")
    run = api.trigger("churn_services")
    seen: dict[str, set[str]] = {}
    finished = api.wait_for_run("churn_services", run["dag_run_id"], seen=seen)

    states = api.task_states("churn_services", run["dag_run_id"])
    assert finished["state"] == "success", (states, api.failed_task_logs("churn_services", run["dag_run_id"]))
    assert states == {
        "deploy_stack": "success",
        "deployed": "success",
        "delete_stack": "skipped",
    }
    # the stack's wait left the worker: the task was deferred and the triggerer resumed it
    assert "deferred" in seen["deploy_stack"], seen
    stacks = {s["StackName"]: s["StackStatus"] for s in aws("cloudformation").describe_stacks()["Stacks"]}
    assert stacks.get("mlops-pipeline-churn-services-byompipelinerealtimebuiltin") == "CREATE_COMPLETE", stacks
    endpoint = aws("sagemaker").describe_endpoint(EndpointName="churn-services-endpoint")
    assert endpoint["EndpointStatus"] == "InService"


def test_a_bad_config_shows_its_file_and_field_and_the_others_still_load(deployment):
    _, api, _ = deployment
    dag = api.wait_for_dag("churn_typo")
    assert "invalid-config" in {tag["name"] for tag in dag["tags"]}
    assert dag["is_paused"] is True
    details = api.dag_details("churn_typo")
    text = f"{details.get('description')}\n{details.get('doc_md')}"
    assert "team/churn_typo.yaml: model_nmae: unknown field; did you mean 'model_name'?" in text
    assert api.import_errors() == []  # one bad config takes no other DAG down
    assert api.dag("churn_services") is not None


def test_a_config_added_while_airflow_runs_becomes_a_dag_without_a_restart(deployment, aws):
    services, api, dags = deployment
    pids = {name: process.pid for name, process in services.processes.items()}
    assert api.dag("churn_added") is None
    _drop(dags, "churn_added.yaml", _realtime("churn-added"), aws)

    api.wait_for_dag("churn_added", timeout=90)
    run = api.trigger("churn_added")
    finished = api.wait_for_run("churn_added", run["dag_run_id"])
    assert finished["state"] == "success", api.failed_task_logs("churn_added", run["dag_run_id"])
    assert {name: process.pid for name, process in services.processes.items()} == pids
    services.check_running()
