"""CloudFormation stacks in the emulator: timed create/update/delete, events, rollbacks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

WAIT = {"Delay": 0.1, "MaxAttempts": 100}

# The shape of our realtime blueprint, small: the four resource types, a condition choosing the
# container, AWS::NoValue in a property and in a list, Ref/GetAtt/Sub/Join, outputs.
TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  EndpointName: {Type: String, AllowedPattern: "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"}
  ImageUri: {Type: String, Default: "repo/image:1"}
  ModelDataUrl: {Type: String, Default: "s3://bucket/model/v1.tar.gz"}
  ModelPackageName: {Type: String, Default: ""}
  InstanceType: {Type: String, Default: ml.m5.large}
  KmsKeyArn: {Type: String, Default: ""}
Conditions:
  UseModelPackage: !Not [!Equals [!Ref ModelPackageName, ""]]
  HasKmsKey: !Not [!Equals [!Ref KmsKeyArn, ""]]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: sagemaker.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: model-access
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "arn:${AWS::Partition}:s3:::bucket/*"
              - !If
                - HasKmsKey
                - {Effect: Allow, Action: kms:Decrypt, Resource: !Ref KmsKeyArn}
                - !Ref AWS::NoValue
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt Role.Arn
      PrimaryContainer: !If
        - UseModelPackage
        - ModelPackageName: !Ref ModelPackageName
        - Image: !Ref ImageUri
          ModelDataUrl: !Ref ModelDataUrl
  EndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: AllTraffic
          ModelName: !GetAtt Model.ModelName
          InitialInstanceCount: 1
          InstanceType: !Ref InstanceType
          InitialVariantWeight: 1
      DataCaptureConfig:
        EnableCapture: true
        InitialSamplingPercentage: 100
        DestinationS3Uri: !Sub "s3://bucket/capture/${EndpointName}"
        CaptureOptions: [{CaptureMode: Input}, {CaptureMode: Output}]
      KmsKeyId: !If [HasKmsKey, !Ref KmsKeyArn, !Ref AWS::NoValue]
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: !Ref EndpointName
      EndpointConfigName: !GetAtt EndpointConfig.EndpointConfigName
Outputs:
  EndpointName: {Value: !GetAtt Endpoint.EndpointName}
  EndpointArn: {Value: !Ref Endpoint}
  EndpointConfigName: {Value: !GetAtt EndpointConfig.EndpointConfigName}
  ModelName: {Value: !GetAtt Model.ModelName}
  RoleArn: {Value: !Join ["", [!GetAtt Role.Arn]]}
"""
RESOURCES = ["Role", "Model", "EndpointConfig", "Endpoint"]


def _create(cloudformation: Any, stack: str, template: str = TEMPLATE, **parameters: str) -> str:
    return cloudformation.create_stack(
        StackName=stack,
        TemplateBody=template,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )["StackId"]


def _update(cloudformation: Any, stack: str, **parameters: str) -> None:
    cloudformation.update_stack(
        StackName=stack,
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )


@pytest.fixture(autouse=True)
def _seen_in_progress(control: Any) -> None:
    """Stacks and endpoints last 1 s here: these tests read the in-progress statuses right after a
    call, and 0.3 s had passed before the read on a loaded machine."""
    control.set_settings(stack_seconds=1.0, endpoint_seconds=1.0)


def _stack(cloudformation: Any, stack: str) -> dict[str, Any]:
    return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]


def _outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in _stack(cloudformation, stack).get("Outputs", [])}


def _events(cloudformation: Any, stack: str) -> list[tuple[str, str, str]]:
    """(logical id, status, reason), oldest first."""
    pages = cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack)
    events = [e for page in pages for e in page["StackEvents"]]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
        for e in reversed(events)
    ]


def _deployed(cloudformation: Any, stack: str, **parameters: str) -> dict[str, str]:
    _create(cloudformation, stack, **parameters)
    cloudformation.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    return _outputs(cloudformation, stack)


