"""byom_batch_builtin / byom_batch_custom: a SageMaker model through CloudFormation, then one batch
transform job per DAG run.

DAG::

    deploy_stack ─> batch_transform                                  (action = deploy)
         └─(action = deprovision)─> stop_transform_jobs ─> delete_stack

``deploy_stack`` resolves the model's image and artifacts, then deploys the stack; on a
deprovision run it skips itself and the deprovision path runs instead (see ``actions``).

The stack (``cloudformation/batch-model.yaml``) holds the model and its execution role; the
transform job is run by the DAG, not by the stack, so that it fails the run when it fails (MWO
fired it from a custom resource and only e-mailed a failure), runs again on every scheduled run,
and never makes a stack update wait for hours of scoring. Each run writes under its own folder of
``batch_job_output_location``; deprovisioning deletes the stack and leaves those outputs in S3.
With ``stages`` (multi-account) the three tasks are built once per stage (see ``promotion``);
each stage's transform job runs in its account, through the stage's connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_orchestrator.factory import promotion
from mlops_orchestrator.factory.actions import deploy_or_deprovision
from mlops_orchestrator.factory.dag_options import building, new_dag
from mlops_orchestrator.factory.steps import model_source_for, new_image_schedule, stack_tags
from mlops_orchestrator.operators.sagemaker import (
    MAX_JOB_NAME,
    BatchTransformOperator,
    StopTransformJobsOperator,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator
    from airflow.sdk import DAG

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

BLUEPRINT = "batch-model.yaml"


def model_from_stack(deploy_task_id: str) -> str:
    """The model the transform runs: the stack's output, read when the task runs."""
    return f"{{{{ ti.xcom_pull(task_ids='{deploy_task_id}')['outputs']['ModelName'] }}}}"


#: The model of this DAG's own deploy_stack.
MODEL_FROM_STACK = model_from_stack("deploy_stack")


def stack_parameters(config: PipelineConfig, stage: str) -> dict[str, Any]:
    """The blueprint parameters known before run time, for one stage."""
    input_path = config.for_stage("batch_inference_data", stage)
    bucket, _, prefix = input_path.partition("/")
    return {
        "ModelName": config.model_name,
        # bucket/ for a whole bucket, so that the role's object ARN is bucket/*, not bucket*
        "BatchInputS3Path": input_path if prefix else f"{bucket}/",
        "BatchInputBucket": bucket,
        "BatchInputPrefix": prefix,
        "BatchOutputS3Path": config.for_stage("batch_job_output_location", stage),
        "KmsKeyArn": config.for_stage("kms_key_arn", stage) or "",
        "SubnetIds": ",".join(config.subnet_ids or []),
        "SecurityGroupIds": ",".join(config.security_group_ids or []),
    }


def transform_request(config: PipelineConfig, stage: str) -> dict[str, Any]:
    """
    The CreateTransformJob request, but for what each run sets (job name, model, output path).

    MWO's job: the input prefix as CSV split by line, output assembled by line, one instance,
    KMS on output and volume when given. Content type, accept, split, assembly and instance
    count come from the config (those are their defaults).
    """
    kms_key = config.for_stage("kms_key_arn", stage)
    output: dict[str, Any] = {"AssembleWith": config.assemble_with}
    if config.accept:
        output["Accept"] = config.accept
    resources: dict[str, Any] = {
        "InstanceType": config.for_stage("inference_instance", stage),
        "InstanceCount": config.instance_count,
    }
    if kms_key:
        output["KmsKeyId"] = kms_key
        resources["VolumeKmsKeyId"] = kms_key
    return {
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": config.s3_uri("batch_inference_data", stage)}
            },
            "ContentType": config.content_type,
            "SplitType": config.split_type,
        },
        "TransformOutput": output,
        "TransformResources": resources,
    }


def batch_stage_tasks(
    config: PipelineConfig,
    ctx: BuildContext,
    stage: str,
    stack_name: str,
    *,
    model_package_name: str | None = None,
    image_uri: str | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[BaseOperator, BaseOperator]:
    """``deploy_stack -> batch_transform`` in one stage (the model resolved by deploy_stack); returns (first, last)."""
    tags = tags or stack_tags(config, ctx, model_name=config.model_name)
    source = model_source_for(config, stage, image_uri=image_uri, model_package_name=model_package_name)
    deploy = promotion.deploy_stack_task(
        config,
        ctx,
        stage,
        stack_name=stack_name,
        blueprint=BLUEPRINT,
        parameters=stack_parameters(config, stage),
        model_source=source,
        tags=tags,
    )
    transform = BatchTransformOperator(
        task_id="batch_transform",
        config=transform_request(config, stage),
        model_name=model_from_stack(deploy.task_id),
        job_name_prefix=config.model_name,
        output_location=config.s3_uri("batch_job_output_location", stage),
        tags=promotion.stage_tags(config, stage, tags),
        check_interval=ctx.poll_seconds,
        **promotion.stage_aws(config, stage),
    )
    deploy >> transform
    return deploy, transform


def batch_deployment_tasks(
    config: PipelineConfig,
    ctx: BuildContext,
    stack_name: str,
    *,
    model_package_name: str | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[BaseOperator, BaseOperator]:
    """
    ``[resolve_image ->] deploy_stack -> batch_transform``, in the current DAG or
    task group, once per stage with ``stages`` (each stage's transform runs in its account): this
    DAG's deploy branch, and a training DAG's ``deploy`` section (there with
    ``model_package_name`` templated to the version it registered and approved).

    :return: (the first task, the last task).
    """
    return promotion.promoted_deployment(
        config,
        lambda stage, image_uri: batch_stage_tasks(
            config,
            ctx,
            stage,
            stack_name,
            model_package_name=model_package_name,
            image_uri=image_uri,
            tags=tags,
        ),
    )


def stop_transform_jobs_task(config: PipelineConfig, ctx: BuildContext, stage: str) -> StopTransformJobsOperator:
    """Deprovision: stop this pipeline's transform jobs still running (found by name, confirmed by tag)."""
    return StopTransformJobsOperator(
        task_id="stop_transform_jobs",
        name_contains=config.model_name[: MAX_JOB_NAME - 13],
        tags={"mlops-orchestrator:dag-id": ctx.dag_id},
        **promotion.stage_aws(config, stage),
    )


def batch_removal_tasks(config: PipelineConfig, ctx: BuildContext, stack_name: str) -> tuple[BaseOperator, BaseOperator]:
    """``stop_transform_jobs -> delete_stack`` of every stage, last stage first; returns (first, last)."""

    def stage_tasks(stage: str) -> tuple[BaseOperator, BaseOperator]:
        stop = stop_transform_jobs_task(config, ctx, stage)
        delete = promotion.delete_stack_task(config, ctx, stage, stack_name=stack_name)
        stop >> delete
        return stop, delete

    return promotion.deprovision(config, stage_tasks)


def build_batch_dag(config: PipelineConfig, ctx: BuildContext) -> DAG:
    dag = new_dag(config, ctx, schedule=new_image_schedule(config))
    stack_name = config.stack_name_or_default(ctx.dag_id)
    with building(dag):
        first, _ = batch_deployment_tasks(config, ctx, stack_name)
        remove, _ = batch_removal_tasks(config, ctx, stack_name)
        deploy_or_deprovision(first, remove)
    return dag
