"""Realtime endpoint pipelines end to end: real DAG runs against the local AWS emulator over HTTP."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
XGBOOST_REPOSITORY = "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"


def builtin(model: str, artifact: str = "v1", **extra) -> dict:
    return {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": f"models/{model}/{artifact}/model.tar.gz",
        "data_capture_location": f"it-assets/capture/{model}",
        "inference_instance": "ml.m5.large",
        **extra,
    }


def endpoint_of(report: dict) -> dict:
    (endpoint,) = report["resources"]["endpoints"]
    return endpoint


def role_policy(aws, report: dict) -> dict:
    """The statements of the endpoint stack's execution role policy, by Sid."""
    (stack,) = report["resources"]["stacks"]
    role_name = next(r["physical_id"] for r in stack["resources"] if r["type"] == "AWS::IAM::Role")
    document = aws("iam").get_role_policy(RoleName=role_name, PolicyName="model-access")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    return {s["Sid"]: s for s in document["Statement"]}


def serving_model(aws, endpoint_name: str) -> dict:
    sagemaker = aws("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model_name = config["ProductionVariants"][0]["ModelName"]
    return {"endpoint": endpoint, "config": config, "model": sagemaker.describe_model(ModelName=model_name)}


def test_builtin_deploys_updates_rolls_back_and_deprovisions(run_config, aws, control):
    # 1. deploy: the stack and the endpoint, InService, the image looked up at run time.
    report = run_config(builtin("churn"), name="churn.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == {
        "deploy_stack": "success",
        "deployed": "success",  # completed by the scheduler: no task process
        "delete_stack": "skipped",
    }
    (stack,) = report["resources"]["stacks"]
    assert stack["name"] == "mlops-pipeline-churn-byompipelinerealtimebuiltin"
    assert stack["status"] == "CREATE_COMPLETE"
    assert {r["type"] for r in stack["resources"]} == {
        "AWS::IAM::Role",
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
    }
    assert endpoint_of(report) | {"endpoint_config": None} == {
        "name": "churn-endpoint",
        "status": "InService",
        "endpoint_config": None,
        "instance_type": "ml.m5.large",
        "failure_reason": None,
    }
    first = serving_model(aws, "churn-endpoint")
    assert first["model"]["PrimaryContainer"]["Image"] == XGBOOST_IMAGE
    assert first["model"]["PrimaryContainer"]["ModelDataUrl"] == "s3://it-assets/models/churn/v1/model.tar.gz"
    capture = first["config"]["DataCaptureConfig"]
    assert capture["DestinationS3Uri"] == "s3://it-assets/capture/churn"
    assert capture["InitialSamplingPercentage"] == 100
    # The role reads this one artifact and pulls from this one repository.
    statements = role_policy(aws, report)
    artifact = "arn:aws:s3:::it-assets/models/churn/v1/model.tar.gz"
    assert statements["ReadModelArtifact"]["Resource"] == artifact
    assert statements["PullImage"]["Resource"] == XGBOOST_REPOSITORY
    assert statements["WriteDataCapture"]["Resource"] == "arn:aws:s3:::it-assets/capture/churn/*"

    # 2. re-run with a new artifact: the same stack is updated, the endpoint keeps its name.
    report = run_config(builtin("churn", artifact="v2"), name="churn.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["resources"]["stacks"][0]["status"] == "UPDATE_COMPLETE"
    second = serving_model(aws, "churn-endpoint")
    assert second["endpoint"]["EndpointStatus"] == "InService"
    assert second["config"]["EndpointConfigName"] != first["config"]["EndpointConfigName"]
    assert second["model"]["PrimaryContainer"]["ModelDataUrl"].endswith("/v2/model.tar.gz")

    # 3. an update that fails: the task fails with the reason, the old model keeps serving.
    control.add_failure("endpoint", match="/v3/", reason="Failed to download model data from v3")
    report = run_config(builtin("churn", artifact="v3"), name="churn.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["deploy_stack"] == "failed"
    assert report["tasks"]["deployed"] == "upstream_failed"  # what fails the run: Airflow reads its leaves
    message = report["failures"]["deploy_stack"]
    assert "Stack mlops-pipeline-churn-byompipelinerealtimebuiltin in account 123456789012 (us-east-1) did not deploy: it ended UPDATE_ROLLBACK_COMPLETE." in message
    assert "Failed to download model data from v3" in message
    assert "AWS::SageMaker::Endpoint" in message
    assert "previous deployment is unchanged and still serving" in message
    after = serving_model(aws, "churn-endpoint")
    assert after["endpoint"]["EndpointStatus"] == "InService"
    assert after["config"]["EndpointConfigName"] == second["config"]["EndpointConfigName"]
    assert after["model"]["PrimaryContainer"]["ModelDataUrl"].endswith("/v2/model.tar.gz")

    # 4. deprovision: the stack and the endpoint are gone; twice is not an error.
    control.clear_failures()
    report = run_config(builtin("churn", artifact="v2"), name="churn.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["delete_stack"] == "success"
    assert report["tasks"]["deploy_stack"] == "skipped"  # it skipped itself: the run deprovisions
    assert report["tasks"]["deployed"] == "skipped"
    assert report["resources"]["stacks"] == []
    with pytest.raises(ClientError, match="Could not find endpoint"):
        aws("sagemaker").describe_endpoint(EndpointName="churn-endpoint")
    again = run_config(builtin("churn", artifact="v2"), name="churn.yaml", action="deprovision")
    assert again["state"] == "success", again["failures"]


def test_failed_create_names_the_resource_and_the_next_run_recreates(run_config, control):
    control.add_failure("endpoint", match="fraud-endpoint", reason="ResourceLimitExceeded: no ml.m5.large left")
    report = run_config(builtin("fraud"), name="fraud.yaml")
    assert report["state"] == "failed"
    message = report["failures"]["deploy_stack"]
    assert "Stack mlops-pipeline-fraud-byompipelinerealtimebuiltin in account 123456789012 (us-east-1) did not deploy: it ended ROLLBACK_COMPLETE." in message
    assert "Endpoint (AWS::SageMaker::Endpoint): CREATE_FAILED: " in message
    assert "ResourceLimitExceeded: no ml.m5.large left" in message
    assert report["resources"]["endpoints"] == []

    control.clear_failures()
    report = run_config(builtin("fraud"), name="fraud.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["resources"]["stacks"][0]["status"] == "CREATE_COMPLETE"
    assert endpoint_of(report)["status"] == "InService"


def test_model_registry_variant_deploys_the_package(run_config, aws):
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/credit-risk/1"
    config = {
        "pipeline_type": "byom_realtime_builtin",
        "model_name": "credit-risk",
        "model_package_name": arn,
        "data_capture_location": "it-assets/capture/credit-risk",
        "inference_instance": "ml.m5.large",
        "endpoint_name": "credit-risk-live",
    }
    report = run_config(config, name="registry.yaml")
    assert report["state"] == "success", report["failures"]
    assert endpoint_of(report)["status"] == "InService"
    serving = serving_model(aws, "credit-risk-live")
    assert serving["model"]["PrimaryContainer"]["ModelPackageName"] == arn
    # The role reads every artifact of the package and pulls every image (here one of each).
    statements = role_policy(aws, report)
    artifact = "arn:aws:s3:::it-assets/registry/credit-risk/model.tar.gz"
    assert statements["ReadModelArtifact"]["Resource"] == [artifact]
    assert statements["PullImage"]["Resource"] == [XGBOOST_REPOSITORY]


def test_custom_image_with_kms_and_vpc(run_config, aws):
    kms = "arn:aws:kms:me-south-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config = {
        "pipeline_type": "byom_realtime_custom",
        "model_name": "ranker",
        "custom_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:2.1",
        "model_artifact_location": "s3://it-assets/models/ranker/model.tar.gz",
        "data_capture_location": "s3://it-assets/capture/ranker/",
        "inference_instance": "ml.c5.xlarge",
        "kms_key_arn": kms,
        "subnet_ids": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"],
        "security_group_ids": ["sg-0a1b2c3d"],
        "stack_name": "ranker-serving",
    }
    report = run_config(config, name="ranker.json")
    assert report["state"] == "success", report["failures"]
    assert report["resources"]["stacks"][0]["name"] == "ranker-serving"
    serving = serving_model(aws, "ranker-endpoint")
    assert serving["model"]["PrimaryContainer"]["Image"] == config["custom_image_uri"]
    assert serving["model"]["VpcConfig"] == {
        "Subnets": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"],
        "SecurityGroupIds": ["sg-0a1b2c3d"],
    }
    assert serving["config"]["KmsKeyId"] == kms
    assert serving["config"]["DataCaptureConfig"]["KmsKeyId"] == kms
    assert serving["config"]["DataCaptureConfig"]["DestinationS3Uri"] == "s3://it-assets/capture/ranker"


def test_unknown_builtin_version_fails_resolve_with_the_field_names(run_config):
    report = run_config(builtin("odd", model_framework_version="0.1-9"), name="odd.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["deploy_stack"] == "failed"
    assert report["tasks"]["delete_stack"] == "skipped"  # a failed deploy never deprovisions
    assert "model_framework 'xgboost' with model_framework_version '0.1-9'" in report["failures"]["deploy_stack"]
    assert report["resources"]["stacks"] == []  # it failed before creating anything
