"""byom_realtime_builtin / byom_realtime_custom: a SageMaker real-time endpoint through CloudFormation.

DAG: choose_action -> resolve_model -> deploy_stack (deploy), or choose_action -> delete_stack
(deprovision). The stack parameters are a pure function of the config and a stage, so the
multi-account work can deploy the same blueprint once per stage without touching this shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.python import BranchPythonOperator

from mlops_orchestrator.factory.callables import choose_action
from mlops_orchestrator.factory.dag_options import new_dag
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployStackOperator
from mlops_orchestrator.operators.sagemaker import ResolveModelOperator

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

BLUEPRINT = "realtime-endpoint.yaml"


def default_endpoint_name(model_name: str) -> str:
    """MWO's endpoint name when none is given: ``{model_name}-endpoint``, lower case, <= 63 chars."""
    return f"{model_name}-endpoint".lower()[:63].rstrip("-")


def endpoint_name(config: PipelineConfig, stage: str) -> str:
    return config.for_stage("endpoint_name", stage) or default_endpoint_name(config.model_name)


def stack_parameters(config: PipelineConfig, stage: str) -> dict[str, Any]:
    """The blueprint parameters known before run time, for one stage."""
    return {
        "ModelName": config.model_name,
        "EndpointName": endpoint_name(config, stage),
        "InferenceInstance": config.for_stage("inference_instance", stage),
        "DataCaptureS3Path": config.for_stage("data_capture_location", stage),
        "KmsKeyArn": config.for_stage("kms_key_arn", stage) or "",
        "SubnetIds": ",".join(config.subnet_ids or []),
        "SecurityGroupIds": ",".join(config.security_group_ids or []),
    }


def stack_tags(config: PipelineConfig, ctx: BuildContext) -> dict[str, str]:
    """Tags on the stack (and so on its resources) that tie them back to the pipeline."""
    return {
        "mlops-orchestrator:dag-id": ctx.dag_id,
        "mlops-orchestrator:pipeline-type": config.pipeline_type,
        "mlops-orchestrator:model-name": config.model_name,
    }


def build_realtime_dag(config: PipelineConfig, ctx: BuildContext) -> DAG:
    dag = new_dag(config, ctx)
    stage = config.stage
    stack_name = config.stack_name_or_default(ctx.dag_id)
    aws = {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}
    poll = {"waiter_delay": ctx.poll_seconds}
    registered = bool(config.model_package_name)
    with dag:
        choose = BranchPythonOperator(
            task_id="choose_action",
            python_callable=choose_action,
            op_kwargs={"deploy": "resolve_model", "deprovision": "delete_stack"},
        )
        resolve = ResolveModelOperator(
            task_id="resolve_model",
            base_parameters=stack_parameters(config, stage),
            model_package_name=config.model_package_name,
            image_uri=getattr(config, "custom_image_uri", None),
            model_framework=None if registered else getattr(config, "model_framework", None),
            model_framework_version=None if registered else getattr(config, "model_framework_version", None),
            model_artifact_uri=None if registered else config.s3_uri("model_artifact_location"),
            instance_type=config.for_stage("inference_instance", stage),
            **aws,
        )
        deploy = DeployStackOperator(
            task_id="deploy_stack",
            stack_name=stack_name,
            blueprint=BLUEPRINT,
            parameters=resolve.output,
            tags=stack_tags(config, ctx),
            **aws,
            **poll,
        )
        delete = DeleteStackOperator(task_id="delete_stack", stack_name=stack_name, **aws, **poll)
        choose >> resolve >> deploy
        choose >> delete
    return dag
