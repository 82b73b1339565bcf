"""byom_realtime_builtin / byom_realtime_custom: a SageMaker real-time endpoint through CloudFormation.

DAG: choose_action -> resolve_model -> deploy_stack (deploy), or choose_action -> delete_stack
(deprovision). With ``custom_image_from`` (a byom_image_builder DAG id), ``resolve_image`` comes
first: the image that DAG published last (the latest event of its asset alias), by digest. The stack parameters are a pure function of the config and a stage, so the
multi-account work can deploy the same blueprint once per stage without touching this shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AssetAlias
from airflow.providers.standard.operators.python import BranchPythonOperator

from mlops_orchestrator.factory.callables import choose_action
from mlops_orchestrator.factory.dag_options import new_dag
from mlops_orchestrator.factory.steps import resolve_model_task, stack_tags
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployEndpointStackOperator
from mlops_orchestrator.operators.ecr import EcrResolveImageOperator, image_alias_name

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

BLUEPRINT = "realtime-endpoint.yaml"
#: With ``custom_image_from``, the image resolve_image found (the builder's latest, by digest).
RESOLVED_IMAGE = "{{ ti.xcom_pull(task_ids='resolve_image')['image_uri'] }}"


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


def build_realtime_dag(config: PipelineConfig, ctx: BuildContext) -> DAG:
    image_from = getattr(config, "custom_image_from", None)
    on_new_image = image_from and getattr(config, "deploy_on_new_image", False)
    # deploy_on_new_image: every image the builder publishes (through its asset alias) starts a run.
    dag = new_dag(config, ctx, schedule=[AssetAlias(name=image_alias_name(image_from))] if on_new_image else None)
    stage = config.stage
    stack_name = config.stack_name_or_default(ctx.dag_id)
    aws = {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}
    poll = {"waiter_delay": ctx.poll_seconds}
    with dag:
        choose = BranchPythonOperator(
            task_id="choose_action",
            python_callable=choose_action,
            op_kwargs={"deploy": "resolve_image" if image_from else "resolve_model", "deprovision": "delete_stack"},
        )
        resolve = resolve_model_task(
            config, stage, stack_parameters(config, stage), image_uri=RESOLVED_IMAGE if image_from else None, **aws
        )
        deploy = DeployEndpointStackOperator(
            task_id="deploy_stack",
            stack_name=stack_name,
            blueprint=BLUEPRINT,
            parameters=resolve.output,
            tags=stack_tags(config, ctx, model_name=config.model_name),
            **aws,
            **poll,
        )
        delete = DeleteStackOperator(task_id="delete_stack", stack_name=stack_name, **aws, **poll)
        if image_from:
            # The image an image builder DAG published last (its asset alias), instead of a literal URI.
            resolve_image = EcrResolveImageOperator(
                task_id="resolve_image", asset_alias=image_alias_name(image_from), source_dag_id=image_from, **aws
            )
            choose >> resolve_image >> resolve
        else:
            choose >> resolve
        resolve >> deploy
        choose >> delete
    return dag