def test_create_stack_is_in_progress_until_its_endpoint_is_in_service(
    cloudformation: Any, sagemaker: Any, aws_client: Any
) -> None:
    _create(cloudformation, "realtime", EndpointName="rt-endpoint")

    assert _stack(cloudformation, "realtime")["StackStatus"] == "CREATE_IN_PROGRESS"
    assert "Outputs" not in _stack(cloudformation, "realtime")
    assert sagemaker.describe_endpoint(EndpointName="rt-endpoint")["EndpointStatus"] == "Creating"
    cloudformation.get_waiter("stack_create_complete").wait(StackName="realtime", WaiterConfig=WAIT)

    assert _stack(cloudformation, "realtime")["StackStatus"] == "CREATE_COMPLETE"
    assert sagemaker.describe_endpoint(EndpointName="rt-endpoint")["EndpointStatus"] == "InService"
    events = _events(cloudformation, "realtime")
    assert events[0] == ("realtime", "CREATE_IN_PROGRESS", "User Initiated")
    assert events[-1] == ("realtime", "CREATE_COMPLETE", "")
    for logical_id in RESOURCES:
        statuses = [status for lid, status, _ in events if lid == logical_id]
        assert statuses == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"], logical_id
    # ... each created after what it references
    created = [lid for lid, status, _ in events if status == "CREATE_COMPLETE" and lid != "realtime"]
    assert created == RESOURCES

    outputs = _outputs(cloudformation, "realtime")
    assert outputs["EndpointName"] == "rt-endpoint"
    assert outputs["EndpointArn"].endswith(":endpoint/rt-endpoint")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=outputs["EndpointConfigName"])
    assert config["ProductionVariants"][0]["ModelName"] == outputs["ModelName"]
    assert "KmsKeyId" not in config
    model = sagemaker.describe_model(ModelName=outputs["ModelName"])
    assert model["PrimaryContainer"] == {
        "Image": "repo/image:1",
        "ModelDataUrl": "s3://bucket/model/v1.tar.gz",
    }
    assert model["ExecutionRoleArn"] == outputs["RoleArn"]
    role_name = outputs["RoleArn"].rsplit("/", 1)[1]
    policy = aws_client("iam").get_role_policy(RoleName=role_name, PolicyName="model-access")
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}
    ]
    resources = cloudformation.describe_stack_resources(StackName="realtime")["StackResources"]
    assert {(r["LogicalResourceId"], r["ResourceStatus"]) for r in resources} == {
        (lid, "CREATE_COMPLETE") for lid in RESOURCES
    }


def test_failing_endpoint_rolls_the_create_back(cloudformation: Any, sagemaker: Any, control: Any) -> None:
    control.add_failure(
        "endpoint", "image:broken", "The primary container did not pass the ping health check."
    )
    _create(cloudformation, "doomed", EndpointName="doomed-endpoint", ImageUri="repo/image:broken")

    with pytest.raises(WaiterError, match="ROLLBACK_COMPLETE"):
        cloudformation.get_waiter("stack_create_complete").wait(StackName="doomed", WaiterConfig=WAIT)

    stack = _stack(cloudformation, "doomed")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"].startswith("The following resource(s) failed to create: [Endpoint].")
    events = _events(cloudformation, "doomed")
    failed = [(lid, reason) for lid, status, reason in events if status == "CREATE_FAILED"]
    assert len(failed) == 1
    assert failed[0][0] == "Endpoint"
    assert "The primary container did not pass the ping health check." in failed[0][1]
    stack_statuses = [status for lid, status, _ in events if lid == "doomed"]
    assert stack_statuses == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert {lid for lid, status, _ in events if status == "DELETE_COMPLETE"} == set(RESOURCES)
    assert cloudformation.describe_stack_resources(StackName="doomed")["StackResources"] == []
    assert sagemaker.list_endpoints(NameContains="doomed")["Endpoints"] == []
    assert sagemaker.list_models()["Models"] == []


def test_resource_moto_refuses_fails_the_create(cloudformation: Any, sagemaker: Any) -> None:
    _create(cloudformation, "bad-instance", EndpointName="bad-instance", InstanceType="ml.nonexistent.large")

    assert _stack(cloudformation, "bad-instance")["StackStatus"] == "CREATE_IN_PROGRESS"
    with pytest.raises(WaiterError):
        cloudformation.get_waiter("stack_create_complete").wait(StackName="bad-instance", WaiterConfig=WAIT)

    assert _stack(cloudformation, "bad-instance")["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [
        (lid, reason) for lid, status, reason in _events(cloudformation, "bad-instance") if "FAILED" in status
    ]
    assert [lid for lid, _ in failed] == ["EndpointConfig"]
    assert "ml.nonexistent.large" in failed[0][1]
    assert sagemaker.list_models()["Models"] == []


