"""Deferrable wait on a monitoring schedule's newest execution, run by the triggerer."""

from __future__ import annotations

from mlops_orchestrator.hooks.sagemaker_monitoring import ModelMonitorHook, latest_execution_query
from mlops_orchestrator.triggers.base import HookWaiterTrigger


class MonitoringExecutionCompleteTrigger(HookWaiterTrigger):
    """
    Fires when the newest execution of ``schedule_name`` has ended (Completed,
    CompletedWithViolations, Failed or Stopped: the task reads which). The event carries
    ``schedule_name``.
    """

    aws_hook_class = ModelMonitorHook

    def __init__(
        self,
        *,
        schedule_name: str,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        aws_conn_id: str | None = "aws_default",
        **kwargs,
    ):
        super().__init__(
            serialized_fields={"schedule_name": schedule_name},
            waiter_name="MonitoringExecutionComplete",
            waiter_args=latest_execution_query(schedule_name),
            failure_message=f"The latest execution of monitoring schedule {schedule_name} did not end",
            status_message="Monitoring execution status",
            status_queries=["MonitoringExecutionSummaries[0].MonitoringExecutionStatus"],
            return_key="schedule_name",
            return_value=schedule_name,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )
