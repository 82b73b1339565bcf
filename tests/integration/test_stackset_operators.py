"""The StackSet operators' deferral, re-attach, no-change, recovery and deletion, against the emulator."""

from __future__ import annotations

import contextlib
import json

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from mlops_orchestrator.operators.cloudformation_stackset import (
    DeleteStackSetOperator,
    DeployStackSetOperator,
)
from mlops_orchestrator.run.accounts import account_client
from mlops_orchestrator.run.airflow_env import set_local_aws_connection
from mlops_orchestrator.triggers.cloudformation_stackset import StackSetOperationCompleteTrigger
from task_doubles import RecordingTaskInstance, run_trigger

pytestmark = pytest.mark.integration

DEV, STAGING = "444444444444", "555555555555"
TEMPLATE = """
Parameters:
  Suffix: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "op-${Suffix}-${AWS::AccountId}"
Outputs:
  BucketName: {Value: !Ref Bucket}
"""


@pytest.fixture
def accounts(local_aws):
    """Two accounts with the self-managed execution role; ``client(account, service)``."""
    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}],
    }
    for account in (DEV, STAGING):
        iam = account_client(local_aws.endpoint_url, "us-east-1", account)("iam")
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_role(RoleName="AWSCloudFormationStackSetExecutionRole", AssumeRolePolicyDocument=json.dumps(trust))
    return lambda account, service: account_client(local_aws.endpoint_url, "us-east-1", account)(service)


def deploy(name: str, suffix: str, accounts=(DEV,)) -> DeployStackSetOperator:
    return DeployStackSetOperator(
        task_id="deploy_stack",
        stack_set_name=name,
        template_body=TEMPLATE,
        parameters={"Suffix": suffix},
        accounts=list(accounts),
        regions=["us-east-1"],
        waiter_delay=1,
    )


def run_to_end(operator, context) -> dict:
    """execute(), then each deferral's trigger and execute_complete(), as Airflow would, to the result."""
    try:
        return operator.execute(context)
    except TaskDeferred as deferred:
        trigger = deferred.trigger
    while True:
        event = run_trigger(trigger)
        try:
            return operator.execute_complete(context, event)
        except TaskDeferred as deferred:
            trigger = deferred.trigger


def operations(aws, name: str) -> list[tuple[str, str]]:
    summaries = aws("cloudformation").list_stack_set_operations(StackSetName=name)["Summaries"]
    return [(s["Action"], s["Status"]) for s in reversed(summaries)]


def test_deploy_defers_on_the_operation_and_reports_each_account(accounts, aws, control):
    control.set_settings(stack_seconds=12)  # still running when the test looks, even on a loaded machine
    operator = deploy("op-demo", "one", accounts=(DEV, STAGING))
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, StackSetOperationCompleteTrigger)
    assert trigger.waiter_args["OperationId"].startswith("airflow-")
    # While the task is deferred the operation runs: no worker waits for it.
    assert operations(aws, "op-demo") == [("CREATE", "RUNNING")]
    result = operator.execute_complete(context, run_trigger(trigger))
    assert {(i["account"], i["status"]) for i in result["instances"]} == {(DEV, "CURRENT"), (STAGING, "CURRENT")}
    assert "mlops_cloudformation_stack_set" in context["ti"].xcom
    assert "mlops_cloudformation_stack_set_operation" in context["ti"].xcom
    # The same values again (the next DAG run): nothing to do, no operation started.
    rerun = {"ti": RecordingTaskInstance("deploy_stack", run_id="manual__second")}
    assert run_to_end(deploy("op-demo", "one", accounts=(DEV, STAGING)), rerun)["instances"]
    assert operations(aws, "op-demo") == [("CREATE", "SUCCEEDED")]
    # A changed value: one update of the stack set, reaching both accounts.
    run_to_end(deploy("op-demo", "two", accounts=(DEV, STAGING)), {"ti": RecordingTaskInstance("deploy_stack", run_id="manual__third")})
    assert operations(aws, "op-demo") == [("CREATE", "SUCCEEDED"), ("UPDATE", "SUCCEEDED")]
    for account in (DEV, STAGING):
        assert accounts(account, "s3").head_bucket(Bucket=f"op-two-{account}")


