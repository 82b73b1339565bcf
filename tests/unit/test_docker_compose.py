"""docker-compose.yaml, checked statically (no Docker engine here): services, wiring, loopback ports."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import yaml
from mlops_orchestrator.cli import _parser

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def test_services_and_wiring():
    services = COMPOSE["services"]
    assert set(services) == {"local-aws", "airflow"}
    airflow = services["airflow"]
    assert airflow["depends_on"]["local-aws"]["condition"] == "service_healthy"
    connection = json.loads(airflow["environment"]["AIRFLOW_CONN_AWS_DEFAULT"])
    assert connection["conn_type"] == "aws"
    assert connection["extra"]["endpoint_url"] == "http://local-aws:5000"
    assert "./dags:/opt/airflow/dags:ro" in airflow["volumes"]


def test_ports_are_published_on_loopback_only():
    for service in COMPOSE["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_the_emulator_command_is_one_our_cli_accepts():
    command = COMPOSE["services"]["local-aws"]["command"]
    ours = command.split("&&", 1)[1].strip().rstrip('"')
    argv = shlex.split(ours)
    assert argv[0] == "mlops-orchestrator"
    args = _parser().parse_args(argv[1:])
    assert (args.command, args.host, args.port) == ("local-aws", "0.0.0.0", 5000)