def test_update_replaces_model_and_config_and_updates_the_endpoint_in_place(
    cloudformation: Any, sagemaker: Any
) -> None:
    before = _deployed(cloudformation, "upd", EndpointName="upd-endpoint")

    _update(cloudformation, "upd", EndpointName="upd-endpoint", ModelDataUrl="s3://bucket/model/v2.tar.gz")

    assert _stack(cloudformation, "upd")["StackStatus"] == "UPDATE_IN_PROGRESS"
    assert sagemaker.describe_endpoint(EndpointName="upd-endpoint")["EndpointStatus"] == "Updating"
    cloudformation.get_waiter("stack_update_complete").wait(StackName="upd", WaiterConfig=WAIT)
    after = _outputs(cloudformation, "upd")
    assert after["EndpointArn"] == before["EndpointArn"]  # the same endpoint, updated in place
    assert after["ModelName"] != before["ModelName"]
    assert after["EndpointConfigName"] != before["EndpointConfigName"]
    endpoint = sagemaker.describe_endpoint(EndpointName="upd-endpoint")
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == (
        "InService",
        after["EndpointConfigName"],
    )
    model = sagemaker.describe_model(ModelName=after["ModelName"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://bucket/model/v2.tar.gz"
    # the replaced model and config are deleted in the cleanup, the role is untouched
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] == [after["ModelName"]]
    configs = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in configs] == [after["EndpointConfigName"]]
    events = _events(cloudformation, "upd")
    update = events[events.index(("upd", "UPDATE_IN_PROGRESS", "User Initiated")) :]
    assert [s for lid, s, _ in update if lid == "upd"] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    assert [s for lid, s, _ in update if lid == "Endpoint"] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert [s for lid, s, _ in update if lid == "Model"] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
    ]
    assert not [lid for lid, _, _ in update if lid == "Role"]