def test_a_retry_while_the_operation_runs_attaches_to_it(accounts, aws, control):
    control.set_settings(stack_seconds=12)  # still running at the retry, even on a loaded machine
    first_try = {"ti": RecordingTaskInstance("deploy_stack", try_number=1)}
    with pytest.raises(TaskDeferred) as first:
        deploy("op-retry", "r").execute(first_try)
    # The worker died; Airflow runs the task's next try while the operation still runs.
    second_try = {"ti": RecordingTaskInstance("deploy_stack", try_number=2)}
    with pytest.raises(TaskDeferred) as second:
        deploy("op-retry", "r").execute(second_try)
    assert second.value.trigger.waiter_args["OperationId"] == first.value.trigger.waiter_args["OperationId"]
    assert operations(aws, "op-retry") == [("CREATE", "RUNNING")]
    deploy("op-retry", "r").execute_complete(second_try, run_trigger(second.value.trigger))
    assert operations(aws, "op-retry") == [("CREATE", "SUCCEEDED")], "one operation, not two"


def test_a_failed_account_fails_the_task_by_name_and_the_next_try_recreates_it(accounts, aws, control):
    control.set_settings(stack_seconds=0.5)
    accounts(STAGING, "s3").create_bucket(Bucket=f"op-taken-{STAGING}")  # staging's stack will fail
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    with pytest.raises(AirflowException) as failure:
        run_to_end(deploy("op-fail", "taken", accounts=(DEV, STAGING)), context)
    message = str(failure.value)
    assert message.startswith("StackSet op-fail: CREATE operation airflow-")
    assert f"account {STAGING} (us-east-1): FAILED: ResourceLogicalId:Bucket, ResourceType:AWS::S3::Bucket" in message
    assert DEV not in message
    # The cause goes away; the next try deletes the instance whose create failed and creates it again.
    accounts(STAGING, "s3").delete_bucket(Bucket=f"op-taken-{STAGING}")
    retry = {"ti": RecordingTaskInstance("deploy_stack", try_number=2)}
    result = run_to_end(deploy("op-fail", "taken", accounts=(DEV, STAGING)), retry)
    assert {(i["account"], i["status"]) for i in result["instances"]} == {(DEV, "CURRENT"), (STAGING, "CURRENT")}
    assert operations(aws, "op-fail") == [("CREATE", "FAILED"), ("DELETE", "SUCCEEDED"), ("CREATE", "SUCCEEDED")]


def test_a_failed_update_is_updated_again_not_recreated(accounts, aws, control):
    control.set_settings(stack_seconds=0.5)
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    run_to_end(deploy("op-update", "v1"), context)
    accounts(DEV, "s3").create_bucket(Bucket=f"op-v2-{DEV}")  # the new bucket name is taken: the update fails
    next_run = {"ti": RecordingTaskInstance("deploy_stack", run_id="manual__next")}
    with pytest.raises(AirflowException, match=f"UPDATE operation .* FAILED.\n  - account {DEV}"):
        run_to_end(deploy("op-update", "v2"), next_run)
    accounts(DEV, "s3").delete_bucket(Bucket=f"op-v2-{DEV}")
    run_to_end(deploy("op-update", "v2"), {"ti": RecordingTaskInstance("deploy_stack", run_id="manual__next", try_number=2)})
    assert operations(aws, "op-update") == [("CREATE", "SUCCEEDED"), ("UPDATE", "FAILED"), ("UPDATE", "SUCCEEDED")]
    assert accounts(DEV, "s3").head_bucket(Bucket=f"op-v2-{DEV}")


def test_delete_removes_the_instances_then_the_stack_set_and_twice_is_fine(accounts, aws, control):
    control.set_settings(stack_seconds=0.3)
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    run_to_end(deploy("op-delete", "d", accounts=(DEV, STAGING)), context)
    delete = DeleteStackSetOperator(task_id="delete_stack", stack_set_name="op-delete", waiter_delay=1)
    assert run_to_end(delete, {"ti": RecordingTaskInstance("delete_stack")}) == {
        "stack_set_name": "op-delete",
        "deleted": True,
    }
    assert [s["StackSetName"] for s in aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"]].count(
        "op-delete"
    ) == 0
    for account in (DEV, STAGING):
        stacks = accounts(account, "cloudformation").list_stacks()["StackSummaries"]
        assert {s["StackStatus"] for s in stacks if "op-delete" in s["StackName"]} == {"DELETE_COMPLETE"}
    assert run_to_end(delete, {"ti": RecordingTaskInstance("delete_stack")})["deleted"] is True
