"""byom_realtime_builtin / byom_realtime_custom: a SageMaker real-time endpoint through CloudFormation.

DAG: ``deploy_stack`` (deploy: it resolves the model's image and artifacts, then deploys the
stack), or ``delete_stack`` (deprovision: it runs when deploy_stack skipped itself, see
``actions``). With ``custom_image_from`` (a byom_image_builder DAG id), ``resolve_image`` comes
first: the image that DAG published last (the latest event of its asset alias), by digest. With
``stages`` (multi-account), deploy_stack is built once per stage, in a task group per stage with a
gate before each stage but the first, and deprovisioning deletes every stage's stack, prod first
(see ``promotion``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_orchestrator.factory import promotion
from mlops_orchestrator.factory.actions import deploy_or_deprovision
from mlops_orchestrator.factory.dag_options import building, new_dag
from mlops_orchestrator.factory.steps import model_source_for, new_image_schedule, stack_tags

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator
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


def realtime_stage_tasks(
    config: PipelineConfig,
    ctx: BuildContext,
    stage: str,
    stack_name: str,
    *,
    model_package_name: str | None = None,
    image_uri: str | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[BaseOperator, BaseOperator]:
    """``deploy_stack`` of an endpoint in one stage (the model resolved by it); returns (first, last)."""
    source = model_source_for(config, stage, image_uri=image_uri, model_package_name=model_package_name)
    deploy = promotion.deploy_stack_task(
        config,
        ctx,
        stage,
        stack_name=stack_name,
        blueprint=BLUEPRINT,
        parameters=stack_parameters(config, stage),
        model_source=source,
        tags=tags or stack_tags(config, ctx, model_name=config.model_name),
        endpoint=True,
    )
    return deploy, deploy


def realtime_deployment_tasks(
    config: PipelineConfig,
    ctx: BuildContext,
    stack_name: str,
    *,
    model_package_name: str | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[BaseOperator, BaseOperator]:
    """
    ``[resolve_image ->] deploy_stack`` of an endpoint, in the current DAG or task group, once per
    stage with ``stages`` (``dev.deploy_stack -> staging.approve_promotion -> staging.deploy_stack
    ...``): this DAG's deploy path, and a
    training DAG's ``deploy`` section (there with ``model_package_name`` templated to the version
    it registered and approved).

    :return: (the first task, the last task).
    """
    return promotion.promoted_deployment(
        config,
        lambda stage, image_uri: realtime_stage_tasks(
            config,
            ctx,
            stage,
            stack_name,
            model_package_name=model_package_name,
            image_uri=image_uri,
            tags=tags,
        ),
    )


def realtime_removal_tasks(
    config: PipelineConfig, ctx: BuildContext, stack_name: str
) -> tuple[BaseOperator, BaseOperator]:
    """``delete_stack`` of every stage, last stage first; returns (first, last)."""

    def stage_tasks(stage: str) -> tuple[BaseOperator, BaseOperator]:
        delete = promotion.delete_stack_task(config, ctx, stage, stack_name=stack_name)
        return delete, delete

    return promotion.deprovision(config, stage_tasks)


def build_realtime_dag(config: PipelineConfig, ctx: BuildContext) -> DAG:
    dag = new_dag(config, ctx, schedule=new_image_schedule(config))
    stack_name = config.stack_name_or_default(ctx.dag_id)
    with building(dag):
        first, _ = realtime_deployment_tasks(config, ctx, stack_name)
        remove, _ = realtime_removal_tasks(config, ctx, stack_name)
        deploy_or_deprovision(first, remove)
    return dag