def test_failed_update_rolls_back_to_the_old_endpoint_config(
    cloudformation: Any, sagemaker: Any, control: Any
) -> None:
    before = _deployed(cloudformation, "rb", EndpointName="rb-endpoint")
    control.add_failure("endpoint", "v2-broken", "Failed to extract model data archive.")

    _update(
        cloudformation, "rb", EndpointName="rb-endpoint", ModelDataUrl="s3://bucket/model/v2-broken.tar.gz"
    )

    with pytest.raises(WaiterError, match="UPDATE_ROLLBACK_COMPLETE"):
        cloudformation.get_waiter("stack_update_complete").wait(StackName="rb", WaiterConfig=WAIT)
    stack = _stack(cloudformation, "rb")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"].startswith("The following resource(s) failed to update: [Endpoint].")
    endpoint = sagemaker.describe_endpoint(EndpointName="rb-endpoint")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == before["EndpointConfigName"]
    assert _outputs(cloudformation, "rb") == before
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["ModelDataUrl"] == "s3://bucket/model/v1.tar.gz"
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] == [before["ModelName"]]
    failed = [
        (lid, reason) for lid, status, reason in _events(cloudformation, "rb") if status == "UPDATE_FAILED"
    ]
    assert [lid for lid, _ in failed] == ["Endpoint"]
    assert "Failed to extract model data archive." in failed[0][1]
    assert [s for lid, s, _ in _events(cloudformation, "rb") if lid == "rb"][-4:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    # ... and the stack can be updated again
    _update(cloudformation, "rb", EndpointName="rb-endpoint", ModelDataUrl="s3://bucket/model/v3.tar.gz")
    cloudformation.get_waiter("stack_update_complete").wait(StackName="rb", WaiterConfig=WAIT)


def test_delete_stack_deletes_its_endpoint(cloudformation: Any, sagemaker: Any) -> None:
    stack_id = _create(cloudformation, "gone", EndpointName="gone-endpoint")
    cloudformation.get_waiter("stack_create_complete").wait(StackName="gone", WaiterConfig=WAIT)

    cloudformation.delete_stack(StackName="gone")

    assert _stack(cloudformation, "gone")["StackStatus"] == "DELETE_IN_PROGRESS"
    cloudformation.get_waiter("stack_delete_complete").wait(StackName="gone", WaiterConfig=WAIT)
    assert _stack(cloudformation, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="does not exist"):
        _stack(cloudformation, "gone")
    with pytest.raises(ClientError, match="Could not find endpoint"):
        sagemaker.describe_endpoint(EndpointName="gone-endpoint")
    assert sagemaker.list_models()["Models"] == []
    events = _events(cloudformation, stack_id)
    deletes = [lid for lid, status, _ in events if status == "DELETE_COMPLETE"]
    assert sorted(deletes[:-1]) == sorted(RESOURCES)
    assert deletes[-1] == "gone"
    assert [s for lid, s, _ in events if lid == "gone"][-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]


def test_model_from_a_model_package(cloudformation: Any, sagemaker: Any) -> None:
    package = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3"

    outputs = _deployed(
        cloudformation, "registry", EndpointName="registry-endpoint", ModelPackageName=package
    )

    model = sagemaker.describe_model(ModelName=outputs["ModelName"])
    assert model["PrimaryContainer"] == {"ModelPackageName": package}


def test_invalid_requests_are_refused_at_once(cloudformation: Any) -> None:
    with pytest.raises(ClientError, match=r"Requires capabilities : \[CAPABILITY_IAM\]"):
        cloudformation.create_stack(
            StackName="no-caps",
            TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": "EndpointName", "ParameterValue": "x"}],
        )
    with pytest.raises(ClientError, match="Parameter 'EndpointName' must match pattern"):
        _create(cloudformation, "bad-name", EndpointName="not a name")
    with pytest.raises(ClientError, match=r"Parameters: \[Typo, Unknown\] do not exist in the template"):
        _create(cloudformation, "undeclared", EndpointName="undeclared", Unknown="x", Typo="y")
    _create(cloudformation, "busy", EndpointName="busy-endpoint")
    with pytest.raises(ClientError, match="is in CREATE_IN_PROGRESS state and can not be updated"):
        _update(cloudformation, "busy", EndpointName="busy-endpoint", ImageUri="repo/image:2")
    with pytest.raises(ClientError, match=r"Stack \[busy\] already exists"):
        _create(cloudformation, "busy", EndpointName="busy-endpoint")
    cloudformation.get_waiter("stack_create_complete").wait(StackName="busy", WaiterConfig=WAIT)
    with pytest.raises(ClientError, match="No updates are to be performed"):
        _update(cloudformation, "busy", EndpointName="busy-endpoint")
    assert [lid for lid, *_ in _events(cloudformation, "busy")].count("busy") == 2  # nothing started


def test_custom_named_resource_that_needs_replacing_fails_the_update(
    cloudformation: Any, sagemaker: Any
) -> None:
    named = TEMPLATE.replace(
        "      ExecutionRoleArn: !GetAtt Role.Arn\n",
        "      ExecutionRoleArn: !GetAtt Role.Arn\n      ModelName: fixed-model\n",
    )
    _create(cloudformation, "named", template=named, EndpointName="named-endpoint")
    cloudformation.get_waiter("stack_create_complete").wait(StackName="named", WaiterConfig=WAIT)

    cloudformation.update_stack(
        StackName="named",
        TemplateBody=named,
        Parameters=[
            {"ParameterKey": "EndpointName", "ParameterValue": "named-endpoint"},
            {"ParameterKey": "ImageUri", "ParameterValue": "repo/image:2"},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )

    with pytest.raises(WaiterError, match="UPDATE_ROLLBACK_COMPLETE"):
        cloudformation.get_waiter("stack_update_complete").wait(StackName="named", WaiterConfig=WAIT)
    failed = [
        (lid, reason) for lid, status, reason in _events(cloudformation, "named") if status == "UPDATE_FAILED"
    ]
    assert failed == [
        (
            "Model",
            "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
            "Rename fixed-model and update the stack again.",
        )
    ]
    assert sagemaker.describe_model(ModelName="fixed-model")["PrimaryContainer"]["Image"] == "repo/image:1"


def test_change_sets_run_the_same_timed_create_and_update(cloudformation: Any, sagemaker: Any) -> None:
    def change_set(name: str, change_set_type: str, **parameters: str) -> None:
        cloudformation.create_change_set(
            StackName="via-change-sets",
            ChangeSetName=name,
            ChangeSetType=change_set_type,
            TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        cloudformation.execute_change_set(StackName="via-change-sets", ChangeSetName=name)

    change_set("first", "CREATE", EndpointName="cs-endpoint")
    assert _stack(cloudformation, "via-change-sets")["StackStatus"] == "CREATE_IN_PROGRESS"
    cloudformation.get_waiter("stack_create_complete").wait(StackName="via-change-sets", WaiterConfig=WAIT)
    before = _outputs(cloudformation, "via-change-sets")

    change_set("second", "UPDATE", EndpointName="cs-endpoint", ImageUri="repo/image:2")
    assert _stack(cloudformation, "via-change-sets")["StackStatus"] == "UPDATE_IN_PROGRESS"
    cloudformation.get_waiter("stack_update_complete").wait(StackName="via-change-sets", WaiterConfig=WAIT)

    after = _outputs(cloudformation, "via-change-sets")
    assert after["EndpointArn"] == before["EndpointArn"]
    endpoint = sagemaker.describe_endpoint(EndpointName="cs-endpoint")
    assert endpoint["EndpointConfigName"] == after["EndpointConfigName"] != before["EndpointConfigName"]
