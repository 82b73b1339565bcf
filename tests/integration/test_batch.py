"""Batch transform pipelines end to end: real DAG runs against the local AWS emulator over HTTP, and
the transform operator's retry behaviour driven directly (as Airflow would on a retry)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred
from botocore.exceptions import ClientError
from mlops_orchestrator.operators.sagemaker import (
    BatchTransformOperator,
    run_output_folder,
    transform_job_name,
)
from mlops_orchestrator.run.airflow_env import set_local_aws_connection
from task_doubles import RecordingTaskInstance, run_trigger

pytestmark = pytest.mark.integration

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
XGBOOST_REPOSITORY = "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def builtin(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "byom_batch_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": f"models/{model}/model.tar.gz",
        "inference_instance": "ml.m5.large",
        "batch_inference_data": f"it-assets/batch/{model}/input",
        "batch_job_output_location": f"it-assets/batch/{model}/output",
        **extra,
    }


def xcoms(dag_id: str, key: str, task_id: str = "batch_transform") -> list[tuple[str, Any]]:
    """(run_id, value) of every DAG run's XCom ``key`` of the task, oldest first."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel)
            .where(XComModel.dag_id == dag_id, XComModel.task_id == task_id, XComModel.key == key)
            .order_by(XComModel.timestamp)
        ).all()
        return [(row.run_id, XComModel.deserialize_value(row)) for row in rows]


