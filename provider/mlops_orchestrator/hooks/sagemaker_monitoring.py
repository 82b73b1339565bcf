"""SageMaker Model Monitor: the provider's SageMakerHook with a waiter for monitoring executions.

boto3 and the Amazon provider have no waiter on a monitoring schedule's executions; ours
(``MonitoringExecutionComplete`` in ``waiters/sagemaker_monitoring.json``) waits until the newest
execution has ended, whatever its outcome: the results task judges the outcome itself.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

#: Execution statuses that will change again.
EXECUTION_RUNNING = frozenset({"Pending", "InProgress", "Stopping"})


class ModelMonitorHook(SageMakerHook):
    """SageMakerHook whose custom waiters are ours (``MonitoringExecutionComplete``)."""

    @cached_property
    def waiter_path(self) -> Path:
        return Path(__file__).resolve().parents[1] / "waiters" / "sagemaker_monitoring.json"

    def latest_execution(self, schedule_name: str) -> dict[str, Any] | None:
        """The newest execution of a schedule (by scheduled time), or None when it has run none."""
        response = self.conn.list_monitoring_executions(**latest_execution_query(schedule_name))
        executions = response.get("MonitoringExecutionSummaries") or []
        return executions[0] if executions else None


def latest_execution_query(schedule_name: str) -> dict[str, Any]:
    """ListMonitoringExecutions arguments selecting a schedule's newest execution."""
    return {
        "MonitoringScheduleName": schedule_name,
        "SortBy": "ScheduledTime",
        "SortOrder": "Descending",
        "MaxResults": 1,
    }
