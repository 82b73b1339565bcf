"""The stack operators' deferral, trigger and retry behaviour, against the emulator over HTTP."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployStackOperator
from mlops_orchestrator.run.airflow_env import set_local_aws_connection
from mlops_orchestrator.triggers.cloudformation import StackDeployCompleteTrigger
from task_doubles import RecordingTaskInstance, run_trigger

pytestmark = pytest.mark.integration

BUCKET_TEMPLATE = """
Parameters:
  Suffix:
    Type: String
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "stack-op-${Suffix}"
Outputs:
  BucketName:
    Value: !Ref Bucket
"""



@pytest.fixture
def connection(local_aws):
    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")




def deploy_operator(stack_name: str, suffix: str) -> DeployStackOperator:
    return DeployStackOperator(
        task_id="deploy_stack",
        stack_name=stack_name,
        template_body=BUCKET_TEMPLATE,
        parameters={"Suffix": suffix},
        waiter_delay=1,
    )


def test_deploy_defers_then_completes_from_the_trigger_event(connection, control, aws):
    control.set_settings(stack_seconds=12)  # still in progress when the test looks, even on a loaded machine
    operator = deploy_operator("deferral-demo", "one")
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    assert deferred.value.method_name == "execute_complete"
    trigger = deferred.value.trigger
    assert isinstance(trigger, StackDeployCompleteTrigger)
    # While the task is deferred the stack is still being created: no worker waits for it.
    status = aws("cloudformation").describe_stacks(StackName="deferral-demo")["Stacks"][0]["StackStatus"]
    assert status == "CREATE_IN_PROGRESS"

    event = run_trigger(trigger)
    assert event["status"] == "success"
    result = operator.execute_complete(context, event)
    assert result["action"] == "create"
    assert result["outputs"] == {"BucketName": "stack-op-one"}
    assert "mlops_cloudformation_stack" in context["ti"].xcom


def test_a_retry_while_the_stack_is_in_progress_attaches_to_it(connection, control, aws):
    control.set_settings(stack_seconds=12)  # two executes must fit in it on a loaded machine
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    with pytest.raises(TaskDeferred) as first:
        deploy_operator("retry-demo", "two").execute(context)
    # The worker died; Airflow retries the task while CloudFormation is still working.
    with pytest.raises(TaskDeferred) as second:
        deploy_operator("retry-demo", "two").execute(context)
    assert context["ti"].xcom["stack_action"] == "attach"
    assert second.value.trigger.serialize()[1]["stack_id"] == first.value.trigger.serialize()[1]["stack_id"]
    events = aws("cloudformation").describe_stack_events(StackName="retry-demo")["StackEvents"]
    started = [
        e for e in events if e["ResourceType"] == "AWS::CloudFormation::Stack" and e["ResourceStatus"] == "CREATE_IN_PROGRESS"
    ]
    assert len(started) == 1, "one deployment, not two"
    assert run_trigger(second.value.trigger)["status"] == "success"


def test_a_failed_stack_fails_the_task_with_the_resource_reasons(connection, control, aws, local_aws):
    control.set_settings(stack_seconds=1)
    aws("s3").create_bucket(Bucket="stack-op-taken")
    operator = deploy_operator("failing-demo", "taken")
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "error"
    with pytest.raises(AirflowException) as failure:
        operator.execute_complete(context, event)
    message = str(failure.value)
    assert message.startswith("Stack failing-demo in account 123456789012 (us-east-1) did not deploy: it ended ROLLBACK_COMPLETE.")
    assert "Bucket (AWS::S3::Bucket): CREATE_FAILED: " in message


def test_a_stack_that_vanished_while_the_task_waited_fails_it_with_that_reason(connection, control):
    """AWS no longer knows the stack the task waited for (the emulator restarted, an outage): the
    task says so plainly instead of failing on the stack events it cannot read."""
    operator = deploy_operator("vanishing-demo", "four")
    lost = "arn:aws:cloudformation:us-east-1:123456789012:stack/vanishing-demo/00000000-0000-0000-0000-000000000000"
    event = {"status": "error", "stack_id": lost, "message": f"Stack with id {lost} does not exist"}
    with pytest.raises(AirflowException) as failure:
        operator.execute_complete({"ti": RecordingTaskInstance("deploy_stack")}, event)
    assert str(failure.value) == (
        "Stack vanishing-demo in account 123456789012 (us-east-1) no longer exists: it was deleted, or AWS lost "
        f"it, while this task waited for it (Stack with id {lost} does not exist). A retry deploys it again."
    )


def test_the_same_deployment_twice_is_a_no_op_and_delete_of_nothing_succeeds(connection, control):
    control.set_settings(stack_seconds=0)
    context = {"ti": RecordingTaskInstance("deploy_stack")}
    operator = deploy_operator("noop-demo", "three")
    operator.deferrable = False
    assert operator.execute(context)["action"] == "create"
    assert operator.execute(context)["action"] == "none"

    delete = DeleteStackOperator(task_id="delete_stack", stack_name="noop-demo", deferrable=False, waiter_delay=1)
    assert delete.execute({"ti": RecordingTaskInstance("delete_stack")})["deleted"] is True
    assert delete.execute({"ti": RecordingTaskInstance("delete_stack")}) is None
