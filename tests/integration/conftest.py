"""Integration fixtures: the local AWS emulator over HTTP and real Airflow DAG runs (dag.test())."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

pytestmark = pytest.mark.integration

# Failing runs retry once (the default), quickly: the retry path runs too, without the 60 s wait.
DEFAULTS = {"assets_bucket": "it-assets", "region_name": "us-east-1", "retry_delay_seconds": 1}


@pytest.fixture(scope="session")
def local_aws():
    from mlops_orchestrator.local.server import LocalAws
    from mlops_orchestrator.local.settings import LocalAwsSettings

    with LocalAws(port=0, settings=LocalAwsSettings(endpoint_seconds=1, stack_seconds=1, job_seconds=1)) as aws:
        yield aws


@pytest.fixture
def control(local_aws):
    from mlops_orchestrator.local.control import LocalAwsControl

    ctl = LocalAwsControl(local_aws.endpoint_url)
    settings = ctl.get_settings()
    yield ctl
    ctl.clear_failures()
    ctl.set_settings(**settings.to_dict())


@pytest.fixture(scope="session")
def aws(local_aws) -> Callable[[str], Any]:
    """``aws("sagemaker")`` -> a boto3 client of the emulator, over HTTP."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return lambda service: session.client(service, endpoint_url=local_aws.endpoint_url)


@pytest.fixture(scope="session")
def airflow_ready():
    from mlops_orchestrator.run.dag_run import prepare_airflow

    return prepare_airflow(Path(os.environ["AIRFLOW_HOME"]))


@pytest.fixture
def run_config(tmp_path: Path, local_aws, aws, airflow_ready):
    """
    Write a config (dict) into a config folder with a defaults file, seed the inputs it points
    at, run its DAG for real, and return the run report with the AWS resources it left.
    """
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "defaults.yaml").write_text(yaml.safe_dump(DEFAULTS))

    def run(config: dict[str, Any], name: str = "pipeline.yaml", action: str = "deploy") -> dict[str, Any]:
        from mlops_orchestrator.config import load_config
        from mlops_orchestrator.run.accounts import prepare_stage_accounts
        from mlops_orchestrator.run.airflow_env import set_local_aws_connection
        from mlops_orchestrator.run.dag_run import run_pipeline
        from mlops_orchestrator.run.inputs import seed_inputs
        from mlops_orchestrator.run.resources import pipeline_resources

        path = folder / name
        text = json.dumps(config) if name.endswith(".json") else yaml.safe_dump(config)
        path.write_text(text)
        loaded = load_config(path, root=folder)
        set_local_aws_connection(loaded.aws_conn_id, local_aws.endpoint_url, "us-east-1")
        prepare_stage_accounts(loaded, local_aws.endpoint_url, "us-east-1")
        if action == "deploy":
            seed_inputs(loaded, aws, "us-east-1")
        report = run_pipeline(path, config_root=folder, action=action, home=airflow_ready).to_dict()
        report["resources"] = pipeline_resources(aws, report["dag_id"])
        return report

    run.folder = folder
    return run
