"""model_training_builtin / model_tuner_builtin / model_autopilot_training: train, register, approve, deploy.

DAG (deploy, the default action)::

    deploy_role_stack -> train | tune | autopilot
        [-> register_model -> (approve_model | check_threshold) -> approve_model_version | reject_model_version]
        [-> deploy.deploy_stack (-> deploy.batch_transform)]

- ``deploy_role_stack`` deploys ``cloudformation/training-role.yaml``: the execution role the job
  runs as, scoped to the training data, the output location, the SageMaker logs, KMS and VPC.
- The job (one per DAG run, re-attached on retry) is run by the DAG, not by the stack.
- When registering (``model_package_group_name``, ``use_model_registry`` or a ``deploy`` section),
  ``register_model`` adds a version to the group: Approved at once (``model_approval: automatic``),
  or PendingManualApproval followed by a decision: a person in the Airflow UI (``approve_model``,
  human in the loop) or the metric threshold (``check_threshold``). The decision is written to
  SageMaker by ``approve_model_version`` or ``reject_model_version``; a rejected version is never
  deployed. Approved versions are published as asset events of the group's alias. Each version
  gets a model card (``{group}-v{version}``: the version, its training job and metrics, the
  config's ``model_card`` intended uses), written by ``register_model`` and brought in step with
  the decision by ``approve_model_version`` / ``reject_model_version`` (``model_card: false``: none).
- With a ``deploy`` section, the ``deploy`` task group deploys the approved version like a
  byom_realtime_* (endpoint stack) or byom_batch_* (model stack and one transform job) pipeline.

Deprovision (``action: deprovision``): deploy_role_stack skips itself, and ``stop_training_jobs``
(after it, trigger rule ``all_skipped``: see ``actions``) stops this pipeline's running jobs, then
the deployment stack and the role stack are deleted. Registered model versions and the artifacts in S3 are kept: they are
the pipeline's results, not its infrastructure.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import TaskGroup

from mlops_orchestrator.factory import batch, promotion, realtime
from mlops_orchestrator.factory.actions import deploy_or_deprovision
from mlops_orchestrator.factory.dag_options import building, new_dag
from mlops_orchestrator.factory.steps import stack_tags
from mlops_orchestrator.notifications import notifiers_for
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployStackOperator
from mlops_orchestrator.operators.model_registry import (
    APPROVED,
    PENDING,
    REJECTED,
    ApprovalThresholdOperator,
    ModelApprovalGateOperator,
    RegisterModelVersionOperator,
    SetApprovalStatusOperator,
    model_package_alias_name,
)
from mlops_orchestrator.operators.sagemaker_training import (
    AutopilotJobOperator,
    TrainingJobOperator,
    TuningJobOperator,
)
from mlops_orchestrator.operators.stop_jobs import StopPipelineJobsOperator
from mlops_orchestrator.operators.training_requests import (
    autopilot_request,
    job_name_for,
    job_name_prefix,
    training_request,
    tuning_request,
)

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.config.training import TrainingPipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

BLUEPRINT = "training-role.yaml"
#: The role the jobs run as: the role stack's output, read when the job's task runs.
ROLE_ARN = "{{ ti.xcom_pull(task_ids='deploy_role_stack')['outputs']['RoleArn'] }}"
#: pipeline_type -> (task id of its job, job kind of ``job_name_for``, role blueprint's JobKind)
JOBS: dict[str, tuple[str, str, str]] = {
    "model_training_builtin": ("train", "training", "training"),
    "model_tuner_builtin": ("tune", "tuning", "tuning"),
    "model_autopilot_training": ("autopilot", "automl", "autopilot"),
}
REGISTERED_ARN = "{{ ti.xcom_pull(task_ids='register_model')['model_package_arn'] }}"
_MIME = {"csv": "text/csv", "libsvm": "text/libsvm", "json": "application/json", "jsonlines": "application/jsonlines"}
_GATE_BODY = """\
Training job `{{ ti.xcom_pull(task_ids='register_model')['training_job'] }}` registered
`{{ ti.xcom_pull(task_ids='register_model')['model_package_arn'] }}` (PendingManualApproval).

