"""byom_realtime_builtin / byom_realtime_custom: a SageMaker real-time endpoint through CloudFormation.

DAG: choose_action -> resolve_model -> deploy_stack (deploy), or choose_action -> delete_stack
(deprovision). With ``custom_image_from`` (a byom_image_builder DAG id), ``resolve_image`` comes
first: the image that DAG published last (the latest event of its asset alias), by digest. The stack parameters are a pure function of the config and a stage, so the
multi-account work can deploy the same blueprint once per stage without touching this shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.python import BranchPythonOperator

from mlops_orchestrator.factory.callables import choose_action
from mlops_orchestrator.factory.dag_options import new_dag
from mlops_orchestrator.factory.steps import model_source_tasks, new_image_schedule, stack_tags
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployEndpointStackOperator

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


def realtime_deployment_tasks(
    config: PipelineConfig,
    ctx: BuildContext,
    stage: str,
    stack_name: str,
    *,
    model_package_name: str | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[BaseOperator, DeployEndpointStackOperator]:
    """
    ``[resolve_image ->] resolve_model -> deploy_stack`` of an endpoint, in the current DAG or
    task group: this DAG's deploy branch, and a training DAG's ``deploy`` section (there with
    ``model_package_name`` templated to the version it registered and approved).

    :return: (the first task, deploy_stack).
    """
    aws = {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}
    first, resolve = model_source_tasks(
        config, stage, stack_parameters(config, stage), model_package_name=model_package_name, **aws
    )
    deploy = DeployEndpointStackOperator(
        task_id="deploy_stack",
        stack_name=stack_name,
        blueprint=BLUEPRINT,
        parameters=resolve.output,
        tags=tags or stack_tags(config, ctx, model_name=config.model_name),
        waiter_delay=ctx.poll_seconds,
        **aws,
    )
    resolve >> deploy
    return first, deploy


def build_realtime_dag(config: PipelineConfig, ctx: BuildContext) -> DAG:
    dag = new_dag(config, ctx, schedule=new_image_schedule(config))
    stage = config.stage
    stack_name = config.stack_name_or_default(ctx.dag_id)
    aws = {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}
    poll = {"waiter_delay": ctx.poll_seconds}
    with dag:
        first, _ = realtime_deployment_tasks(config, ctx, stage, stack_name)
        delete = DeleteStackOperator(task_id="delete_stack", stack_name=stack_name, **aws, **poll)
        choose = BranchPythonOperator(
            task_id="choose_action",
            python_callable=choose_action,
            op_kwargs={"deploy": first.task_id, "deprovision": "delete_stack"},
        )
        choose >> first
        choose >> delete
    return dag
