"""Deferrable waits on CloudFormation stacks, run by the triggerer so no worker slot is held.

Given the task's ``result``, a wait that succeeds ends the task in the triggerer (Airflow's
``TaskSuccessEvent``, with the result as its XCom) instead of resuming it on a worker: nothing is
left to do there but return the result, and starting a task process for that is most of what a
pipeline costs when many run at once (benchmarks/README.md, "Many pipelines at once"). A failed
wait still resumes on the worker, which reads the stack's events to say why it failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from airflow.triggers.base import TaskSuccessEvent, TriggerEvent

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
        result: dict[str, Any] | None = None,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        aws_conn_id: str | None = "aws_default",
        **kwargs,
    ):
        super().__init__(
            serialized_fields={"stack_id": stack_id, "result": result},
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
        self.stack_id = stack_id
        self.result = result

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in super().run():
            if self.result is None or event.payload.get("status") != "success":
                yield event
                return
            try:
                result = await self.final_result()
            except Exception as err:  # the worker resumes and finishes it the usual way
                self.log.warning("Finishing the task on a worker: %s", err)
                yield event
                return
            yield TaskSuccessEvent(xcoms={"return_value": result})
            return

    async def final_result(self) -> dict[str, Any]:
        """What the task returns once the wait has succeeded."""
        return dict(self.result or {})


class StackDeployCompleteTrigger(_StackWaiterTrigger):
    """Fires when a stack's create or update has ended (success, or failure with its status)."""

    waiter_name = "StackDeployComplete"
    operation = "Deployment"

    async def final_result(self) -> dict[str, Any]:
        """The task's result with the stack's outputs, read now that it is deployed."""
        outputs = await self.hook().outputs_async(self.stack_id)
        result = {**(self.result or {}), "outputs": outputs}
        self.log.info("Stack %s is deployed (%s); outputs: %s", result.get("stack_name"), result.get("action"), outputs)
        return result


class StackDeleteCompleteTrigger(_StackWaiterTrigger):
    """Fires when a stack is gone (DELETE_COMPLETE) or its delete failed."""

    waiter_name = "StackDeleteComplete"
    operation = "Deletion"
