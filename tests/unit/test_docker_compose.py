"""
docker-compose.yaml, checked statically (no Docker engine here): the topology of Airflow's official
compose file (Postgres, init, scheduler, DAG processor, triggerer, API server) plus the emulator,
with the same Airflow components and settings that tests/integration/test_airflow_services.py runs
for real (mlops_orchestrator.run.services).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import yaml
from mlops_orchestrator.cli import _parser
from mlops_orchestrator.run.services import COMPONENTS, AirflowServices

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW = {name: s for name, s in SERVICES.items() if name.startswith("airflow-") and name != "airflow-init"}


def test_the_official_topology_with_local_executor_and_the_emulator():
    assert set(SERVICES) == {
        "postgres", "local-aws", "airflow-init",
        "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
    }
    # the same components the services test starts, one container each
    assert sorted(s["command"] for s in AIRFLOW.values()) == sorted(COMPONENTS)


def test_every_airflow_component_shares_the_settings_the_services_test_uses(tmp_path):
    harness = AirflowServices(home=tmp_path, dags_folder=tmp_path / "dags").environment()
    for name, service in {**AIRFLOW, "airflow-init": SERVICES["airflow-init"]}.items():
        env = service["environment"]
        for key in ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"):
            assert env[key] == harness[key], (name, key)
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:airflow@postgres/")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW_CONFIG"].startswith("/opt/airflow/config/")  # shared generated secrets
        connection = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
        assert connection["conn_type"] == "aws"
        assert connection["extra"]["endpoint_url"] == "http://local-aws:5000"
        install = env["_PIP_ADDITIONAL_REQUIREMENTS"].split()
        assert install[:2] == ["-c", "/opt/mlops-orchestrator/tests/mwaa/airflow-3.3.1-constraints.txt"]
        assert "airflow-provider-mlops-orchestrator[local]" in install
        assert (REPO / "tests/mwaa/airflow-3.3.1-constraints.txt").exists()
        assert "./dags:/opt/airflow/dags" in service["volumes"]
        assert "./plugins:/opt/airflow/plugins" in service["volumes"]
        assert "airflow-config:/opt/airflow/config" in service["volumes"]


def test_start_order_and_healthchecks():
    for name, service in AIRFLOW.items():
        depends = service["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["local-aws"]["condition"] == "service_healthy", name
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert service["healthcheck"]["test"], name
    assert SERVICES["airflow-init"]["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]
    assert "/_mlops_local/settings" in " ".join(SERVICES["local-aws"]["healthcheck"]["test"])
    assert SERVICES["local-aws"]["depends_on"] == {}
    # the API server's health is what AirflowServices waits for
    assert "/api/v2/monitor/health" in " ".join(SERVICES["airflow-apiserver"]["healthcheck"]["test"])
    assert "--job-type DagProcessorJob" in SERVICES["airflow-dag-processor"]["healthcheck"]["test"][1]
    assert "--job-type TriggererJob" in SERVICES["airflow-triggerer"]["healthcheck"]["test"][1]
    assert set(COMPOSE["volumes"]) == {"postgres-db-volume", "airflow-config", "airflow-logs"}


def test_ports_are_published_on_loopback_only():
    for service in SERVICES.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_the_emulator_command_is_one_our_cli_accepts():
    shell, flag, script = SERVICES["local-aws"]["command"]
    assert (shell, flag) == ("bash", "-c")
    argv = shlex.split(script)
    assert argv[:2] == ["exec", "mlops-orchestrator"]
    args = _parser().parse_args(argv[2:])
    assert (args.command, args.host, args.port) == ("local-aws", "0.0.0.0", 5000)
