"""SageMaker transform jobs in the emulator: InProgress -> Completed with outputs, failures, stop."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "transform-data"


@pytest.fixture
def s3(aws_client: Any) -> Any:
    client = aws_client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def model(sagemaker: Any) -> str:
    sagemaker.create_model(
        ModelName="scorer", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "repo/scorer:1"}
    )
    return "scorer"


def request(name: str, model: str, source: str = "in", output: str = "out/run-1", **output_extra: str) -> dict:
    return {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{source}"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": f"s3://{BUCKET}/{output}", "AssembleWith": "Line", **output_extra},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }


def wait_until_done(sagemaker: Any, name: str) -> dict[str, Any]:
    """Poll as the provider's TransformJobComplete waiter does (it treats Failed/Stopped as failure)."""
    for _ in range(100):
        described = sagemaker.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] not in ("InProgress", "Stopping"):
            return described
        time.sleep(0.05)
    raise AssertionError(f"{name} never ended")


def test_a_job_runs_then_writes_one_output_per_input_object(sagemaker: Any, s3: Any, model: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/a.csv", Body=b"1,2\n3,4\n\n")
    s3.put_object(Bucket=BUCKET, Key="in/day/b.csv", Body=b"5,6\n")
    s3.put_object(Bucket=BUCKET, Key="other/c.csv", Body=b"7,8\n")
    sagemaker.create_transform_job(**request("tj-ok", model, KmsKeyId=KMS))

    running = sagemaker.describe_transform_job(TransformJobName="tj-ok")
    assert running["TransformJobStatus"] == "InProgress"
    assert "TransformEndTime" not in running
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="out/").get("KeyCount") == 0

    done = wait_until_done(sagemaker, "tj-ok")
    assert done["TransformJobStatus"] == "Completed"
    assert "FailureReason" not in done
    assert done["TransformEndTime"] >= done["TransformStartTime"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="out/")["Contents"]]
    assert keys == ["out/run-1/a.csv.out", "out/run-1/day/b.csv.out"]
    body = s3.get_object(Bucket=BUCKET, Key="out/run-1/a.csv.out")["Body"].read().decode()
    assert len(body.splitlines()) == 2  # one line per input record, blank lines skipped
    head = s3.head_object(Bucket=BUCKET, Key="out/run-1/a.csv.out")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS)
    summary = sagemaker.list_transform_jobs(StatusEquals="Completed")["TransformJobSummaries"]
    assert [s["TransformJobName"] for s in summary] == ["tj-ok"]


def test_a_single_object_input_gets_its_output_under_the_output_path(sagemaker: Any, s3: Any, model: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/data.csv", Body=b"1,2\n")
    sagemaker.create_transform_job(**request("tj-file", model, source="in/data.csv"))
    assert wait_until_done(sagemaker, "tj-file")["TransformJobStatus"] == "Completed"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="out/")["Contents"]]
    assert keys == ["out/run-1/data.csv.out"]


def test_a_name_is_used_once_and_the_model_must_exist(sagemaker: Any, s3: Any, model: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/a.csv", Body=b"1\n")
    sagemaker.create_transform_job(**request("tj-once", model))
    with pytest.raises(ClientError, match="Job name must be unique within an AWS account and region"):
        sagemaker.create_transform_job(**request("tj-once", model))
    with pytest.raises(ClientError, match=r'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/nope"'):
        sagemaker.create_transform_job(**request("tj-nomodel", "nope"))
    with pytest.raises(ClientError, match="Could not find transform job"):
        sagemaker.describe_transform_job(TransformJobName="tj-nomodel")


def test_an_empty_input_prefix_fails_like_sagemaker(sagemaker: Any, s3: Any, model: str) -> None:
    sagemaker.create_transform_job(**request("tj-empty", model, source="nothing-here"))
    done = wait_until_done(sagemaker, "tj-empty")
    assert done["TransformJobStatus"] == "Failed"
    assert done["FailureReason"].startswith(
        f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/nothing-here" given in input data source.'
    )


@pytest.mark.parametrize("match", ["tj-rule", "scorer", f"s3://{BUCKET}/in", "out/run-1"])
def test_a_failure_rule_matches_the_name_model_input_or_output(
    sagemaker: Any, s3: Any, model: str, control: Any, match: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/a.csv", Body=b"1\n")
    control.add_failure("transform_job", match, "AlgorithmError: out of memory", times=1)
    sagemaker.create_transform_job(**request("tj-rule", model))
    done = wait_until_done(sagemaker, "tj-rule")
    assert (done["TransformJobStatus"], done["FailureReason"]) == ("Failed", "AlgorithmError: out of memory")
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="out/").get("KeyCount") == 0  # a failed job writes nothing
    assert control.list_failures() == []  # times=1 used up

    sagemaker.create_transform_job(**request("tj-rule-2", model, output="out/run-2"))
    assert wait_until_done(sagemaker, "tj-rule-2")["TransformJobStatus"] == "Completed"


def test_stop_goes_through_stopping_to_stopped(sagemaker: Any, s3: Any, model: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/a.csv", Body=b"1\n")
    sagemaker.create_transform_job(**request("tj-stop", model))
    sagemaker.stop_transform_job(TransformJobName="tj-stop")
    assert sagemaker.describe_transform_job(TransformJobName="tj-stop")["TransformJobStatus"] == "Stopping"
    sagemaker.stop_transform_job(TransformJobName="tj-stop")  # again while stopping: accepted

    done = wait_until_done(sagemaker, "tj-stop")
    assert done["TransformJobStatus"] == "Stopped"
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="out/").get("KeyCount") == 0
    with pytest.raises(ClientError, match="can not be stopped: it is Stopped"):
        sagemaker.stop_transform_job(TransformJobName="tj-stop")
    with pytest.raises(ClientError, match="Could not find transform job"):
        sagemaker.stop_transform_job(TransformJobName="tj-never")


def test_the_providers_waiter_sees_the_job_run(sagemaker: Any, s3: Any, model: str) -> None:
    """The Amazon provider's TransformJobComplete waiter (its waiters JSON) against the emulator."""
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    s3.put_object(Bucket=BUCKET, Key="in/a.csv", Body=b"1\n")
    sagemaker.create_transform_job(**request("tj-waiter", model))
    waiter = SageMakerHook(aws_conn_id=None).get_waiter("TransformJobComplete", client=sagemaker)
    waiter.wait(TransformJobName="tj-waiter", WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    assert sagemaker.describe_transform_job(TransformJobName="tj-waiter")["TransformJobStatus"] == "Completed"
