"""A config's warnings under Airflow's real DAG processor, which parses every file again and again,
each time in a fresh process: they are logged once per change of the config, not at every parse."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = REPO / ".venv" / "bin" / "airflow"

CONFIG = """\
pipeline_type: byom_realtime_builtin
model_name: churn
model_framework: xgboost
model_framework_version: "1.7-1"
model_artifact_location: models/churn.tar.gz
data_capture_location: assets/capture/churn
inference_instance: ml.m5.large
tuner_configs: {max_jobs: 10}
"""
WARNING = "Pipeline config: team/mwo.yaml: tuner_configs: warning: ignored: used by model_tuner_builtin"
PARSE = "Filling up the DagBag from"


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    dags = home / "dags"
    (dags / "team").mkdir(parents=True)
    (dags / "mlops_pipelines.py").write_text((REPO / "dags" / "mlops_pipelines.py").read_text())
    (dags / "defaults.yaml").write_text("assets_bucket: assets\nregion_name: us-east-1\n")
    (dags / "team" / "mwo.yaml").write_text(CONFIG)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # the processor's "Filling up the DagBag" lines count parses
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "MLOPS_ORCHESTRATOR_STATE_DIR": str(tmp_path / "state"),
    }
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return env


def _log_lines(home: Path) -> list[str]:
    return [
        line
        for log in sorted((home / "logs" / "dag_processor").rglob("mlops_pipelines.py.log"))
        for line in log.read_text().splitlines()
    ]


def _wait_for(home: Path, done, what: str, timeout: float = 180) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = _log_lines(home)
        if done(lines):
            return lines
        time.sleep(1)
    raise AssertionError(f"waited {timeout} s for {what}:\n" + "\n".join(_log_lines(home)))


def _parses(lines: list[str]) -> int:
    return sum(PARSE in line for line in lines)


def _warnings(lines: list[str]) -> int:
    return sum(WARNING in line for line in lines)


def test_the_dag_processor_logs_a_configs_warnings_once_per_change(airflow_env):
    home = Path(airflow_env["AIRFLOW_HOME"])
    processor = subprocess.Popen(
        [str(AIRFLOW), "dag-processor"], env=airflow_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        lines = _wait_for(home, lambda lines: _parses(lines) >= 4, "4 parses")
        assert _warnings(lines) == 1, "\n".join(lines)

        (home / "dags" / "team" / "mwo.yaml").write_text(CONFIG + "description: changed\n")
        lines = _wait_for(home, lambda lines: _warnings(lines) == 2, "the changed config's warning")
        parsed = _parses(lines)
        lines = _wait_for(home, lambda lines: _parses(lines) >= parsed + 2, "2 more parses")
        assert _warnings(lines) == 2, "\n".join(lines)
    finally:
        processor.send_signal(signal.SIGTERM)
        try:
            processor.wait(timeout=30)
        except subprocess.TimeoutExpired:
            processor.kill()
            processor.wait()
