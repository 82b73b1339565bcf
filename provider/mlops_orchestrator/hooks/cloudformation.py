"""CloudFormation stacks deployed by a pipeline: create-or-update, failure reasons, our waiters.

The Amazon provider's ``CloudFormationHook`` creates and deletes stacks but cannot tell a create
from an update, ignores "No updates are to be performed", and says nothing about *why* a stack
failed. MWO's re-post of a request meant "update the stack", and a user whose deployment failed
needs the failing resource's reason, so this hook adds those on top of the provider's hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.cloud_formation import CloudFormationHook
from botocore.exceptions import ClientError

#: Statuses in which a stack can be updated (anything else is in progress or must be recreated).
UPDATABLE_STATUSES = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
#: A stack whose first create failed: CloudFormation only allows deleting it.
RECREATE_STATUSES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"})
NO_UPDATES_MESSAGE = "No updates are to be performed"
#: The stack-level statuses that open a create, update or delete (where its events start).
_OPERATION_START_STATUSES = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"})
#: Event reasons that only echo another resource's failure.
_ECHO_REASONS = ("Resource creation cancelled", "Resource update cancelled", "Resource creation Initiated")


@dataclass(frozen=True)
class StackAction:
    """What ``deploy_stack`` did: ``create``, ``update``, ``attach`` (already in progress) or ``none``."""

    action: str
    stack_id: str


class CloudFormationStackHook(CloudFormationHook):
    """CloudFormation hook that deploys (create or update) a stack and explains failures."""

    @cached_property
    def waiter_path(self) -> Path:
        """Our waiters (one for create-or-update, one for delete) in the provider's JSON format."""
        return Path(__file__).resolve().parents[1] / "waiters" / "cloudformation.json"

    def describe_stack(self, stack_name: str) -> dict[str, Any] | None:
        """Return the stack's description, or None when no live stack has that name."""
        try:
            stacks = self.conn.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as err:
            if "does not exist" in str(err):
                return None
            raise
        return stacks[0] if stacks else None

    def deploy_stack(
        self,
        stack_name: str,
        template_body: str,
        parameters: dict[str, Any],
        tags: dict[str, str] | None = None,
        capabilities: list[str] | None = None,
    ) -> StackAction:
        """
        Create the stack, or update it when it exists (MWO re-post semantics).

        A stack left in ROLLBACK_COMPLETE by a failed first create cannot be updated, so it is
        deleted and created again. A stack already in progress (a retried task) is attached to
        rather than touched, so that a retry never starts a second deployment.
        """
        request = {
            "StackName": stack_name,
            "TemplateBody": template_body,
            "Parameters": [
                {"ParameterKey": key, "ParameterValue": parameter_value(value)}
                for key, value in parameters.items()
            ],
            "Capabilities": capabilities or ["CAPABILITY_IAM"],
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        existing = self.describe_stack(stack_name)
        if existing is not None and existing["StackStatus"].endswith("_IN_PROGRESS"):
            self.log.info(
                "Stack %s is already %s; waiting for it instead of starting another deployment.",
                stack_name,
                existing["StackStatus"],
            )
            return StackAction("attach", existing["StackId"])
        if existing is not None and existing["StackStatus"] in RECREATE_STATUSES:
            self.log.info(
                "Stack %s is %s after a failed create; deleting it so it can be created again.",
                stack_name,
                existing["StackStatus"],
            )
            self.conn.delete_stack(StackName=existing["StackId"])
            self.get_waiter("StackDeleteComplete").wait(
                StackName=existing["StackId"], WaiterConfig={"Delay": 2, "MaxAttempts": 900}
            )
            existing = None
        if existing is None:
            stack_id = self.conn.create_stack(**request)["StackId"]
            self.log.info("Creating stack %s (%s)", stack_name, stack_id)
            return StackAction("create", stack_id)
        try:
            stack_id = self.conn.update_stack(**request)["StackId"]
        except ClientError as err:
            if NO_UPDATES_MESSAGE in str(err):
                self.log.info("Stack %s is already up to date; nothing to deploy.", stack_name)
                return StackAction("none", existing["StackId"])
            raise
        self.log.info("Updating stack %s (%s)", stack_name, stack_id)
        return StackAction("update", stack_id)

    def outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs as a plain dict (what downstream tasks read from XCom)."""
        stack = self.describe_stack(stack_name) or {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def failure_reasons(self, stack_name: str) -> list[str]:
        """
        Reasons the stack's last operation failed, read from its events, oldest first.

        Events come newest first; reading stops at the stack's own ``*_IN_PROGRESS`` event that
        started the last operation, so failures of earlier deployments are not repeated. Each
        entry names the logical resource, its type and CloudFormation's reason, e.g.
        ``Endpoint (AWS::SageMaker::Endpoint): CREATE_FAILED: Failed to download model data``.
        """
        reasons: list[str] = []
        paginator = self.conn.get_paginator("describe_stack_events")
        for page in paginator.paginate(StackName=stack_name):
            for event in page["StackEvents"]:
                status = event.get("ResourceStatus", "")
                is_stack = event.get("ResourceType") == "AWS::CloudFormation::Stack"
                if is_stack and status in _OPERATION_START_STATUSES:
                    reasons.reverse()
                    return reasons
                reason = event.get("ResourceStatusReason") or ""
                if is_stack or not status.endswith("FAILED") or not reason or reason.startswith(_ECHO_REASONS):
                    continue
                reasons.append(f"{event['LogicalResourceId']} ({event.get('ResourceType', '?')}): {status}: {reason}")
        reasons.reverse()
        return reasons


def parameter_value(value: Any) -> str:
    """CloudFormation parameters are strings; lists become comma-separated (CommaDelimitedList)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
