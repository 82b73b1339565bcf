"""Airflow finds the provider through its entry point, with its links and triggers."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import mlops_orchestrator


def test_provider_info_matches_airflows_schema():
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(mlops_orchestrator.get_provider_info(), schema)


def test_providers_manager_lists_the_provider_and_its_links():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-mlops-orchestrator" in manager.providers
    assert manager.providers["airflow-provider-mlops-orchestrator"].version == mlops_orchestrator.__version__
    links = set(manager.extra_links_class_names)
    assert {
        "mlops_orchestrator.links.sagemaker.SageMakerEndpointConsoleLink",
        "mlops_orchestrator.links.cloudformation.CloudFormationStackConsoleLink",
    } <= links


def test_every_registered_module_imports():
    import importlib

    info = mlops_orchestrator.get_provider_info()
    for section in ("hooks", "operators", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in info["extra-links"]:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name)
