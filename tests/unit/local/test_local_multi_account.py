"""Several accounts in the emulator: StackSet operations over time, AssumeRole checks, shared model packages."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

ADMIN = "123456789012"
# Accounts of their own: moto's state is per process, shared with the integration tests' accounts.
DEV, STAGING = "601111111111", "602222222222"

TEMPLATE = """
Parameters:
  Suffix: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "stackset-${Suffix}-${AWS::AccountId}"
Outputs:
  Name: {Value: !Ref Bucket}
"""
TRUST_ADMIN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ADMIN}:role/AWSCloudFormationStackSetAdministrationRole"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@pytest.fixture
def client_of(local_aws, control):
    """``client_of(account)("service")``: acting in an account, as its administrator."""
    from mlops_orchestrator.run.accounts import account_client

    return lambda account: account_client(local_aws.endpoint_url, "us-east-1", account)


def execution_role(client_of, account: str) -> None:
    client_of(account)("iam").create_role(
        RoleName="AWSCloudFormationStackSetExecutionRole", AssumeRolePolicyDocument=json.dumps(TRUST_ADMIN)
    )


def wait_operation(cloudformation, name: str, operation_id: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        operation = cloudformation.describe_stack_set_operation(StackSetName=name, OperationId=operation_id)[
            "StackSetOperation"
        ]
        if operation["Status"] not in ("RUNNING", "QUEUED", "STOPPING") or time.monotonic() > deadline:
            return operation
        time.sleep(0.1)


def stack_set(client_of, name: str, suffix: str = "a") -> Any:
    cloudformation = client_of(ADMIN)("cloudformation")
    cloudformation.create_stack_set(
        StackSetName=name,
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Suffix", "ParameterValue": suffix}],
    )
    return cloudformation


def results(cloudformation, name: str, operation_id: str) -> dict[str, tuple[str, str | None]]:
    summaries = cloudformation.list_stack_set_operation_results(StackSetName=name, OperationId=operation_id)
    return {r["Account"]: (r["Status"], r.get("StatusReason")) for r in summaries["Summaries"]}


def test_an_operation_runs_over_time_and_deploys_stacks_in_the_target_accounts(client_of, control):
    control.set_settings(stack_seconds=0.5)
    execution_role(client_of, DEV)
    cloudformation = stack_set(client_of, "two-accounts")
    operation_id = cloudformation.create_stack_instances(
        StackSetName="two-accounts", Accounts=[DEV], Regions=["us-east-1"], OperationId="first"
    )["OperationId"]
    assert operation_id == "first"
    running = cloudformation.describe_stack_set_operation(StackSetName="two-accounts", OperationId="first")
    assert running["StackSetOperation"]["Status"] == "RUNNING"
    assert wait_operation(cloudformation, "two-accounts", "first")["Status"] == "SUCCEEDED"
    (instance,) = cloudformation.list_stack_instances(StackSetName="two-accounts")["Summaries"]
    assert (instance["Account"], instance["Status"], instance["LastOperationId"]) == (DEV, "CURRENT", "first")
    stacks = client_of(DEV)("cloudformation").describe_stacks()["Stacks"]
    assert [(s["StackId"], s["StackStatus"]) for s in stacks] == [(instance["StackId"], "CREATE_COMPLETE")]
    assert client_of(DEV)("s3").head_bucket(Bucket=f"stackset-a-{DEV}")  # the resource is in that account


def test_an_account_without_the_execution_role_fails_with_cloudformations_reason(client_of, control):
    execution_role(client_of, DEV)
    cloudformation = stack_set(client_of, "missing-role")
    cloudformation.create_stack_instances(
        StackSetName="missing-role", Accounts=[DEV, STAGING], Regions=["us-east-1"], OperationId="op"
    )
    operation = wait_operation(cloudformation, "missing-role", "op")
    assert operation["Status"] == "FAILED"
    assert operation["StatusDetails"] == {"FailedStackInstancesCount": 1}
    by_account = results(cloudformation, "missing-role", "op")
    assert by_account[DEV] == ("SUCCEEDED", None)
    assert by_account[STAGING] == (
        "FAILED",
        f"Account {STAGING} should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship "
        "to Role 'AWSCloudFormationStackSetAdministrationRole'.",
    )


def test_a_failed_stack_is_reported_with_its_resource_and_the_failed_create_blocks_updates(client_of, control):
    execution_role(client_of, DEV)
    client_of(DEV)("s3").create_bucket(Bucket=f"stackset-taken-{DEV}")  # the stack's bucket name is taken
    cloudformation = stack_set(client_of, "taken", suffix="taken")
    cloudformation.create_stack_instances(StackSetName="taken", Accounts=[DEV], Regions=["us-east-1"], OperationId="c")
    assert wait_operation(cloudformation, "taken", "c")["Status"] == "FAILED"
    (status, reason) = results(cloudformation, "taken", "c")[DEV]
    assert status == "FAILED"
    assert reason.startswith("ResourceLogicalId:Bucket, ResourceType:AWS::S3::Bucket, ResourceStatusReason:")
    (instance,) = cloudformation.list_stack_instances(StackSetName="taken")["Summaries"]
    assert (instance["Status"], instance["StackInstanceStatus"]["DetailedStatus"]) == ("OUTDATED", "FAILED")
    # As in CloudFormation, the instance's stack is ROLLBACK_COMPLETE and cannot be updated.
    cloudformation.update_stack_set(
        StackSetName="taken", TemplateBody=TEMPLATE, Parameters=[{"ParameterKey": "Suffix", "ParameterValue": "b"}],
        OperationId="u",
    )
    assert wait_operation(cloudformation, "taken", "u")["Status"] == "FAILED"
    assert "ROLLBACK_COMPLETE state and can not be updated" in results(cloudformation, "taken", "u")[DEV][1]


def test_one_operation_at_a_time_ids_are_unique_and_a_stack_set_with_instances_stays(client_of, control):
    control.set_settings(stack_seconds=1)
    execution_role(client_of, DEV)
    cloudformation = stack_set(client_of, "busy")
    cloudformation.create_stack_instances(StackSetName="busy", Accounts=[DEV], Regions=["us-east-1"], OperationId="x")
    with pytest.raises(ClientError) as busy:
        cloudformation.update_stack_set(StackSetName="busy", UsePreviousTemplate=True, OperationId="y")
    assert busy.value.response["Error"]["Code"] == "OperationInProgressException"
    wait_operation(cloudformation, "busy", "x")
    with pytest.raises(ClientError) as again:
        cloudformation.update_stack_set(StackSetName="busy", UsePreviousTemplate=True, OperationId="x")
    assert again.value.response["Error"]["Code"] == "OperationIdAlreadyExistsException"
    with pytest.raises(ClientError) as not_empty:
        cloudformation.delete_stack_set(StackSetName="busy")
    assert not_empty.value.response["Error"]["Code"] == "StackSetNotEmptyException"
    cloudformation.delete_stack_instances(
        StackSetName="busy", Accounts=[DEV], Regions=["us-east-1"], RetainStacks=False, OperationId="d"
    )
    assert wait_operation(cloudformation, "busy", "d")["Status"] == "SUCCEEDED"
    assert cloudformation.list_stack_instances(StackSetName="busy")["Summaries"] == []
    cloudformation.delete_stack_set(StackSetName="busy")
    assert [s["StackStatus"] for s in client_of(DEV)("cloudformation").list_stacks()["StackSummaries"]] == [
        "DELETE_COMPLETE"
    ]


def test_a_failure_rule_fails_a_chosen_account(client_of, control):
    execution_role(client_of, DEV)
    execution_role(client_of, STAGING)
    control.add_failure("stackset_instance", match=STAGING, reason="Account gate: quota exceeded")
    cloudformation = stack_set(client_of, "ruled")
    cloudformation.create_stack_instances(
        StackSetName="ruled",
        Accounts=[DEV, STAGING],
        Regions=["us-east-1"],
        OperationId="r",
        OperationPreferences={"FailureToleranceCount": 1},
    )
    operation = wait_operation(cloudformation, "ruled", "r")
    assert operation["Status"] == "SUCCEEDED"  # within the tolerance
    assert results(cloudformation, "ruled", "r")[STAGING] == ("FAILED", "Account gate: quota exceeded")


def test_service_managed_targets_only_the_given_accounts_of_the_unit(client_of, control):
    cloudformation = client_of(ADMIN)("cloudformation")
    cloudformation.create_stack_set(
        StackSetName="org", TemplateBody=TEMPLATE, PermissionModel="SERVICE_MANAGED",
        Parameters=[{"ParameterKey": "Suffix", "ParameterValue": "org"}],
        AutoDeployment={"Enabled": False},
    )
    cloudformation.create_stack_instances(
        StackSetName="org",
        DeploymentTargets={"OrganizationalUnitIds": ["ou-ab12-cdefgh34"], "Accounts": [DEV], "AccountFilterType": "INTERSECTION"},
        Regions=["us-east-1"],
        OperationId="o",
        CallAs="SELF",
    )
    assert wait_operation(cloudformation, "org", "o")["Status"] == "SUCCEEDED"  # no execution role needed
    (instance,) = cloudformation.list_stack_instances(StackSetName="org")["Summaries"]
    assert (instance["Account"], instance["OrganizationalUnitId"]) == (DEV, "ou-ab12-cdefgh34")
    assert client_of(DEV)("cloudformation").describe_stacks()["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_assume_role_needs_the_role_and_its_trust(client_of, control, aws_client):
    sts = aws_client("sts")
    with pytest.raises(ClientError) as missing:
        sts.assume_role(RoleArn=f"arn:aws:iam::{DEV}:role/deployer", RoleSessionName="airflow")
    assert missing.value.response["Error"]["Code"] == "AccessDenied"
    assert f"no such role in account {DEV}" in str(missing.value)
    iam = client_of(DEV)("iam")
    iam.create_role(
        RoleName="deployer",
        AssumeRolePolicyDocument=json.dumps(
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}
        ),
    )
    with pytest.raises(ClientError) as untrusted:
        sts.assume_role(RoleArn=f"arn:aws:iam::{DEV}:role/deployer", RoleSessionName="airflow")
    assert f"does not allow account {ADMIN}" in str(untrusted.value)
    iam.update_assume_role_policy(
        RoleName="deployer",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ADMIN}:root"}, "Action": "sts:AssumeRole"}],
            }
        ),
    )
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{DEV}:role/deployer", RoleSessionName="airflow")["Credentials"]
    assumed = boto3.client(
        "sts",
        endpoint_url=sts.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert assumed.get_caller_identity()["Account"] == DEV


def test_another_accounts_model_package_needs_its_groups_policy(client_of, control, sagemaker):
    sagemaker.create_model_package_group(ModelPackageGroupName="shared")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="shared",
        InferenceSpecification={
            "Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgb:1", "ModelDataUrl": "s3://b/m.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]
    dev = client_of(DEV)("sagemaker")
    with pytest.raises(ClientError) as refused:
        dev.create_model(ModelName="m", ExecutionRoleArn=f"arn:aws:iam::{DEV}:role/r", PrimaryContainer={"ModelPackageName": arn})
    assert "no resource-based policy allows the sagemaker:DescribeModelPackage action" in str(refused.value)
    group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName="shared")["ModelPackageGroupArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{DEV}:root"]},
                "Action": ["sagemaker:DescribeModelPackage"],
                "Resource": [group_arn, group_arn.replace("model-package-group", "model-package") + "/*"],
            }
        ],
    }
    sagemaker.put_model_package_group_policy(ModelPackageGroupName="shared", ResourcePolicy=json.dumps(policy))
    assert json.loads(sagemaker.get_model_package_group_policy(ModelPackageGroupName="shared")["ResourcePolicy"]) == policy
    dev.create_model(ModelName="m", ExecutionRoleArn=f"arn:aws:iam::{DEV}:role/r", PrimaryContainer={"ModelPackageName": arn})
    with pytest.raises(ClientError):  # another account is still refused
        client_of(STAGING)("sagemaker").create_model(
            ModelName="m", ExecutionRoleArn=f"arn:aws:iam::{STAGING}:role/r", PrimaryContainer={"ModelPackageName": arn}
        )
