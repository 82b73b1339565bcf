"""SageMaker endpoints in the emulator: Creating -> InService, failure rules, UpdateEndpoint, delete."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

WAIT = {"Delay": 0.1, "MaxAttempts": 100}
ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def _model(sagemaker: Any, name: str, **container: str) -> str:
    container = container or {"Image": f"img/{name}:1", "ModelDataUrl": f"s3://bucket/{name}/model.tar.gz"}
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    return name


def _config(sagemaker: Any, name: str, model_name: str) -> str:
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    return name


def _endpoint(sagemaker: Any, name: str, **container: str) -> str:
    """An endpoint (being created) on its own model and config."""
    model = _model(sagemaker, f"{name}-model", **container)
    sagemaker.create_endpoint(
        EndpointName=name, EndpointConfigName=_config(sagemaker, f"{name}-config", model)
    )
    return name


def _in_service(sagemaker: Any, name: str) -> dict[str, Any]:
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAIT)
    return sagemaker.describe_endpoint(EndpointName=name)


def test_endpoint_is_creating_then_in_service(sagemaker: Any) -> None:
    _endpoint(sagemaker, "ep-create")

    assert sagemaker.describe_endpoint(EndpointName="ep-create")["EndpointStatus"] == "Creating"
    summary = sagemaker.list_endpoints(NameContains="ep-create")["Endpoints"][0]
    assert summary["EndpointStatus"] == "Creating"

    described = _in_service(sagemaker, "ep-create")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "ep-create-config"
    assert "FailureReason" not in described
    assert sagemaker.list_endpoints(StatusEquals="InService")["Endpoints"][0]["EndpointName"] == "ep-create"


def test_creating_an_existing_endpoint_is_refused(sagemaker: Any) -> None:
    _endpoint(sagemaker, "ep-twice")

    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        sagemaker.create_endpoint(EndpointName="ep-twice", EndpointConfigName="ep-twice-config")


@pytest.mark.parametrize(
    ("match", "container"),
    [
        ("ep-fail-name", {}),  # the endpoint name (and the config's, which contains it)
        ("broken-image", {"Image": "repo/broken-image:2", "ModelDataUrl": "s3://b/ok.tar.gz"}),
        ("bad.tar.gz", {"Image": "repo/ok:1", "ModelDataUrl": "s3://b/bad.tar.gz"}),
        (
            "model-package/rejected",
            {"ModelPackageName": "arn:aws:sagemaker:us-east-1:1:model-package/rejected/3"},
        ),
    ],
)
def test_failure_rule_makes_the_endpoint_fail(
    sagemaker: Any, control: Any, match: str, container: dict[str, str]
) -> None:
    control.add_failure("endpoint", match, "The primary container did not pass the ping health check.")

    _endpoint(sagemaker, "ep-fail-name", **container)

    assert sagemaker.describe_endpoint(EndpointName="ep-fail-name")["EndpointStatus"] == "Creating"
    with pytest.raises(WaiterError, match="Failed"):
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName="ep-fail-name", WaiterConfig=WAIT)
    described = sagemaker.describe_endpoint(EndpointName="ep-fail-name")
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == "The primary container did not pass the ping health check."


def test_failure_rule_with_times_fails_only_that_many_endpoints(sagemaker: Any, control: Any) -> None:
    control.add_failure("endpoint", "flaky", "Capacity error", times=1)

    _endpoint(sagemaker, "flaky-1")
    _endpoint(sagemaker, "flaky-2")

    assert control.list_failures() == []
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName="flaky-2", WaiterConfig=WAIT)
    assert sagemaker.describe_endpoint(EndpointName="flaky-1")["EndpointStatus"] == "Failed"


def test_update_endpoint_deploys_the_new_config(sagemaker: Any) -> None:
    _endpoint(sagemaker, "ep-update")
    _in_service(sagemaker, "ep-update")
    _config(sagemaker, "ep-update-config-2", _model(sagemaker, "ep-update-model-2"))

    arn = sagemaker.update_endpoint(EndpointName="ep-update", EndpointConfigName="ep-update-config-2")[
        "EndpointArn"
    ]

    during = sagemaker.describe_endpoint(EndpointName="ep-update")
    assert during["EndpointArn"] == arn
    assert during["EndpointStatus"] == "Updating"
    assert during["EndpointConfigName"] == "ep-update-config"  # still serving the old one
    assert during["PendingDeploymentSummary"]["EndpointConfigName"] == "ep-update-config-2"
    after = _in_service(sagemaker, "ep-update")
    assert after["EndpointConfigName"] == "ep-update-config-2"
    assert "FailureReason" not in after
    assert "PendingDeploymentSummary" not in after


def test_failed_update_keeps_the_old_config(sagemaker: Any, control: Any) -> None:
    _endpoint(sagemaker, "ep-rollback")
    _in_service(sagemaker, "ep-rollback")
    new_model = _model(
        sagemaker, "ep-rollback-model-2", Image="repo/img:2", ModelDataUrl="s3://b/v2-broken.tar.gz"
    )
    _config(sagemaker, "ep-rollback-config-2", new_model)
    control.add_failure("endpoint", "v2-broken", "Failed to download model data for container.")

    sagemaker.update_endpoint(EndpointName="ep-rollback", EndpointConfigName="ep-rollback-config-2")

    assert sagemaker.describe_endpoint(EndpointName="ep-rollback")["EndpointStatus"] == "Updating"
    after = _in_service(sagemaker, "ep-rollback")  # SageMaker goes back to InService on the old config
    assert after["EndpointConfigName"] == "ep-rollback-config"
    assert after["FailureReason"] == "Failed to download model data for container."


def test_update_endpoint_refusals(sagemaker: Any) -> None:
    _endpoint(sagemaker, "ep-busy")

    with pytest.raises(ClientError, match='Could not find endpoint ".*endpoint/ep-missing"'):
        sagemaker.update_endpoint(EndpointName="ep-missing", EndpointConfigName="ep-busy-config")
    with pytest.raises(ClientError, match='Cannot update in-progress endpoint ".*endpoint/ep-busy"'):
        sagemaker.update_endpoint(EndpointName="ep-busy", EndpointConfigName="ep-busy-config")
    _in_service(sagemaker, "ep-busy")
    with pytest.raises(ClientError, match='Could not find endpoint configuration ".*endpoint-config/nope"'):
        sagemaker.update_endpoint(EndpointName="ep-busy", EndpointConfigName="nope")


def test_delete_endpoint_is_deleting_then_gone(sagemaker: Any) -> None:
    _endpoint(sagemaker, "ep-delete")
    _in_service(sagemaker, "ep-delete")

    sagemaker.delete_endpoint(EndpointName="ep-delete")

    assert sagemaker.describe_endpoint(EndpointName="ep-delete")["EndpointStatus"] == "Deleting"
    sagemaker.get_waiter("endpoint_deleted").wait(EndpointName="ep-delete", WaiterConfig=WAIT)
    with pytest.raises(ClientError, match=r"Could not find endpoint \W.*endpoint/ep-delete\W"):
        sagemaker.describe_endpoint(EndpointName="ep-delete")
    assert sagemaker.list_endpoints(NameContains="ep-delete")["Endpoints"] == []
