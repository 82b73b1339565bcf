"""Deferrable wait on one StackSet operation, by its OperationId, run by the triggerer."""

from __future__ import annotations

from typing import Any

from mlops_orchestrator.hooks.cloudformation_stackset import StackSetHook
from mlops_orchestrator.triggers.base import HookWaiterTrigger


class StackSetOperationCompleteTrigger(HookWaiterTrigger):
    """
    Fires when the operation has ended: ``success`` when it SUCCEEDED, ``error`` when it FAILED
    or was STOPPED (the operator then reads the per-account results). ``step`` is handed back so
    the operator can count the operations of one task try.
    """

    aws_hook_class = StackSetHook

    def __init__(
        self,
        *,
        stack_set_name: str,
        operation_id: str,
        call_as: str = "SELF",
        step: int = 1,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ):
        self.call_as = call_as
        super().__init__(
            serialized_fields={
                "stack_set_name": stack_set_name,
                "operation_id": operation_id,
                "call_as": call_as,
                "step": step,
            },
            waiter_name="StackSetOperationComplete",
            waiter_args={"StackSetName": stack_set_name, "OperationId": operation_id, "CallAs": call_as},
            failure_message=f"StackSet {stack_set_name} operation {operation_id} did not succeed",
            status_message=f"StackSet {stack_set_name} operation {operation_id}",
            status_queries=["StackSetOperation.Status", "StackSetOperation.StatusReason"],
            return_key="operation",
            return_value={"operation_id": operation_id, "step": step},
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        return {**super()._hook_parameters, "call_as": self.call_as}
