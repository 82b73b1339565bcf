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
        "integrations": [
            {
                "integration-name": "MLOps Orchestrator",
                "external-doc-url": "https://github.com/aws-solutions/mlops-workload-orchestrator",
                "tags": ["aws"],
            }
        ],
        "hooks": [
            {
                "integration-name": "MLOps Orchestrator",
                "python-modules": [
                    "mlops_orchestrator.hooks.cloudformation",
                    "mlops_orchestrator.hooks.cloudformation_stackset",
                    "mlops_orchestrator.hooks.codebuild",
                    "mlops_orchestrator.hooks.sagemaker_monitoring",
                    "mlops_orchestrator.hooks.sagemaker_training",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": "MLOps Orchestrator",
                "python-modules": [
                    "mlops_orchestrator.operators.cloudformation",
                    "mlops_orchestrator.operators.cloudformation_stackset",
                    "mlops_orchestrator.operators.promotion_gate",
                    "mlops_orchestrator.operators.sagemaker",
                    "mlops_orchestrator.operators.codebuild",
                    "mlops_orchestrator.operators.ecr",
                    "mlops_orchestrator.operators.model_monitor",
                    "mlops_orchestrator.operators.sagemaker_training",
                    "mlops_orchestrator.operators.model_registry",
                    "mlops_orchestrator.operators.stop_jobs",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "MLOps Orchestrator",
                "python-modules": [
                    "mlops_orchestrator.triggers.cloudformation",
                    "mlops_orchestrator.triggers.cloudformation_stackset",
                    "mlops_orchestrator.triggers.codebuild",
                    "mlops_orchestrator.triggers.sagemaker_monitoring",
                    "mlops_orchestrator.triggers.sagemaker_training",
                ],
            }
        ],
        "extra-links": [
            "mlops_orchestrator.links.sagemaker.SageMakerEndpointConsoleLink",
            "mlops_orchestrator.links.cloudformation.CloudFormationStackConsoleLink",
            "mlops_orchestrator.links.cloudformation.CloudFormationStackSetConsoleLink",
            "mlops_orchestrator.links.cloudformation.CloudFormationStackSetOperationConsoleLink",
            "mlops_orchestrator.links.codebuild.CodeBuildBuildConsoleLink",
            "mlops_orchestrator.links.sagemaker.SageMakerTrainingJobConsoleLink",
            "mlops_orchestrator.links.sagemaker.SageMakerTuningJobConsoleLink",
            "mlops_orchestrator.links.sagemaker.SageMakerAutopilotOutputLink",
        ],
    }
