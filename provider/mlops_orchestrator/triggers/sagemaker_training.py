"""Deferrable wait on an Autopilot (AutoML v1) job, run by the triggerer so no worker slot is held.

The Amazon provider's ``SageMakerTrigger`` waits for training and tuning jobs but not AutoML ones
(its ``SageMakerAutoMLOperator`` polls in the worker), and boto3 has no AutoML waiter, so the
``AutoMLJobComplete`` waiter is ours (``waiters/sagemaker_training.json``).
"""

from __future__ import annotations

from typing import Any

from mlops_orchestrator.hooks.sagemaker_training import SageMakerAutoMLHook
from mlops_orchestrator.triggers.base import HookWaiterTrigger


class AutoMLJobCompleteTrigger(HookWaiterTrigger):
    """
    Fires when an AutoML v1 job has ended: ``status`` success when Completed, error (with the
    status and secondary status) when Failed or Stopped. The event carries ``job_name``.

    :param job_name: the AutoML job's name.
    """

    aws_hook_class = SageMakerAutoMLHook

    def __init__(
        self,
        *,
        job_name: str,
        waiter_delay: int = 60,
        waiter_max_attempts: int = 720,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ):
        super().__init__(
            serialized_fields={"job_name": job_name},
            waiter_name="AutoMLJobComplete",
            waiter_args={"AutoMLJobName": job_name},
            failure_message=f"Autopilot job {job_name} did not complete",
            status_message="Autopilot job status",
            status_queries=["AutoMLJobStatus", "AutoMLJobSecondaryStatus"],
            return_key="job_name",
            return_value=job_name,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )
