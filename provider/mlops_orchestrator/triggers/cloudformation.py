"""Deferrable waits on CloudFormation stacks, run by the triggerer so no worker slot is held."""

from __future__ import annotations

from typing import ClassVar

from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook
from mlops_orchestrator.triggers.base import HookWaiterTrigger


class _StackWaiterTrigger(HookWaiterTrigger):
    """Wait on one of our stack waiters (waiters/cloudformation.json) for one stack id."""

    aws_hook_class = CloudFormationStackHook
    waiter_name: ClassVar[str]
    operation: ClassVar[str]

    def __init__(
        self,
        *,
        stack_id: str,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        aws_conn_id: str | None = "aws_default",
        **kwargs,
    ):
        super().__init__(
            serialized_fields={"stack_id": stack_id},
            waiter_name=self.waiter_name,
            waiter_args={"StackName": stack_id},
            failure_message=f"{self.operation} of stack {stack_id} failed",
            status_message="Stack status",
            status_queries=["Stacks[0].StackStatus", "Stacks[0].StackStatusReason"],
            return_key="stack_id",
            return_value=stack_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )


class StackDeployCompleteTrigger(_StackWaiterTrigger):
    """Fires when a stack's create or update has ended (success, or failure with its status)."""

    waiter_name = "StackDeployComplete"
    operation = "Deployment"


class StackDeleteCompleteTrigger(_StackWaiterTrigger):
    """Fires when a stack is gone (DELETE_COMPLETE) or its delete failed."""

    waiter_name = "StackDeleteComplete"
    operation = "Deletion"
