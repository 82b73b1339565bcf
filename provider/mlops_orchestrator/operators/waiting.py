"""Wait for what an AWS waiter trigger waits for: deferred to the triggerer, or polled in the worker."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
from airflow.providers.amazon.aws.utils.waiter_with_logging import wait


class DeferOrPollMixin:
    """
    For AwsBaseOperator subclasses whose waits are one of our waiter triggers.

    The trigger already names the waiter, its arguments and its messages, so the non-deferrable
    path polls exactly the same waiter in the worker instead of repeating that description.
    """

    deferrable: bool
    waiter_delay: int
    waiter_max_attempts: int

    def trigger_kwargs(self) -> dict[str, Any]:
        """What every waiter trigger takes from the operator: polling and the AWS connection."""
        return {
            "waiter_delay": self.waiter_delay,
            "waiter_max_attempts": self.waiter_max_attempts,
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }

    def defer_or_poll(self, trigger: AwsBaseWaiterTrigger) -> None:
        """
        Defer to ``trigger`` (resuming in ``execute_complete``), or, when not deferrable, poll the
        same waiter here; a waiter failure raises AirflowException for the caller to explain.
        """
        if self.deferrable:
            self.defer(trigger=trigger, method_name="execute_complete")
        wait(
            waiter=self.hook.get_waiter(trigger.waiter_name),
            waiter_delay=trigger.waiter_delay,
            waiter_max_attempts=trigger.attempts,
            args=trigger.waiter_args,
            failure_message=trigger.failure_message,
            status_message=trigger.status_message,
            status_args=trigger.status_queries,
        )