| metric | value |
|---|---|
{% for name, value in (ti.xcom_pull(task_ids='register_model')['metrics'] or {}).items() -%}
| {{ name }} | {{ value }} |
{% endfor %}
Approve to set the version Approved{deploy_note}; Reject to set it Rejected (nothing is deployed).
"""


# --------------------------------------------------------------------------------------------
# parse-time pieces (pure functions of the config)
# --------------------------------------------------------------------------------------------


def _bucket_and_key(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.rstrip("/")


def role_stack_parameters(config: TrainingPipelineConfig, stage: str) -> dict[str, Any]:
    """The training-role blueprint's parameters (all known at parse time)."""
    data_bucket, data_key = _bucket_and_key(config.s3_uri("training_data", stage))
    out_bucket, out_key = _bucket_and_key(config.s3_uri("job_output_location", stage))
    parameters: dict[str, Any] = {
        "ModelName": config.model_name,
        "JobKind": JOBS[config.pipeline_type][2],
        "TrainingDataS3Path": f"{data_bucket}/{data_key}" if data_key else f"{data_bucket}/",
        "TrainingDataBucket": data_bucket,
        "TrainingDataPrefix": data_key,
        "OutputS3Path": f"{out_bucket}/{out_key}" if out_key else out_bucket,
        "OutputBucket": out_bucket,
        "OutputPrefix": out_key,
        "KmsKeyArn": config.for_stage("kms_key_arn", stage) or "",
        "SubnetIds": ",".join(config.subnet_ids or []),
    }
    if getattr(config, "validation_data", None):
        bucket, key = _bucket_and_key(config.s3_uri("validation_data", stage))
        parameters.update(
            ValidationDataS3Path=f"{bucket}/{key}" if key else f"{bucket}/",
            ValidationDataBucket=bucket,
            ValidationDataPrefix=key,
        )
    return parameters


def job_request(config: TrainingPipelineConfig, stage: str) -> dict[str, Any]:
    """The job's create request (its image, for a built-in algorithm, is looked up at run time)."""
    if config.pipeline_type == "model_training_builtin":
        return training_request(config, stage, role_arn=ROLE_ARN, image_uri=None)
    if config.pipeline_type == "model_tuner_builtin":
        return tuning_request(config, stage, role_arn=ROLE_ARN, image_uri=None)
    return autopilot_request(config, stage, role_arn=ROLE_ARN)


def deployment_config(config: TrainingPipelineConfig) -> PipelineConfig:
    """
    The ``deploy`` section as the realtime or batch config it stands for, so the deployment is
    built by the same code as a byom_realtime_* / byom_batch_* pipeline. Its model is the
    registered version (given to the tasks as a template), so no model field is set; the section
    and the training config are validated already.
    """
    from mlops_orchestrator.config.batch import BatchBuiltinConfig
    from mlops_orchestrator.config.realtime import RealtimeBuiltinConfig

    deploy = config.deploy
    assert deploy is not None
    shared = {
        "model_name": config.model_name,
        "inference_instance": deploy.inference_instance,
        "kms_key_arn": deploy.kms_key_arn or config.kms_key_arn,
        "aws_conn_id": config.aws_conn_id,
        "region_name": config.region_name,
        "assets_bucket": config.assets_bucket,
        "use_model_registry": True,
        "stage": config.stage,
        "stages": config.stages,
        "multi_account": config.multi_account,
        "subnet_ids": config.subnet_ids,
        "security_group_ids": config.security_group_ids,
        "notifications": config.notifications,
    }
    if deploy.type == "realtime":
        return RealtimeBuiltinConfig.model_construct(
            pipeline_type="byom_realtime_builtin",
            data_capture_location=deploy.data_capture_location,
            endpoint_name=deploy.endpoint_name,
            **shared,
        )
    return BatchBuiltinConfig.model_construct(
        pipeline_type="byom_batch_builtin",
        batch_inference_data=deploy.batch_inference_data,
        batch_job_output_location=deploy.batch_job_output_location,
        content_type=deploy.content_type,
        accept=deploy.accept,
        split_type=deploy.split_type,
        assemble_with=deploy.assemble_with,
        instance_count=deploy.instance_count,
        **shared,
    )