def objects_under(aws, uri: str) -> list[str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    listed = aws("s3").list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/") + "/")
    return [f"s3://{bucket}/{o['Key']}" for o in listed.get("Contents", [])]


def test_builtin_deploys_the_model_and_transforms_into_the_runs_own_folder(run_config, aws):
    report = run_config(builtin("nightly-churn"), name="nightly_churn.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == {
        "deploy_stack": "success",
        "batch_transform": "success",
        "stop_transform_jobs": "skipped",
        "delete_stack": "skipped",
    }
    (stack,) = report["resources"]["stacks"]
    assert stack["name"] == "mlops-pipeline-nightly-churn-byompipelinebatchbuiltin"
    assert stack["status"] == "CREATE_COMPLETE"
    assert {r["type"] for r in stack["resources"]} == {"AWS::IAM::Role", "AWS::SageMaker::Model"}
    assert report["resources"]["endpoints"] == []

    # The role reads the artifact and the input, writes below the output location, nothing else.
    role_name = next(r["physical_id"] for r in stack["resources"] if r["type"] == "AWS::IAM::Role")
    policy = aws("iam").get_role_policy(RoleName=role_name, PolicyName="batch-model-access")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadModelArtifact"]["Resource"] == "arn:aws:s3:::it-assets/models/nightly-churn/model.tar.gz"
    assert by_sid["PullImage"]["Resource"] == XGBOOST_REPOSITORY
    assert by_sid["ReadBatchInput"]["Resource"] == "arn:aws:s3:::it-assets/batch/nightly-churn/input*"
    assert by_sid["WriteBatchOutput"]["Resource"] == "arn:aws:s3:::it-assets/batch/nightly-churn/output/*"
    assert "UseKmsKey" not in by_sid and "VpcNetworkInterfaces" not in by_sid

    # One job, named after the DAG run, Completed, its output under the run's own folder.
    ((run_id, output_uri),) = xcoms("nightly_churn", "output_uri")
    (job,) = report["resources"]["transform_jobs"]
    assert job["name"] == transform_job_name("nightly-churn", "nightly_churn", run_id)
    assert job["status"] == "Completed"
    assert job["failure_reason"] is None
    assert job["model_name"] == stack["outputs"]["ModelName"]
    assert job["input_uri"] == "s3://it-assets/batch/nightly-churn/input"
    assert output_uri.startswith("s3://it-assets/batch/nightly-churn/output/")
    assert output_uri.endswith("/" + run_output_folder(run_id, None))
    assert job["output_uri"] == output_uri
    assert job["outputs"] == [f"{output_uri}/sample-1.csv.out", f"{output_uri}/sample-2.csv.out"]
    scores = aws("s3").get_object(Bucket="it-assets", Key=job["outputs"][0].split("/", 3)[3])["Body"].read()
    assert len(scores.decode().splitlines()) == 3  # one score per input row

    # The request is MWO's: CSV split by line, assembled by line, one instance, the built-in image.
    described = aws("sagemaker").describe_transform_job(TransformJobName=job["name"])
    assert described["TransformInput"]["ContentType"] == "text/csv"
    assert described["TransformInput"]["SplitType"] == "Line"
    assert described["TransformOutput"]["AssembleWith"] == "Line"
    assert "Accept" not in described["TransformOutput"] and "KmsKeyId" not in described["TransformOutput"]
    assert described["TransformResources"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1}
    model = aws("sagemaker").describe_model(ModelName=job["model_name"])
    assert model["PrimaryContainer"]["Image"] == XGBOOST_IMAGE

    ((_, result),) = xcoms("nightly_churn", "return_value")
    assert result["output_uri"] == output_uri
    assert result["Transform"]["TransformJobStatus"] == "Completed"


def test_two_runs_write_to_two_folders_and_keep_the_first_output(run_config, aws):
    first = run_config(builtin("twice"), name="twice.yaml")
    second = run_config(builtin("twice"), name="twice.yaml")
    assert first["state"] == second["state"] == "success", (first["failures"], second["failures"])
    # The stack is unchanged by the second run (nothing to update); the model is reused.
    assert second["resources"]["stacks"][0]["status"] == "CREATE_COMPLETE"

    runs = xcoms("twice", "output_uri")
    assert len(runs) == 2
    (run_1, uri_1), (run_2, uri_2) = runs
    assert uri_1 != uri_2
    jobs = {job["name"]: job for job in second["resources"]["transform_jobs"]}
    assert set(jobs) == {transform_job_name("twice", "twice", run_1), transform_job_name("twice", "twice", run_2)}
    assert {job["status"] for job in jobs.values()} == {"Completed"}
    assert objects_under(aws, uri_1) == [f"{uri_1}/sample-1.csv.out", f"{uri_1}/sample-2.csv.out"]
    assert objects_under(aws, uri_2) == [f"{uri_2}/sample-1.csv.out", f"{uri_2}/sample-2.csv.out"]


def test_a_failed_transform_fails_the_task_with_sagemakers_reason_and_starts_no_second_job(run_config, control):
    reason = "AlgorithmError: Unable to parse the CSV record on line 2 (feature count 4, expected 5)"
    control.add_failure("transform_job", match="batch/failing/input", reason=reason)
    report = run_config(builtin("failing"), name="failing.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["deploy_stack"] == "success"
    assert report["tasks"]["batch_transform"] == "failed"
    message = report["failures"]["batch_transform"]
    assert message.startswith("Transform job failing-")
    assert f"ended Failed: {reason}" in message
    assert "trigger a new DAG run to transform again" in message
    (job,) = report["resources"]["transform_jobs"]  # not retried: one job for the run
    assert (job["status"], job["failure_reason"]) == ("Failed", reason)
    assert job["outputs"] == []


def test_registry_variant_transforms_with_the_package(run_config, aws):
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/batch-registry/1"
    config = {
        "pipeline_type": "byom_batch_builtin",
        "model_name": "batch-registry",
        "model_package_name": arn,
        "inference_instance": "ml.m5.large",
        "batch_inference_data": "it-assets/batch/batch-registry/input/data.csv",
        "batch_job_output_location": "s3://it-assets/batch/batch-registry/output/",
        "use_model_registry": True,
    }
    report = run_config(config, name="batch_registry.yaml")
    assert report["state"] == "success", report["failures"]
    (job,) = report["resources"]["transform_jobs"]
    assert job["status"] == "Completed"
    assert job["input_uri"] == "s3://it-assets/batch/batch-registry/input/data.csv"
    assert job["outputs"] == [f"{job['output_uri']}/data.csv.out"]
    model = aws("sagemaker").describe_model(ModelName=job["model_name"])
    assert model["PrimaryContainer"]["ModelPackageName"] == arn
    # The role may read the package's artifacts and pull its images (lists: a package may have several).
    (stack,) = report["resources"]["stacks"]
    role_name = next(r["physical_id"] for r in stack["resources"] if r["type"] == "AWS::IAM::Role")
    policy = aws("iam").get_role_policy(RoleName=role_name, PolicyName="batch-model-access")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    artifact = "arn:aws:s3:::it-assets/registry/batch-registry/model.tar.gz"
    assert by_sid["ReadModelArtifact"]["Resource"] == [artifact]
    assert by_sid["PullImage"]["Resource"] == [XGBOOST_REPOSITORY]


def test_custom_image_with_kms_vpc_and_transform_options(run_config, aws):
    config = {
        "pipeline_type": "byom_batch_custom",
        "model_name": "tagger",
        "custom_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/tagger:3.0",
        "model_artifact_location": "s3://it-assets/models/tagger/model.tar.gz",
        "inference_instance": "ml.c5.xlarge",
        "batch_inference_data": "it-assets/batch/tagger/input",
        "batch_job_output_location": "it-assets/batch/tagger/output",
        "kms_key_arn": KMS,
        "subnet_ids": ["subnet-0a1b2c3d"],
        "security_group_ids": ["sg-0a1b2c3d"],
        "content_type": "text/csv",
        "accept": "application/jsonlines",
        "split_type": "Line",
        "assemble_with": "None",
        "instance_count": "2",
    }
    report = run_config(config, name="tagger.json")
    assert report["state"] == "success", report["failures"]
    (job,) = report["resources"]["transform_jobs"]
    described = aws("sagemaker").describe_transform_job(TransformJobName=job["name"])
    assert described["TransformOutput"] == {
        "S3OutputPath": job["output_uri"],
        "Accept": "application/jsonlines",
        "AssembleWith": "None",
        "KmsKeyId": KMS,
    }
    assert described["TransformResources"] == {
        "InstanceType": "ml.c5.xlarge",
        "InstanceCount": 2,
        "VolumeKmsKeyId": KMS,
    }
    key = job["outputs"][0].split("/", 3)[3]
    head = aws("s3").head_object(Bucket="it-assets", Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS)
    model = aws("sagemaker").describe_model(ModelName=job["model_name"])
    assert model["PrimaryContainer"]["Image"] == config["custom_image_uri"]
    assert model["VpcConfig"] == {"Subnets": ["subnet-0a1b2c3d"], "SecurityGroupIds": ["sg-0a1b2c3d"]}


def test_deprovision_stops_running_jobs_deletes_the_stack_and_keeps_the_outputs(run_config, aws, control):
    report = run_config(builtin("retired"), name="retired.yaml")
    assert report["state"] == "success", report["failures"]
    (done,) = report["resources"]["transform_jobs"]
    # A job of this pipeline still running (say, from a run marked failed), and another pipeline's.
    sagemaker = aws("sagemaker")
    control.set_settings(job_seconds=60)
    request = {
        "ModelName": done["model_name"],
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": done["input_uri"]}}
        },
        "TransformOutput": {"S3OutputPath": "s3://it-assets/batch/retired/manual"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    sagemaker.create_transform_job(
        TransformJobName="retired-still-running",
        Tags=[{"Key": "mlops-orchestrator:dag-id", "Value": "retired"}],
        **request,
    )
    sagemaker.create_transform_job(
        TransformJobName="retired-of-another-dag",
        Tags=[{"Key": "mlops-orchestrator:dag-id", "Value": "someone_else"}],
        **request,
    )
    control.set_settings(job_seconds=1)

    report = run_config(builtin("retired"), name="retired.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["stop_transform_jobs"] == "success"
    assert report["tasks"]["delete_stack"] == "success"
    assert report["tasks"]["batch_transform"] == "skipped"
    assert report["resources"]["stacks"] == []
    assert xcoms("retired", "return_value", task_id="stop_transform_jobs")[-1][1] == ["retired-still-running"]
    status = {j["name"]: j["status"] for j in report["resources"]["transform_jobs"]}
    assert status[done["name"]] == "Completed"
    assert status["retired-still-running"] in ("Stopping", "Stopped")
    other = sagemaker.describe_transform_job(TransformJobName="retired-of-another-dag")
    assert other["TransformJobStatus"] == "InProgress"
    # Transform outputs are data, not deployed resources: they stay.
    assert objects_under(aws, done["output_uri"]) == done["outputs"]
    again = run_config(builtin("retired"), name="retired.yaml", action="deprovision")
    assert again["state"] == "success", again["failures"]


# --------------------------------------------------------------------------------------------
# the operator on its own: deferral, the provider's trigger, retries
# --------------------------------------------------------------------------------------------





@pytest.fixture
def scoring_model(local_aws, aws) -> str:
    """A model and two input objects in the emulator, and the default connection pointing at it."""
    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")
    s3 = aws("s3")
    s3.create_bucket(Bucket="op-batch")
    for n in (1, 2):
        s3.put_object(Bucket="op-batch", Key=f"input/part-{n}.csv", Body=b"1,2,3\n4,5,6\n")
    sagemaker = aws("sagemaker")
    with contextlib.suppress(ClientError):  # made by an earlier test of the session
        sagemaker.create_model(
            ModelName="op-scorer",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/op-scorer",
            PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://op-batch/model.tar.gz"},
        )
    return "op-scorer"


def transform_operator() -> BatchTransformOperator:
    """A new operator each time: a retry runs a fresh copy of the task."""
    return BatchTransformOperator(
        task_id="batch_transform",
        config={
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://op-batch/input"}},
                "ContentType": "text/csv",
                "SplitType": "Line",
            },
            "TransformOutput": {"AssembleWith": "Line"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
        model_name="op-scorer",
        job_name_prefix="op-scorer",
        output_location="s3://op-batch/output",
        tags={"mlops-orchestrator:dag-id": "op_batch"},
        check_interval=1,
    )


def context_of(run_id: str) -> dict[str, Any]:
    when = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
    return {
        "ti": RecordingTaskInstance("batch_transform"),
        "dag_run": SimpleNamespace(dag_id="op_batch", run_id=run_id, run_after=when),
        "logical_date": when,
    }


def jobs_of_run(aws, run_id: str) -> list[str]:
    name = transform_job_name("op-scorer", "op_batch", run_id)
    summaries = aws("sagemaker").list_transform_jobs(NameContains="op-scorer")["TransformJobSummaries"]
    return [s["TransformJobName"] for s in summaries if s["TransformJobName"].startswith(name)]


def test_a_retry_while_the_job_runs_reattaches_and_one_after_it_completed_uses_its_result(
    scoring_model, aws, control
):
    # Long enough that the job is still running at the retry, even on a loaded machine.
    control.set_settings(job_seconds=12)
    run_id = "scheduled__2025-06-01T02:00:00+00:00"
    context = context_of(run_id)
    with pytest.raises(TaskDeferred) as first:
        transform_operator().execute(context)
    job_name = first.value.trigger.serialize()[1]["job_name"]
    assert job_name == transform_job_name("op-scorer", "op_batch", run_id)
    assert aws("sagemaker").describe_transform_job(TransformJobName=job_name)["TransformJobStatus"] == "InProgress"
    output_uri = context["ti"].xcom["output_uri"]
    assert output_uri == "s3://op-batch/output/2025-06-01/scheduled__2025-06-01T02-00-00-00-00"

    # The worker died while deferred; Airflow retries the task while SageMaker still works.
    retry = context_of(run_id)
    with pytest.raises(TaskDeferred) as second:
        transform_operator().execute(retry)
    assert second.value.trigger.serialize()[1]["job_name"] == job_name
    assert retry["ti"].xcom["output_uri"] == output_uri
    assert "sagemaker_transform_job_details" in retry["ti"].xcom  # the console link
    assert jobs_of_run(aws, run_id) == [job_name], "one job for the run, not two"

    # The provider's trigger (aiobotocore, in the triggerer) waits for the job over HTTP.
    event = run_trigger(second.value.trigger)
    assert (event["status"], event["job_name"]) == ("success", job_name)
    result = transform_operator().execute_complete(retry, event)
    assert result["output_uri"] == output_uri
    assert result["Transform"]["TransformJobStatus"] == "Completed"
    assert objects_under(aws, output_uri) == [f"{output_uri}/part-1.csv.out", f"{output_uri}/part-2.csv.out"]

    # A retry after the job completed (say, the task failed after it) uses the job's result.
    late = transform_operator().execute(context_of(run_id))
    assert late["output_uri"] == output_uri
    assert late["Transform"]["TransformJobName"] == job_name
    assert jobs_of_run(aws, run_id) == [job_name]

    # Another DAG run is another job, in another folder.
    with pytest.raises(TaskDeferred) as other:
        transform_operator().execute(context_of("manual__2025-06-01T09:30:00+00:00"))
    assert other.value.trigger.serialize()[1]["job_name"] != job_name


def test_a_failed_job_fails_without_retry_and_a_retry_reports_it_again(scoring_model, aws, control):
    run_id = "scheduled__2025-06-02T02:00:00+00:00"
    job_name = transform_job_name("op-scorer", "op_batch", run_id)
    control.set_settings(job_seconds=12)  # still running when execute() looks, even on a loaded machine
    control.add_failure("transform_job", match=job_name, reason="ClientError: model container crashed")
    context = context_of(run_id)
    with pytest.raises(TaskDeferred) as deferred:
        transform_operator().execute(context)
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "failed"
    with pytest.raises(AirflowFailException, match="ended Failed: ClientError: model container crashed"):
        transform_operator().execute_complete(context, event)
    # Cleared by hand and run again: the run's job is reported, no second one is started.
    with pytest.raises(AirflowFailException, match="ended Failed: ClientError: model container crashed"):
        transform_operator().execute(context_of(run_id))
    assert jobs_of_run(aws, run_id) == [job_name]
