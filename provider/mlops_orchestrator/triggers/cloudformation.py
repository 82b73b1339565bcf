"""Deferrable waits on CloudFormation stacks, run by the triggerer so no worker slot is held."""

from __future__ import annotations

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger

from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook


class StackDeployCompleteTrigger(AwsBaseWaiterTrigger):
    """Fires when a stack's create or update has ended (success, or failure with its status)."""

    aws_hook_class = CloudFormationStackHook

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
            waiter_name="StackDeployComplete",
            waiter_args={"StackName": stack_id},
            failure_message=f"Deployment of stack {stack_id} failed",
            status_message="Stack status",
            status_queries=["Stacks[0].StackStatus", "Stacks[0].StackStatusReason"],
            return_key="stack_id",
            return_value=stack_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )


class StackDeleteCompleteTrigger(AwsBaseWaiterTrigger):
    """Fires when a stack is gone (DELETE_COMPLETE) or its delete failed."""

    aws_hook_class = CloudFormationStackHook

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
            waiter_name="StackDeleteComplete",
            waiter_args={"StackName": stack_id},
            failure_message=f"Deletion of stack {stack_id} failed",
            status_message="Stack status",
            status_queries=["Stacks[0].StackStatus", "Stacks[0].StackStatusReason"],
            return_key="stack_id",
            return_value=stack_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )
