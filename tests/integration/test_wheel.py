"""The built wheel carries the blueprints and waiters the operators load (not just the checkout)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys, json
import mlops_orchestrator
from mlops_orchestrator.blueprint_files import blueprint_names, read_blueprint
from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook
waiters = json.loads(CloudFormationStackHook(aws_conn_id=None).waiter_path.read_text())["waiters"]
print(json.dumps({
    "file": mlops_orchestrator.__file__,
    "blueprints": blueprint_names(),
    "has_endpoint": "AWS::SageMaker::Endpoint" in read_blueprint("realtime-endpoint.yaml"),
    "waiters": sorted(waiters),
    "xgboost": __import__("mlops_orchestrator.images").images.builtin_image_uri("xgboost", "1.7-1", "eu-west-1"),
}))
"""


def test_wheel_ships_blueprints_and_waiters(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(REPO)],
        capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = dist.glob("airflow_provider_mlops_orchestrator-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlops_orchestrator/blueprints/realtime-endpoint.yaml" in names
    assert "mlops_orchestrator/waiters/cloudformation.json" in names
    assert "mlops_orchestrator/data/sagemaker_images.json" in names
    assert "mlops_orchestrator/api/static/pipelines.html" in names  # the pipelines page
    assert "mlops_orchestrator/api/static/pipelines.js" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "apache_airflow_provider" in text and "mlops-orchestrator = mlops_orchestrator.cli:main" in text
    assert "[airflow.plugins]\nmlops_orchestrator = mlops_orchestrator.api.plugin:MlopsOrchestratorPlugin" in text

    # Install it apart from the editable checkout and load the blueprint from there.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    import json

    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["file"].startswith(str(target))
    assert "realtime-endpoint.yaml" in found["blueprints"]
    assert found["has_endpoint"] is True
    assert found["waiters"] == ["StackDeleteComplete", "StackDeployComplete"]
    assert found["xgboost"] == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
