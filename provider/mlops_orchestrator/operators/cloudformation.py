"""Operators that deploy and delete one pipeline's CloudFormation stack, waiting deferrably."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException

from mlops_orchestrator.blueprint_files import check_template_source, template_body
from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook
from mlops_orchestrator.links.cloudformation import CloudFormationStackConsoleLink
from mlops_orchestrator.links.sagemaker import SageMakerEndpointConsoleLink
from mlops_orchestrator.model_source import DeploysModelSource
from mlops_orchestrator.operators.flat_aws import NOTSET, ArgNotSet, FlatAwsOperator
from mlops_orchestrator.operators.waiting import DeferOrPollMixin
from mlops_orchestrator.triggers.cloudformation import StackDeleteCompleteTrigger, StackDeployCompleteTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class _StackOperator(FlatAwsOperator[CloudFormationStackHook], DeferOrPollMixin):
    """
    What deploy and delete share: the stack link, and a wait that defers or polls.

    Built once per pipeline at every parse, so without an ``__init__`` of its own (see
    flat_aws.py): each operator's one ``__init__`` hands the shared arguments to ``_init_stack``.
    The mixin comes last: Airflow wraps a class's ``__init__`` in another ``apply_defaults``
    whenever its first base's ``__init__`` differs, and a mixin's is ``object``'s.
    """

    aws_hook_class = CloudFormationStackHook

    def _init_stack(
        self,
        *,
        stack_name: str,
        deferrable: bool,
        waiter_delay: int,
        waiter_max_attempts: int,
        aws_conn_id: str | None,
        region_name: str | None,
        verify: bool | str | None,
        botocore_config: dict | None,
    ) -> None:
        self._init_aws(aws_conn_id, region_name, verify, botocore_config)
        self.stack_name = stack_name
        self.deferrable = deferrable
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    def _persist_stack_link(self, context: Context, stack_id: str) -> None:
        CloudFormationStackConsoleLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            stack_id=stack_id,
        )

    def _wait_for(
        self, stack_id: str, trigger_class: type[StackDeployCompleteTrigger | StackDeleteCompleteTrigger]
    ) -> None:
        """Wait deferrably (or by polling), failing with what the stack's events say went wrong."""
        try:
            self.defer_or_poll(trigger_class(stack_id=stack_id, **self.trigger_kwargs()))
        except AirflowException as err:
            self._raise_failure(stack_id, str(err))

    def _raise_failure(self, stack_id: str, waiter_message: str) -> None:
        """Fail the task with what went wrong, read from the stack (each operator says it its way)."""
        raise NotImplementedError


