"""The emulator counts AWS calls per API and answers throttling bursts in each service's protocol."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mlops_orchestrator.local import LocalAws, LocalAwsControl


def _client(local_aws: LocalAws, service: str, attempts: int) -> Any:
    return boto3.client(
        service,
        endpoint_url=local_aws.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def test_every_call_is_counted_by_its_api_name(local_aws: LocalAws, control: LocalAwsControl) -> None:
    control.clear_requests()
    sagemaker = _client(local_aws, "sagemaker", 1)
    cloudformation = _client(local_aws, "cloudformation", 1)
    s3 = _client(local_aws, "s3", 1)
    sagemaker.list_endpoints()
    sagemaker.list_endpoints()
    cloudformation.describe_stacks()
    s3.create_bucket(Bucket="counted")
    s3.put_object(Bucket="counted", Key="k", Body=b"x")
    control.set_settings(stack_seconds=0.3)  # control calls are not AWS calls

    counted = control.requests()
    assert counted["calls"] == {
        "cloudformation.DescribeStacks": 1,
        "s3.PUT": 2,
        "sagemaker.ListEndpoints": 2,
    }
    assert counted["throttled"] == {}
    assert counted["seconds"] >= 0
    control.clear_requests()
    assert control.requests()["calls"] == {}


def test_a_throttling_burst_is_absorbed_by_botocore_retries(local_aws: LocalAws, control: LocalAwsControl) -> None:
    control.clear_requests()
    control.throttle("sagemaker.ListEndpoints", times=2)
    control.throttle("cloudformation.DescribeStacks", times=2)
    control.throttle("s3.PUT", times=2)
    # three attempts: two throttled answers, then moto's
    assert _client(local_aws, "sagemaker", 3).list_endpoints()["Endpoints"] == []
    assert _client(local_aws, "cloudformation", 3).describe_stacks()["Stacks"] == []
    _client(local_aws, "s3", 3).create_bucket(Bucket="burst")
    counted = control.requests()
    assert counted["throttled"] == {
        "cloudformation.DescribeStacks": 2,
        "s3.PUT": 2,
        "sagemaker.ListEndpoints": 2,
    }
    assert counted["calls"] == {"cloudformation.DescribeStacks": 3, "s3.PUT": 3, "sagemaker.ListEndpoints": 3}
    assert control.list_failures() == []  # each burst used up


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("sagemaker", lambda c: c.list_endpoints(), "ThrottlingException"),
        ("cloudformation", lambda c: c.describe_stacks(), "Throttling"),
        ("s3", lambda c: c.list_buckets(), "SlowDown"),
    ],
)
def test_without_retries_the_client_sees_aws_s_throttling_error(
    local_aws: LocalAws, control: LocalAwsControl, service: str, call: Any, code: str
) -> None:
    control.throttle(service, times=1, reason="Rate exceeded for the test")
    with pytest.raises(ClientError) as raised:
        call(_client(local_aws, service, 1))
    assert raised.value.response["Error"]["Code"] == code
    if service != "s3":  # S3's SlowDown carries its message too, botocore keeps only the code
        assert raised.value.response["Error"]["Message"] == "Rate exceeded for the test"
    call(_client(local_aws, service, 1))  # the burst is over


def test_a_throttle_rule_with_a_typo_kind_is_refused(control: LocalAwsControl) -> None:
    from mlops_orchestrator.local import LocalAwsControlError

    with pytest.raises(LocalAwsControlError, match="unknown failure kind 'throtle'; known kinds: .*throttle"):
        control.add_failure("throtle", "sagemaker", "Rate exceeded")


def test_a_held_call_takes_effect_before_its_answer_arrives(local_aws: LocalAws, control: LocalAwsControl) -> None:
    import threading
    import time

    control.hold("s3.PUT", seconds=2, times=1)
    s3 = _client(local_aws, "s3", 1)
    done = threading.Event()
    started = time.monotonic()
    threading.Thread(target=lambda: (s3.create_bucket(Bucket="held"), done.set()), daemon=True).start()
    deadline = time.monotonic() + 10
    while "held" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        assert time.monotonic() < deadline, "the held call never took effect"
        time.sleep(0.05)
    assert not done.is_set()  # the bucket exists while its caller still waits for the answer
    assert done.wait(10)
    assert time.monotonic() - started >= 2
    assert control.list_failures() == []


def test_a_hold_rule_needs_its_seconds(control: LocalAwsControl) -> None:
    from mlops_orchestrator.local import LocalAwsControlError

    with pytest.raises(LocalAwsControlError, match="a hold rule's reason is the seconds to hold the answer"):
        control.add_failure("hold", "s3.PUT", "soon")


def test_a_rule_ending_in_a_dollar_matches_that_one_api(local_aws: LocalAws, control: LocalAwsControl) -> None:
    control.clear_requests()
    control.throttle("sagemaker.ListModels$", times=1)
    sagemaker = _client(local_aws, "sagemaker", 1)
    sagemaker.list_model_packages()  # contains "sagemaker.ListModel", not "sagemaker.ListModels$"
    sagemaker.list_model_package_groups()
    with pytest.raises(ClientError, match="ThrottlingException"):
        sagemaker.list_models()
    assert control.requests()["throttled"] == {"sagemaker.ListModels": 1}
    control.throttle("sagemaker.ListModel", times=2)  # unanchored: a substring, as before
    for call in (sagemaker.list_model_packages, sagemaker.list_model_package_groups):
        with pytest.raises(ClientError, match="ThrottlingException"):
            call()
