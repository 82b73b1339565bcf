"""Operators that deploy and delete one pipeline stage's CloudFormation StackSet, waiting deferrably.

A stage of a multi-account pipeline is one stack set (``{stack}-{stage}``) whose instances are
that stage's account(s). Deploying plans one operation at a time from what the stack set holds
(``StackSetHook.next_deploy_step``), waits for it by OperationId in the triggerer, and plans again
until nothing is left to do, so a retried task re-attaches to a running operation, a run with
unchanged values does nothing, and an instance a failed create left behind is recovered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException

from mlops_orchestrator.blueprint_files import check_template_source, template_body
from mlops_orchestrator.hooks.cloudformation import parameter_value
from mlops_orchestrator.hooks.cloudformation_stackset import (
    StackSetHook,
    StackSetSpec,
    StackSetStep,
    StackSetTargets,
    operation_id_for,
)
from mlops_orchestrator.links.cloudformation import (
    CloudFormationStackSetConsoleLink,
    CloudFormationStackSetOperationConsoleLink,
)
from mlops_orchestrator.model_source import DeploysModelSource
from mlops_orchestrator.operators.waiting import DeferOrPollMixin
from mlops_orchestrator.triggers.cloudformation_stackset import StackSetOperationCompleteTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Operations one task try may start before it gives up (create + instances, recover + create...).
MAX_STEPS = 6


class _StackSetOperator(DeferOrPollMixin, AwsBaseOperator[StackSetHook]):
    """What deploy and delete share: targets, the plan-wait-plan loop, links and failure messages."""

    aws_hook_class = StackSetHook
    operator_extra_links = (CloudFormationStackSetConsoleLink(), CloudFormationStackSetOperationConsoleLink())

    def __init__(
        self,
        *,
        stack_set_name: str,
        accounts: Sequence[str] = (),
        regions: Sequence[str] | None = None,
        org_unit_ids: Sequence[str] = (),
        whole_org_unit: bool = False,
        call_as: str = "SELF",
        operation_preferences: dict[str, Any] | None = None,
        deferrable: bool = True,
        waiter_delay: int = 15,
        waiter_max_attempts: int = 960,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.stack_set_name = stack_set_name
        self.accounts = list(accounts)
        self.regions = list(regions) if regions else None
        self.org_unit_ids = list(org_unit_ids)
        self.whole_org_unit = whole_org_unit
        self.call_as = call_as.upper()
        self.operation_preferences = dict(operation_preferences or {})
        self.deferrable = deferrable
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        return {**super()._hook_parameters, "call_as": self.call_as}

    @property
    def targets(self) -> StackSetTargets:
        return StackSetTargets(
            accounts=tuple(self.accounts),
            regions=tuple(self.regions or [self.hook.conn_region_name]),
            org_unit_ids=tuple(self.org_unit_ids),
            whole_org_unit=self.whole_org_unit,
        )

    # -- the loop ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        return self._advance(context, done_steps=0)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        event = validate_execute_complete_event(event)
        operation = event["operation"]
        if event["status"] != "success":
            self._raise_failure(operation["operation_id"], event.get("message", ""))
        return self._advance(context, done_steps=int(operation["step"]))

    def _advance(self, context: Context, done_steps: int) -> Any:
        ti = context["ti"]
        step = done_steps
        while True:
            if step >= MAX_STEPS:
                raise AirflowException(
                    f"StackSet {self.stack_set_name} did not settle after {MAX_STEPS} operations in this try; "
                    "see its operations in the CloudFormation console"
                )
            operation_id = operation_id_for(
                ti.dag_id, ti.run_id, ti.task_id, str(ti.try_number), str(ti.map_index), step=step + 1
            )
            planned = self._plan(operation_id)
            if planned.operation_id is None:
                return self._result(context, planned)
            step += 1
            self._persist_links(context, planned.operation_id)
            self.log.info(
                "StackSet %s: %s (operation %s) in %s",
                self.stack_set_name,
                planned.action,
                planned.operation_id,
                ", ".join(planned.accounts) or "its accounts",
            )
            trigger = StackSetOperationCompleteTrigger(
                stack_set_name=self.stack_set_name,
                operation_id=planned.operation_id,
                call_as=self.call_as,
                step=step,
                **self.trigger_kwargs(),
            )
            try:
                self.defer_or_poll(trigger)  # deferred: resumes in execute_complete
            except AirflowException as err:
                self._raise_failure(planned.operation_id, str(err))

    def _plan(self, operation_id: str) -> StackSetStep:
        raise NotImplementedError

    def _result(self, context: Context, last: StackSetStep) -> Any:
        raise NotImplementedError

    def _raise_failure(self, operation_id: str, waiter_message: str) -> None:
        """Fail the task naming each account the operation failed in, and why."""
        try:
            operation = self.hook.describe_operation(self.stack_set_name, operation_id)
            reasons = self.hook.failure_reasons(self.stack_set_name, operation_id)
        except Exception as err:  # noqa: BLE001 - the waiter's own message is still worth showing
            operation, reasons = {}, [f"{waiter_message} ({err})"]
        action = operation.get("Action", "operation")
        status = operation.get("Status", "did not succeed")
        lines = [f"StackSet {self.stack_set_name}: {action} operation {operation_id} {status}."]
        lines += [f"  - {reason}" for reason in reasons] or [f"  - {waiter_message}"]
        lines.append(
            "The next try or run recovers: an instance whose create failed is deleted and created again, "
            "one whose update failed (its stack rolled back and still serves) is updated again."
        )
        raise AirflowException("\n".join(lines))

    def _persist_links(self, context: Context, operation_id: str | None) -> None:
        common = {
            "context": context,
            "operator": self,
            "region_name": self.hook.conn_region_name,
            "aws_partition": self.hook.conn_partition,
            "stack_set_name": self.stack_set_name,
            "permissions": "service" if self.org_unit_ids else "self",
        }
        CloudFormationStackSetConsoleLink.persist(**common)
        if operation_id:
            CloudFormationStackSetOperationConsoleLink.persist(**common, operation_id=operation_id)

    def _instances(self) -> list[dict[str, Any]]:
        targets = self.targets
        return [
            {
                "account": i["Account"],
                "region": i["Region"],
                "status": i.get("Status"),
                "detailed_status": (i.get("StackInstanceStatus") or {}).get("DetailedStatus"),
                "reason": i.get("StatusReason"),
                "stack_id": i.get("StackId"),
            }
            for i in self.hook.list_instances(self.stack_set_name)
            if targets.covers(i)
        ]


class DeployStackSetOperator(_StackSetOperator, DeploysModelSource):
    """
    Create or update a stack set and its instances in the target accounts, and wait until every
    operation needed has succeeded (the stack set equivalent of ``DeployStackOperator``).

    :param stack_set_name: the stack set (one per pipeline stage).
    :param blueprint: file name of a blueprint shipped in the package (``cloudformation/``).
    :param template_body: a template body instead of a blueprint.
    :param parameters: template parameters (values stringified; lists comma-joined).
    :param model_source: a model to deploy, resolved when the task starts into the image and
        artifact parameters (as ``DeployStackOperator``'s; through the source's own connection).
    :param tags: tags of the stack set, propagated to its stacks and their resources.
    :param accounts: target account ids (self-managed), or the accounts to narrow the
        organizational units to (service-managed; all their accounts with ``whole_org_unit``).
    :param regions: target regions (default: the connection's).
    :param org_unit_ids: organizational units (service-managed permissions); empty for self-managed.
    :param call_as: ``SELF`` or ``DELEGATED_ADMIN`` (service-managed, from a delegated administrator).
    :param administration_role_arn: / :param execution_role_name: self-managed roles (AWS's defaults
        when not given).
    :param operation_preferences: the API's ``OperationPreferences``.
    :param outputs_aws_conn_id: a connection into the (single) target account, to read the instance
        stack's outputs (a stack set cannot report them); without it ``outputs`` is empty.
    :return: ``{"stack_set_name", "stack_set_id", "instances": [{account, region, status,
        detailed_status, reason, stack_id}], "outputs", "actions"}``.
    """

    template_fields: Sequence[str] = aws_template_fields(
        "stack_set_name", "blueprint", "parameters", "model_source", "tags", "accounts", "regions", "org_unit_ids"
    )
    template_fields_renderers = {"parameters": "json", "model_source": "json", "tags": "json"}
    ui_color = "#ffd8a8"

    def __init__(
        self,
        *,
        blueprint: str | None = None,
        template_body: str | None = None,
        parameters: dict[str, Any] | None = None,
        model_source: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        capabilities: Sequence[str] = ("CAPABILITY_IAM",),
        administration_role_arn: str | None = None,
        execution_role_name: str | None = None,
        outputs_aws_conn_id: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        check_template_source(blueprint, template_body)
        self.blueprint = blueprint
        self.template_body = template_body
        self.parameters = parameters or {}
        self.model_source = model_source
        self.tags = tags or {}
        self.capabilities = list(capabilities)
        self.administration_role_arn = administration_role_arn
        self.execution_role_name = execution_role_name
        self.outputs_aws_conn_id = outputs_aws_conn_id

    def execute(self, context: Context) -> Any:
        self.resolve_model_source(context)
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        self.resolved_model_source(context)
        return super().execute_complete(context, event)

    def _spec(self) -> StackSetSpec:
        body = template_body(self.blueprint, self.template_body)
        return StackSetSpec(
            template_body=body,
            parameters={key: parameter_value(value) for key, value in dict(self.parameters).items()},
            tags=dict(self.tags),
            capabilities=tuple(self.capabilities),
            administration_role_arn=self.administration_role_arn,
            execution_role_name=self.execution_role_name,
            operation_preferences=self.operation_preferences,
        )

    def _plan(self, operation_id: str) -> StackSetStep:
        return self.hook.next_deploy_step(self.stack_set_name, self._spec(), self.targets, operation_id)

    def _result(self, context: Context, last: StackSetStep) -> dict[str, Any]:
        self._persist_links(context, None)
        stack_set = self.hook.describe_stack_set(self.stack_set_name) or {}
        instances = self._instances()
        for instance in instances:
            self.log.info(
                "StackSet %s: account %s (%s) %s%s",
                self.stack_set_name,
                instance["account"],
                instance["region"],
                instance["status"],
                f": {instance['reason']}" if instance["reason"] else "",
            )
        outputs = self._outputs(instances)
        return {
            "stack_set_name": self.stack_set_name,
            "stack_set_id": stack_set.get("StackSetId"),
            "instances": instances,
            "outputs": outputs,
        }

    def _outputs(self, instances: list[dict[str, Any]]) -> dict[str, str]:
        """The instance stack's outputs, read in its account through ``outputs_aws_conn_id``."""
        if not self.outputs_aws_conn_id or len(instances) != 1 or not instances[0]["stack_id"]:
            return {}
        from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook

        hook = CloudFormationStackHook(aws_conn_id=self.outputs_aws_conn_id, region_name=instances[0]["region"])
        return hook.outputs(instances[0]["stack_id"])


class DeleteStackSetOperator(_StackSetOperator):
    """
    Delete a stack set's instances (their stacks and everything in them), then the stack set,
    waiting for each operation; deleting what is not there succeeds.

    With ``accounts`` (or ``org_unit_ids``), only those targets' instances are deleted, and the
    stack set is kept while other instances remain. ``retain_stacks`` leaves the stacks in the
    accounts (only the stack set lets go of them).
    """

    template_fields: Sequence[str] = aws_template_fields("stack_set_name", "accounts", "regions", "org_unit_ids")
    ui_color = "#ffc9c9"

    def __init__(self, *, retain_stacks: bool = False, only_targets: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.retain_stacks = retain_stacks
        self.only_targets = only_targets

    def _plan(self, operation_id: str) -> StackSetStep:
        targets = self.targets if self.only_targets else None
        step = self.hook.next_delete_step(
            self.stack_set_name, targets, operation_id, retain_stacks=self.retain_stacks
        )
        return step

    def _result(self, context: Context, last: StackSetStep) -> dict[str, Any]:
        deleted = last.action == "deleted"
        self.log.info(
            "StackSet %s %s.",
            self.stack_set_name,
            "is deleted" if deleted else "keeps instances outside this task's targets",
        )
        return {"stack_set_name": self.stack_set_name, "deleted": deleted}
