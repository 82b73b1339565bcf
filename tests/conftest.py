"""Test-wide set-up: a private Airflow home (SQLite) chosen before Airflow is first imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Airflow reads its configuration on first import: decide it here, before any test imports it.
_HOME = Path(tempfile.mkdtemp(prefix="mlops-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "run-dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["MLOPS_ORCHESTRATOR_POLL_SECONDS"] = "1"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _name in list(os.environ):
    if _name.startswith("MLOPS_ORCHESTRATOR_") and _name != "MLOPS_ORCHESTRATOR_POLL_SECONDS":
        del os.environ[_name]

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = _HOME


@pytest.fixture(autouse=True)
def _private_parse_state(tmp_path_factory, monkeypatch):
    """Each test's parses remember warnings and task ids in a folder of their own (warning_log.py,
    last_tasks.py): DAG ids repeat across tests, and what one test's DAG had must not become
    another's error DAG stand-ins."""
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_STATE_DIR", str(tmp_path_factory.mktemp("parse-state")))
