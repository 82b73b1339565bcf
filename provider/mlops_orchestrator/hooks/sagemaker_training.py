"""SageMaker Autopilot (AutoML v1): the provider's SageMakerHook with a waiter for AutoML jobs.

boto3 has no AutoML waiter and the provider's ``SageMakerAutoMLOperator`` polls in the worker; our
``AutoMLJobComplete`` waiter (``waiters/sagemaker_training.json``) lets the wait be deferred.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook


class SageMakerAutoMLHook(SageMakerHook):
    """The provider's SageMaker hook, with our ``AutoMLJobComplete`` waiter."""

    @cached_property
    def waiter_path(self) -> Path:
        return Path(__file__).resolve().parents[1] / "waiters" / "sagemaker_training.json"