class DeployStackOperator(_StackOperator, DeploysModelSource):
    """
    Create a pipeline's stack, or update it when it exists, and wait until it has settled.

    The provider's ``CloudFormationCreateStackOperator`` only creates and never waits; MWO users
    expect a re-run to update the deployment in place, and a failure to fail the task with the
    reason. A failed update is rolled back by CloudFormation, so the previous model keeps serving.
    The stack is addressed by name, template and parameters only, so the same operator can be
    pointed at another account (an ``aws_conn_id`` with ``role_arn``) for multi-stage deployment.

    :param stack_name: CloudFormation stack name.
    :param blueprint: file name of a blueprint shipped in the package (``cloudformation/``).
    :param template_body: a template body instead of a blueprint.
    :param parameters: template parameters (values are stringified; lists comma-joined).
    :param model_source: a model to deploy, resolved when the task starts into the image and
        artifact parameters the model blueprints take (``ModelResolver``: a registered package, a
        built-in framework or a custom image, read through the source's own ``aws_conn_id``);
        they are added to ``parameters`` and kept in XCom (key ``parameters``).
    :param tags: stack tags (propagated to the resources).
    :param deferrable: wait in the triggerer rather than in a worker slot (default True).
    :return: ``{"stack_id", "stack_name", "action", "outputs"}`` to XCom.
    """

    template_fields: Sequence[str] = aws_template_fields(
        "stack_name", "blueprint", "parameters", "model_source", "tags"
    )
    template_fields_renderers = {"parameters": "json", "model_source": "json", "tags": "json"}
    operator_extra_links = (CloudFormationStackConsoleLink(),)
    ui_color = "#ffd8a8"

    def __init__(
        self,
        *,
        stack_name: str,
        blueprint: str | None = None,
        template_body: str | None = None,
        parameters: dict[str, Any] | None = None,
        model_source: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        capabilities: Sequence[str] = ("CAPABILITY_IAM",),
        deferrable: bool = True,
        waiter_delay: int = 15,
        waiter_max_attempts: int = 480,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
        region: str | None | ArgNotSet = NOTSET,  # AwsBaseOperator's, for `.partial`'s signature check
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._init_stack(
            stack_name=stack_name,
            deferrable=deferrable,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )
        check_template_source(blueprint, template_body)
        self.blueprint = blueprint
        self.template_body = template_body
        self.parameters = parameters or {}
        self.model_source = model_source
        self.tags = tags or {}
        self.capabilities = list(capabilities)

    def execute(self, context: Context) -> dict[str, Any]:
        body = template_body(self.blueprint, self.template_body)
        self.resolve_model_source(context)
        action = self.hook.deploy_stack(
            self.stack_name, body, dict(self.parameters), self.tags, self.capabilities
        )
        self._persist_stack_link(context, action.stack_id)
        self._persist_resource_links(context, self.parameters)
        context["ti"].xcom_push(key="stack_action", value=action.action)
        if action.action != "none":
            self._wait_for(action.stack_id, StackDeployCompleteTrigger)
        return self._result(context, action.stack_id, action.action)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        stack_id = event["stack_id"]
        if event["status"] != "success":
            self._raise_failure(stack_id, event.get("message", ""))
        action = context["ti"].xcom_pull(task_ids=self.task_id, key="stack_action") or "deploy"
        return self._result(context, stack_id, action)

    def _raise_failure(self, stack_id: str, waiter_message: str) -> None:
        """Fail the task with the failing resources' reasons, not just the final stack status."""
        stack = self.hook.describe_stack(stack_id)
        if stack is None:
            raise AirflowException(
                f"Stack {self.stack_name}{_where(stack_id)} no longer exists: it was deleted, or AWS lost it, "
                f"while this task waited for it ({waiter_message}). A retry deploys it again."
            )
        status = stack.get("StackStatus", "UNKNOWN")
        reasons = self.hook.failure_reasons(stack_id)
        lines = [f"Stack {self.stack_name}{_where(stack_id)} did not deploy: it ended {status}."]
        lines += [f"  - {reason}" for reason in reasons] or [f"  - {waiter_message}"]
        if status == "UPDATE_ROLLBACK_COMPLETE":
            lines.append("The update was rolled back: the previous deployment is unchanged and still serving.")
        elif status == "ROLLBACK_COMPLETE":
            lines.append("The create was rolled back: nothing of this stack is left; the next run creates it again.")
        raise AirflowException("\n".join(lines))

    def _result(self, context: Context, stack_id: str, action: str) -> dict[str, Any]:
        outputs = self.hook.outputs(stack_id)
        self.log.info("Stack %s is deployed (%s); outputs: %s", self.stack_name, action, outputs)
        self._persist_resource_links(context, outputs)
        return {"stack_id": stack_id, "stack_name": self.stack_name, "action": action, "outputs": outputs}

    def _persist_resource_links(self, context: Context, names: dict[str, Any]) -> None:
        """Links to what the stack holds, from its parameters at start and its outputs at the end."""


class DeployEndpointStackOperator(DeployStackOperator):
    """
    ``DeployStackOperator`` for a stack that holds a SageMaker endpoint: also links to the endpoint.

    The link is set from the start (the endpoint name is a parameter) and confirmed from the
    stack's outputs; a generic stack has no such link, since Airflow looks up every extra link
    of a task and would report one that can never be set as a missing XCom.
    """

    operator_extra_links = (CloudFormationStackConsoleLink(), SageMakerEndpointConsoleLink())

    def _persist_resource_links(self, context: Context, names: dict[str, Any]) -> None:
        endpoint_name = names.get("EndpointName")
        if endpoint_name:
            SageMakerEndpointConsoleLink.persist(
                context=context,
                operator=self,
                region_name=self.hook.conn_region_name,
                aws_partition=self.hook.conn_partition,
                endpoint_name=endpoint_name,
            )


class DeleteStackOperator(_StackOperator):
    """
    Delete a pipeline's stack and wait until it is gone (the deprovision path MWO never had).

    Deleting a stack that does not exist succeeds: deprovisioning twice is not an error. Data
    the pipeline wrote (captured requests, model artifacts) stays in S3; only the deployed
    resources go.
    """

    template_fields: Sequence[str] = aws_template_fields("stack_name")
    operator_extra_links = (CloudFormationStackConsoleLink(),)
    ui_color = "#ffc9c9"

    def __init__(
        self,
        *,
        stack_name: str,
        deferrable: bool = True,
        waiter_delay: int = 15,
        waiter_max_attempts: int = 480,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
        region: str | None | ArgNotSet = NOTSET,  # AwsBaseOperator's, for `.partial`'s signature check
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._init_stack(
            stack_name=stack_name,
            deferrable=deferrable,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            botocore_config=botocore_config,
        )

    def execute(self, context: Context) -> dict[str, Any] | None:
        stack = self.hook.describe_stack(self.stack_name)
        if stack is None:
            self.log.info("Stack %s does not exist; nothing to deprovision.", self.stack_name)
            return None
        stack_id = stack["StackId"]
        self._persist_stack_link(context, stack_id)
        if stack["StackStatus"] != "DELETE_IN_PROGRESS":
            self.hook.conn.delete_stack(StackName=stack_id)
            self.log.info("Deleting stack %s (%s)", self.stack_name, stack_id)
        self._wait_for(stack_id, StackDeleteCompleteTrigger)
        return {"stack_id": stack_id, "stack_name": self.stack_name, "deleted": True}

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        if event["status"] != "success":
            self._raise_failure(event["stack_id"], event.get("message", ""))
        return {"stack_id": event["stack_id"], "stack_name": self.stack_name, "deleted": True}

    def _raise_failure(self, stack_id: str, waiter_message: str) -> None:
        reasons = self.hook.failure_reasons(stack_id) or [waiter_message]
        raise AirflowException(
            f"Stack {self.stack_name}{_where(stack_id)} could not be deleted:\n"
            + "\n".join(f"  - {r}" for r in reasons)
        )


def _where(stack_id: str) -> str:
    """`` in account 111122223333 (us-east-1)``, read from a stack id (an ARN), or "" for a name."""
    parts = stack_id.split(":")
    if len(parts) < 6 or parts[2] != "cloudformation":
        return ""
    return f" in account {parts[4]} ({parts[3]})"
