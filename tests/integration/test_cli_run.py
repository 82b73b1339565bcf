"""`mlops-orchestrator run CONFIG --local --json`: the command a user types, in its own process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
COMMAND = shutil.which("mlops-orchestrator", path=str(REPO / ".venv" / "bin")) or "mlops-orchestrator"


def test_run_local_deploys_the_example_and_prints_its_resources(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow-home")}
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    result = subprocess.run(
        [COMMAND, "run", str(REPO / "dags" / "examples" / "realtime_custom_image.json"), "--local", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout)
    assert report["state"] == "success"
    assert report["dag_id"] == "realtime_custom_image"
    assert "s3://mlops-orchestrator-assets/models/fraud-custom/model.tar.gz (sample object)" in report["inputs_created"]
    (stack,) = report["resources"]["stacks"]
    assert stack["status"] == "CREATE_COMPLETE"
    assert report["resources"]["endpoints"] == [
        {
            "name": "fraud-custom-endpoint",
            "status": "InService",
            "endpoint_config": stack["outputs"]["EndpointConfigName"],
            "failure_reason": None,
        }
    ]


def test_run_refuses_an_invalid_config_with_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline_type: byom_realtime_custom\nmodel_name: x\n")
    result = subprocess.run([COMMAND, "run", str(bad), "--local"], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert f"{bad}: custom_image_uri: field required" in result.stderr
