"""An emulator per test module, reached only over HTTP, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from mlops_orchestrator.local import LocalAws, LocalAwsControl, LocalAwsSettings

#: Short enough for a fast suite, long enough that "still in progress" is seen right after a call.
FAST = LocalAwsSettings(endpoint_seconds=0.5, stack_seconds=0.3, job_seconds=0.5)
#: Waiters poll every 0.1 s (the real ones wait 30 s between polls).
WAIT = {"Delay": 0.1, "MaxAttempts": 100}


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws(port=0, settings=FAST) as aws:
        yield aws


@pytest.fixture
def control(local_aws: LocalAws) -> LocalAwsControl:
    """The control client, after resetting the emulator (moto state, rules) to FAST timings."""
    client = LocalAwsControl(local_aws.endpoint_url)
    client.reset()
    client.set_settings(**FAST.to_dict())
    return client


@pytest.fixture
def aws_client(local_aws: LocalAws, control: LocalAwsControl) -> Callable[[str], Any]:
    """boto3 clients for the emulator, as Airflow's AWS connection would make them."""

    def make(service_name: str) -> Any:
        return boto3.client(
            service_name,
            endpoint_url=local_aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )

    return make


@pytest.fixture
def sagemaker(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("sagemaker")


@pytest.fixture
def cloudformation(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("cloudformation")