def deploy_stack_name(config: TrainingPipelineConfig, ctx: BuildContext) -> str:
    """The deployment's stack: ``deploy.stack_name``, else the role stack's name + ``-realtime``/``-batch``."""
    assert config.deploy is not None
    if config.deploy.stack_name:
        return config.deploy.stack_name
    return f"{config.stack_name_or_default(ctx.dag_id)[: 128 - 9]}-{config.deploy.type}"


def content_types(config: TrainingPipelineConfig) -> tuple[list[str], list[str]]:
    """What the registered version takes and answers: the batch deployment's, else the training data's."""
    deploy = config.deploy
    if deploy is not None and deploy.type == "batch":
        return [deploy.content_type], [deploy.accept or deploy.content_type]
    raw = str(getattr(config, "content_type", "csv")).strip()
    mime = raw if "/" in raw else _MIME.get(raw.lower(), "text/csv")
    return [mime], [mime]


# --------------------------------------------------------------------------------------------
# the DAG
# --------------------------------------------------------------------------------------------


def _job_task(config: TrainingPipelineConfig, ctx: BuildContext, stage: str, tags: dict[str, str], aws: dict):
    task_id = JOBS[config.pipeline_type][0]
    shared = {
        "task_id": task_id,
        "request": job_request(config, stage),
        "job_name_prefix": job_name_prefix(config),
        "role_arn": ROLE_ARN,
        "tags": tags,
        "check_interval": ctx.poll_seconds,
        **aws,
    }
    if config.pipeline_type == "model_autopilot_training":
        return AutopilotJobOperator(**shared)
    builtin = {
        "model_framework": config.model_framework,
        "model_framework_version": config.model_framework_version,
        "instance_type": config.for_stage("instance_type", stage),
    }
    operator = TrainingJobOperator if config.pipeline_type == "model_training_builtin" else TuningJobOperator
    return operator(**shared, **builtin)


def _deployment_instances(config: TrainingPipelineConfig) -> list[str]:
    """The instance types the deployment uses, in every stage it deploys to (registered with the version)."""
    target = deployment_config(config)
    return list(dict.fromkeys(target.for_stage("inference_instance", s) for s in promotion.stages(target)))


def _stage_accounts(config: TrainingPipelineConfig) -> list[str]:
    """The accounts a deploy section promotes the registered version to (its group is shared with them)."""
    if config.deploy is None or not config.is_multi_account:
        return []
    return [config.stages.account(stage).account_id for stage in config.stages.names()]


def _registry_tasks(
    config: TrainingPipelineConfig, ctx: BuildContext, stage: str, job: Any, tags: dict[str, str], aws: dict
):
    """register_model and the approval decision; returns the task after which an approved version is ready."""
    group = config.package_group
    alias = model_package_alias_name(group)
    mode = config.approval_mode
    accepts, answers = content_types(config)
    deploy = config.deploy
    instances = _deployment_instances(config) if deploy else []
    register = RegisterModelVersionOperator(
        task_id="register_model",
        model_package_group_name=group,
        training=job.output,
        approval_status=APPROVED if mode == "automatic" else PENDING,
        content_types=accepts,
        response_types=answers,
        inference_instances=instances if deploy and deploy.type == "realtime" else [],
        transform_instances=instances if deploy and deploy.type == "batch" else [],
        metrics_location=config.s3_uri("job_output_location", stage),
        tags=tags,
        asset_alias=alias,
        share_with_accounts=_stage_accounts(config),
        model_card=config.model_card_settings(),
        **aws,
    )
    if mode == "automatic":
        return register
    decide_id = "approve_model" if mode == "manual" else "check_threshold"
    description = f"{{{{ ti.xcom_pull(task_ids='{decide_id}', key='decision')['description'] }}}}"
    approve = SetApprovalStatusOperator(
        task_id="approve_model_version",
        model_package_arn=REGISTERED_ARN,
        approval_status=APPROVED,
        approval_description=description,
        asset_alias=alias,
        model_card=config.model_card_settings(),
        **aws,
    )
    reject = SetApprovalStatusOperator(
        task_id="reject_model_version",
        model_package_arn=REGISTERED_ARN,
        approval_status=REJECTED,
        approval_description=description,
        model_card=config.model_card_settings(),
        **aws,
    )
    if mode == "manual":
        deploy_note = " and deploy it" if deploy else ""
        hours = config.approval_timeout_hours
        timeout_note = f"\nUnanswered after {hours} hour(s), the version is rejected.\n" if hours else ""
        decide = ModelApprovalGateOperator(
            task_id="approve_model",
            subject=f"Approve version {{{{ ti.xcom_pull(task_ids='register_model')['version'] }}}} of {group}?",
            body=_GATE_BODY.replace("{deploy_note}", deploy_note) + timeout_note,
            approve_task_id=approve.task_id,
            reject_task_id=reject.task_id,
            response_timeout=timedelta(hours=hours) if hours else None,
            notifiers=notifiers_for(config, "approval", ctx.relative_path),
        )
    else:
        threshold = config.approval_threshold
        decide = ApprovalThresholdOperator(
            task_id="check_threshold",
            training=job.output,
            metric=threshold.metric,
            min_value=threshold.min,
            max_value=threshold.max,
            approve_task_id=approve.task_id,
            reject_task_id=reject.task_id,
        )
    register >> decide >> [approve, reject]
    return approve


