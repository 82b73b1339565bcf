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
            "instance_type": "ml.c5.xlarge",
            "failure_reason": None,
        }
    ]


def test_run_local_promotes_the_multi_account_example_and_reports_each_account(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow-home")}
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    example = REPO / "dags" / "examples" / "multi_account" / "realtime_multi_account.json"
    result = subprocess.run(
        [COMMAND, "run", str(example), "--local", "--json", "--config-root", str(REPO / "dags")],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout)
    expected = {"dev": ("111111111111", "ml.m5.large"), "staging": ("222222222222", "ml.m5.xlarge"),
                "prod": ("333333333333", "ml.c5.2xlarge")}
    assert {stage: found["account"] for stage, found in report["stages"].items()} == {
        stage: account for stage, (account, _) in expected.items()
    }
    for stage, (_, instance_type) in expected.items():
        (endpoint,) = report["stages"][stage]["resources"]["endpoints"]
        assert (endpoint["name"], endpoint["status"], endpoint["instance_type"]) == (
            "churn-xgboost-multi", "InService", instance_type
        )
    stack_sets = {s["name"]: s["instances"] for s in report["resources"]["stack_sets"]}
    assert stack_sets["mlops-pipeline-churn-xgboost-multi-byompipelinerealtimebuiltin-prod"] == [
        {"account": "333333333333", "region": "us-east-1", "status": "CURRENT", "reason": None}
    ]


def test_run_refuses_an_invalid_config_with_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline_type: byom_realtime_custom\nmodel_name: x\n")
    result = subprocess.run([COMMAND, "run", str(bad), "--local"], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert f"{bad}: custom_image_uri: field required" in result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_local_aws_serves_until_terminated():
    import signal
    import time
    import urllib.request

    import boto3

    port = _free_port()
    server = subprocess.Popen(
        [COMMAND, "local-aws", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                info = json.loads(urllib.request.urlopen(f"{url}/_mlops_local/", timeout=2).read())
                break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not start"
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.3)
        assert info["region"] == "us-east-1"
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="from-another-process")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["from-another-process"]
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert f"listening on http://127.0.0.1:{port}" in out
