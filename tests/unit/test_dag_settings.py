"""Airflow's config-read DAG defaults, read once per load: the DAGs get exactly what Airflow would give them.

``DAG()`` reads ``max_active_tasks_per_dag`` and the like from Airflow's config for every DAG
unless given; the loader reads them once per load and passes them (issue 13). These tests hold
the DAGs to Airflow's own defaults, a changed config to the next load, and the config's own
settings (catchup, one active run) to winning over them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import DAG
from mlops_orchestrator.factory import load_dags
from mlops_orchestrator.factory.dag_options import airflow_dag_settings

CONFIG = """\
pipeline_type: byom_realtime_builtin
model_name: churn
model_framework: xgboost
model_framework_version: "1.7-1"
model_artifact_location: s3://assets/models/churn.tar.gz
data_capture_location: assets/capture/churn
inference_instance: ml.m5.large
catchup: true
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "churn.yaml").write_text(CONFIG)
    return tmp_path


def test_the_settings_are_the_values_a_plain_dag_reads_from_airflow_s_config():
    settings = airflow_dag_settings()
    assert {"max_active_tasks", "max_consecutive_failed_dag_runs", "disable_bundle_versioning"} <= set(settings)
    plain = DAG("plain", schedule=None)
    for name, value in settings.items():
        assert getattr(plain, name) == value, name


def test_a_loaded_dag_has_airflow_s_defaults_and_a_changed_config_shows_at_the_next_load(folder, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG", "7")
    monkeypatch.setenv("AIRFLOW__CORE__MAX_CONSECUTIVE_FAILED_DAG_RUNS_PER_DAG", "3")
    dag = load_dags(folder)["churn"]
    assert (dag.max_active_tasks, dag.max_consecutive_failed_dag_runs) == (7, 3)
    assert dag.disable_bundle_versioning == DAG("plain", schedule=None).disable_bundle_versioning

    monkeypatch.setenv("AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG", "9")
    assert load_dags(folder)["churn"].max_active_tasks == 9  # read again by every load, never kept


def test_the_config_s_own_settings_win(folder, monkeypatch):
    monkeypatch.setenv("AIRFLOW__SCHEDULER__CATCHUP_BY_DEFAULT", "False")
    monkeypatch.setenv("AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG", "16")
    dag = load_dags(folder)["churn"]
    assert dag.catchup is True  # the config's
    assert dag.max_active_runs == 1  # a pipeline's runs never overlap
