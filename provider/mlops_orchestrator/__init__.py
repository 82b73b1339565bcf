"""Run AWS MLOps Workload Orchestrator (MWO) pipelines on Apache Airflow, from config files."""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict:
    """Describe this package to Airflow's ProvidersManager (the apache_airflow_provider entry point)."""
    return {
        "package-name": "airflow-provider-mlops-orchestrator",
        "name": "MLOps Orchestrator",
        "description": "SageMaker MLOps pipelines (the successor of AWS MLOps Workload Orchestrator) "
        "built from YAML/JSON configs.",
        "versions": [__version__],
        "hook-class-names": [],
        "connection-types": [],
        "extra-links": [
            "mlops_orchestrator.links.sagemaker.SageMakerEndpointConsoleLink",
            "mlops_orchestrator.links.cloudformation.CloudFormationStackConsoleLink",
        ],
    }