def build_training_dag(config: TrainingPipelineConfig, ctx: BuildContext) -> DAG:
    dag = new_dag(config, ctx)
    stage = config.stage
    role_stack = config.stack_name_or_default(ctx.dag_id)
    aws = {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}
    poll = {"waiter_delay": ctx.poll_seconds}
    tags = stack_tags(config, ctx, model_name=config.model_name)
    task_id, kind, _ = JOBS[config.pipeline_type]
    with building(dag):
        role = DeployStackOperator(
            task_id="deploy_role_stack",
            stack_name=role_stack,
            blueprint=BLUEPRINT,
            parameters=role_stack_parameters(config, stage),
            tags=tags,
            **aws,
            **poll,
        )
        job = _job_task(config, ctx, stage, tags, aws)
        role >> job
        if config.registers_model:
            ready = _registry_tasks(config, ctx, stage, job, tags, aws)
            if config.deploy is not None:
                with TaskGroup(group_id="deploy") as group:
                    _deployment_tasks(config, ctx, tags)
                ready >> group

        stop = StopPipelineJobsOperator(
            task_id="stop_training_jobs",
            job_kind=kind,
            name_contains=job_name_for(kind, job_name_prefix(config), "", "")[:-13],
            tags={"mlops-orchestrator:dag-id": ctx.dag_id},
            **aws,
        )
        delete_role = DeleteStackOperator(task_id="delete_role_stack", stack_name=role_stack, **aws, **poll)
        deploy_or_deprovision(role, stop)
        last = stop
        if config.deploy is not None:
            remove, removed = _removal_tasks(config, ctx)
            last >> remove
            last = removed
        last >> delete_role
    return dag


def _deployment_tasks(config: TrainingPipelineConfig, ctx: BuildContext, tags: dict[str, str]) -> None:
    """
    The deploy section's tasks (inside the ``deploy`` group), deploying the registered version;
    with ``stages``, promoted stage by stage (``deploy.dev.deploy_stack``, ``deploy.staging...``).
    """
    target = deployment_config(config)
    build = realtime.realtime_deployment_tasks if config.deploy.type == "realtime" else batch.batch_deployment_tasks
    build(target, ctx, deploy_stack_name(config, ctx), model_package_name=REGISTERED_ARN, tags=tags)


def _removal_tasks(config: TrainingPipelineConfig, ctx: BuildContext) -> tuple[Any, Any]:
    """Deprovision the deployment: [stop_transform_jobs ->] delete_deploy_stack, per stage (prod first)."""
    target = deployment_config(config)

    def stage_tasks(stage: str) -> tuple[Any, Any]:
        delete = promotion.delete_stack_task(
            target, ctx, stage, stack_name=deploy_stack_name(config, ctx), task_id="delete_deploy_stack"
        )
        if config.deploy.type != "batch":
            return delete, delete
        stop = batch.stop_transform_jobs_task(target, ctx, stage)
        stop >> delete
        return stop, delete

    return promotion.deprovision(target, stage_tasks)
