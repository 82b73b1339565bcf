"""Multi-account promotion: a deployment built once per stage, dev -> staging -> prod, with gates.

When a config (or its defaults file) has ``stages``, a deployment pipeline's tasks are built once
per stage, each in a task group named after the stage, in promotion order; before each stage but
the first sits its gate (``approval: manual`` by default: a person approves in the Airflow UI).
Each stage deploys the same blueprint with that stage's values. How a stage's stack reaches its
account is ``multi_account.method``:

- ``stackset`` (MWO's way): a StackSet ``{stack}-{stage}`` created from the orchestrator account,
  whose one instance is the stage's account (self-managed), or its organizational unit narrowed
  to that account (service-managed; the whole unit with ``whole_org_unit``);
- ``assume_role``: the stack ``{stack}-{stage}`` deployed by the ordinary stack operators through
  the stage's Airflow connection, whose extra holds the role to assume there.

Work a stack cannot do (a transform job, a monitor's baseline and schedule) runs through the
stage's connection in both cases. Without ``stages`` everything here falls back to the single
account deployment of before (the config's connection, region and ``stage``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import TaskGroup

from mlops_orchestrator.notifications import notifiers_for
from mlops_orchestrator.operators.cloudformation import (
    DeleteStackOperator,
    DeployEndpointStackOperator,
    DeployStackOperator,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext
    from mlops_orchestrator.operators.promotion_gate import PromotionGateOperator

#: builds one stage's tasks (inside its task group); returns (first task, last task)
StageBuilder = Callable[[str], "tuple[BaseOperator, BaseOperator]"]


def stages(config: PipelineConfig) -> list[str]:
    """The stages this pipeline deploys to, in order (the single ``stage`` without ``stages``)."""
    return config.stages.names() if config.is_multi_account else [config.stage]


def stage_region(config: PipelineConfig, stage: str) -> str | None:
    """The region a stage deploys in: the stage's ``region``, else the pipeline's (None: the connection's)."""
    if config.is_multi_account:
        return config.stages.account(stage).region or config.region_name
    return config.region_name


def stage_aws(config: PipelineConfig, stage: str) -> dict[str, Any]:
    """Connection and region for AWS calls inside a stage's account (jobs, schedules, stacks)."""
    if not config.is_multi_account:
        return {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}
    account = config.stages.account(stage)
    return {"aws_conn_id": account.aws_conn_id or config.aws_conn_id, "region_name": stage_region(config, stage)}


def orchestrator_aws(config: PipelineConfig) -> dict[str, Any]:
    """Connection and region of the orchestrator account (registry, assets, StackSet administration)."""
    return {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}


def stage_stack_name(config: PipelineConfig, stack_name: str, stage: str) -> str:
    """The stack (or stack set) of one stage: ``{stack}-{stage}`` in multi-account mode, else ``stack``."""
    if not config.is_multi_account:
        return stack_name
    return f"{stack_name[: 128 - len(stage) - 1]}-{stage}"


def stage_tags(config: PipelineConfig, stage: str, tags: dict[str, str]) -> dict[str, str]:
    if not config.is_multi_account:
        return tags
    account = config.stages.account(stage)
    return {**tags, "mlops-orchestrator:stage": stage, "mlops-orchestrator:account": account.account_id}


def deploy_stack_task(
    config: PipelineConfig,
    ctx: BuildContext,
    stage: str,
    *,
    stack_name: str,
    blueprint: str,
    parameters: Any,
    tags: dict[str, str],
    task_id: str = "deploy_stack",
    endpoint: bool = False,
    model_source: dict[str, Any] | None = None,
) -> BaseOperator:
    """
    The task that deploys a stage's stack: a stack, or a stack set, as ``multi_account`` says
    (with ``model_source``, the model it resolves into the stack's parameters when it starts).
    """
    name = stage_stack_name(config, stack_name, stage)
    tags = stage_tags(config, stage, tags)
    settings = config.multi_account_settings
    if not config.is_multi_account or settings.method == "assume_role":
        operator = DeployEndpointStackOperator if endpoint else DeployStackOperator
        return operator(
            task_id=task_id,
            stack_name=name,
            blueprint=blueprint,
            parameters=parameters,
            model_source=model_source,
            tags=tags,
            waiter_delay=ctx.poll_seconds,
            **stage_aws(config, stage),
        )
    # Imported here: single-account pipelines (most, and their parse) never need them.
    from mlops_orchestrator.operators.cloudformation_stackset import DeployStackSetOperator

    account = config.stages.account(stage)
    service = settings.permission_model == "service_managed"
    region = stage_region(config, stage)
    return DeployStackSetOperator(
        task_id=task_id,
        stack_set_name=name,
        blueprint=blueprint,
        parameters=parameters,
        model_source=model_source,
        tags=tags,
        accounts=[account.account_id],
        regions=[region] if region else None,
        org_unit_ids=[account.org_unit_id] if service and account.org_unit_id else [],
        whole_org_unit=settings.whole_org_unit,
        call_as=settings.call_as,
        administration_role_arn=settings.administration_role_arn,
        execution_role_name=settings.execution_role_name,
        operation_preferences=settings.operation_preferences.to_api() if settings.operation_preferences else None,
        outputs_aws_conn_id=account.aws_conn_id,
        waiter_delay=ctx.poll_seconds,
        **orchestrator_aws(config),
    )


def delete_stack_task(
    config: PipelineConfig, ctx: BuildContext, stage: str, *, stack_name: str, task_id: str = "delete_stack"
) -> BaseOperator:
    """The task that deletes a stage's stack (or its stack set's instances, then the stack set)."""
    name = stage_stack_name(config, stack_name, stage)
    settings = config.multi_account_settings
    if not config.is_multi_account or settings.method == "assume_role":
        return DeleteStackOperator(task_id=task_id, stack_name=name, waiter_delay=ctx.poll_seconds, **stage_aws(config, stage))
    from mlops_orchestrator.operators.cloudformation_stackset import DeleteStackSetOperator

    account = config.stages.account(stage)
    region = stage_region(config, stage)
    return DeleteStackSetOperator(
        task_id=task_id,
        stack_set_name=name,
        accounts=[account.account_id],
        regions=[region] if region else None,
        org_unit_ids=[account.org_unit_id] if settings.permission_model == "service_managed" and account.org_unit_id else [],
        call_as=settings.call_as,
        waiter_delay=ctx.poll_seconds,
        **orchestrator_aws(config),
    )


def gate_task(config: PipelineConfig, stage: str) -> PromotionGateOperator | None:
    """The manual gate before ``stage`` (None for an automatic one)."""
    if not config.is_multi_account or config.stages.gate(stage) != "manual":
        return None
    from mlops_orchestrator.operators.promotion_gate import PromotionGateOperator

    account = config.stages.account(stage)
    names = config.stages.names()
    before = names[: names.index(stage)]
    hours = config.multi_account_settings.approval_timeout_hours
    where = f"account {account.account_id}" + (f", {account.region}" if account.region else "")
    done = ", ".join(f"{s} ({config.stages.account(s).account_id})" for s in before) or "no stage yet"
    body = (
        f"Deployed so far in this run: {done}.\n\n"
        f"Approve to deploy `{getattr(config, 'model_name', None) or config.pipeline_type}` to **{stage}** "
        f"({where}) with that stage's values; Reject to stop the promotion here "
        f"(this stage and the ones after it are skipped)."
    )
    if hours:
        body += f"\n\nUnanswered after {hours:g} hour(s), the promotion is rejected."
    return PromotionGateOperator(
        task_id="approve_promotion",
        stage=stage,
        subject=f"Promote {{{{ dag.dag_id }}}} to {stage} ({where})?",
        body=body,
        response_timeout=timedelta(hours=hours) if hours else None,
        notifiers=notifiers_for(config, "approval"),
    )


def promote(config: PipelineConfig, build_stage: StageBuilder) -> tuple[BaseOperator, BaseOperator]:
    """
    Each stage's tasks, in its own task group, chained in promotion order with their gates.

    Without ``stages`` this is ``build_stage(config.stage)`` as it is (no group, no gate), so the
    single-account DAGs keep their task ids. Returns (the first task, the last task).
    """
    if not config.is_multi_account:
        return build_stage(config.stage)

    def gated(stage: str) -> tuple[BaseOperator, BaseOperator]:
        gate = gate_task(config, stage)
        start, end = build_stage(stage)
        if gate is None:
            return start, end
        gate >> start
        return gate, end

    return _chained(stages(config), lambda stage: stage, gated)


def promoted_deployment(
    config: PipelineConfig, build_stage: Callable[[str, str | None], tuple[BaseOperator, BaseOperator]]
) -> tuple[BaseOperator, BaseOperator]:
    """
    ``[resolve_image ->]`` each stage's deployment, promoted in order: ``build_stage(stage,
    image_uri)`` gets the image an image builder published (read once, before every stage) when
    the config says ``custom_image_from``, else None. Returns (the first task, the last task).
    """
    from mlops_orchestrator.factory.steps import RESOLVED_IMAGE, image_source_task

    image = image_source_task(config, **orchestrator_aws(config))
    image_uri = RESOLVED_IMAGE if image is not None else None
    first, last = promote(config, lambda stage: build_stage(stage, image_uri))
    if image is None:
        return first, last
    image >> first
    return image, last


def deprovision(config: PipelineConfig, build_stage: StageBuilder) -> tuple[BaseOperator, BaseOperator]:
    """Each stage's removal tasks, last stage first (prod, staging, dev), in the stages' task groups."""
    if not config.is_multi_account:
        return build_stage(config.stage)
    return _chained(list(reversed(stages(config))), lambda stage: f"{stage}_deprovision", build_stage)


def _chained(
    names: list[str], group_id: Callable[[str], str], build_stage: StageBuilder
) -> tuple[BaseOperator, BaseOperator]:
    """Each stage's tasks in a task group, each group after the one before."""
    first: BaseOperator | None = None
    previous: BaseOperator | None = None
    for stage in names:
        with TaskGroup(group_id=group_id(stage)):
            start, end = build_stage(stage)
        if previous is not None:
            previous >> start
        first = first or start
        previous = end
    assert first is not None and previous is not None
    return first, previous
