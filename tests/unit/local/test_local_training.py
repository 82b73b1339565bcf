"""Training, tuning and Autopilot jobs and the model registry in the emulator, over HTTP."""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mlops_orchestrator.local import LocalAws, LocalAwsControl

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "training-data"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
WAIT = {"Delay": 0.1, "MaxAttempts": 100}


@pytest.fixture
def s3(aws_client: Any) -> Any:
    client = aws_client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="train/part-1.csv", Body=b"1,0.5,0.25\n0,0.1,0.75\n")
    client.put_object(Bucket=BUCKET, Key="validation/part-1.csv", Body=b"1,0.9,0.5\n")
    return client


def channel(name: str, prefix: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{prefix}"}},
        "ContentType": "text/csv",
    }


def training(name: str, output: str = f"s3://{BUCKET}/models", **extra: Any) -> dict[str, Any]:
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": XGBOOST, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"num_round": "4", "max_depth": "5", "objective": "binary:logistic"},
        "InputDataConfig": [channel("train", "train"), channel("validation", "validation")],
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    request.update(extra)
    return request


def wait(
    describe: Any, status_key: str, running: tuple[str, ...] = ("InProgress", "Stopping")
) -> dict[str, Any]:
    for _ in range(100):
        described = describe()
        if described[status_key] not in running:
            return described
        time.sleep(0.05)
    raise AssertionError("the job never ended")


def wait_training(sagemaker: Any, name: str) -> dict[str, Any]:
    return wait(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus")


def tar_members(s3: Any, uri: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {member.name: json.loads(tar.extractfile(member).read()) for member in tar.getmembers()}


# --- training jobs ---------------------------------------------------------------------------


def test_a_training_job_runs_through_its_phases_then_writes_its_model(sagemaker: Any, s3: Any, control: Any) -> None:
    control.set_settings(job_seconds=4)  # "Starting" (15 %) lasts long enough to be seen on a loaded machine
    metric = {"Name": "validation:f1", "Regex": "f1:([0-9.]+)"}
    spec = {"TrainingImage": XGBOOST, "TrainingInputMode": "File", "MetricDefinitions": [metric]}
    sagemaker.create_training_job(
        **training(
            "train-ok",
            AlgorithmSpecification=spec,
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models", "KmsKeyId": KMS},
            CheckpointConfig={"S3Uri": f"s3://{BUCKET}/checkpoints/train-ok"},
        )
    )
    running = sagemaker.describe_training_job(TrainingJobName="train-ok")
    assert (running["TrainingJobStatus"], running["SecondaryStatus"]) == ("InProgress", "Starting")
    assert "ModelArtifacts" not in running and "TrainingEndTime" not in running

    done = wait_training(sagemaker, "train-ok")
    assert (done["TrainingJobStatus"], done["SecondaryStatus"]) == ("Completed", "Completed")
    assert [t["Status"] for t in done["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip
    assert done["TrainingStartTime"] <= done["TrainingEndTime"]
    assert done["BillableTimeInSeconds"] == done["TrainingTimeInSeconds"] >= 1
    assert done["AlgorithmSpecification"]["MetricDefinitions"] == [metric]  # moto's own would replace it
    metrics = {m["MetricName"]: m["Value"] for m in done["FinalMetricDataList"]}
    assert set(metrics) == {"validation:f1", "train:rmse", "validation:rmse", "validation:auc"}
    assert 0.6 <= metrics["validation:auc"] < 1 and 0 < metrics["train:rmse"] < 0.6

    artifact = done["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{BUCKET}/models/train-ok/output/model.tar.gz"
    model = tar_members(s3, artifact)["xgboost-model"]
    assert model["hyperparameters"] == {"num_round": "4", "max_depth": "5", "objective": "binary:logistic"}
    head = s3.head_object(Bucket=BUCKET, Key="models/train-ok/output/model.tar.gz")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS)
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="checkpoints/train-ok/")["KeyCount"] == 1
    listed = sagemaker.list_training_jobs(StatusEquals="Completed")["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in listed] == ["train-ok"]


def test_billable_time_counts_instances_and_is_smaller_with_spot(
    sagemaker: Any, s3: Any, control: LocalAwsControl
) -> None:
    control.set_settings(job_seconds=3)
    two = {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 5}
    sagemaker.create_training_job(**training("billed", ResourceConfig=two))
    sagemaker.create_training_job(**training("billed-spot", EnableManagedSpotTraining=True))
    billed, spot = wait_training(sagemaker, "billed"), wait_training(sagemaker, "billed-spot")
    assert billed["TrainingTimeInSeconds"] >= 2
    assert billed["BillableTimeInSeconds"] == 2 * billed["TrainingTimeInSeconds"]
    assert 1 <= spot["BillableTimeInSeconds"] < spot["TrainingTimeInSeconds"]


def test_the_training_log_appears_as_the_phases_pass(aws_client: Any, sagemaker: Any, s3: Any) -> None:
    logs = aws_client("logs")
    sagemaker.create_training_job(
        **training(
            "logged", ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 5}
        )
    )
    wait_training(sagemaker, "logged")
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix="logged/")["logStreams"]
    names = [s["logStreamName"] for s in streams]
    assert [name.rsplit("-", 1)[0] for name in names] == ["logged/algo-1", "logged/algo-2"]
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=names[0], startFromHead=True)["events"]
    messages = [e["message"] for e in events]
    assert any("File path /opt/ml/input/data/train" in m for m in messages)
    rounds = [m for m in messages if m.startswith("[") and "#011train-rmse:" in m]
    assert [m.split("]")[0] for m in rounds] == ["[0", "[1", "[2", "[3"]
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)


def test_reading_the_log_alone_advances_the_job(
    aws_client: Any, sagemaker: Any, s3: Any, control: LocalAwsControl
) -> None:
    """The provider's hook tails the log and describes the job only every 30 s."""
    control.set_settings(job_seconds=0.3)
    logs = aws_client("logs")
    sagemaker.create_training_job(**training("tailed"))
    time.sleep(0.45)
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix="tailed/")["logStreams"]
    events = logs.get_log_events(
        logGroupName=LOG_GROUP, logStreamName=streams[0]["logStreamName"], startFromHead=True
    )["events"]
    assert any("#011train-rmse:" in e["message"] for e in events)


def test_the_amazon_providers_hook_tails_the_log_and_its_waiter_sees_the_job_end(
    local_aws: LocalAws,
    sagemaker: Any,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    control: LocalAwsControl,
) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import LogState, SageMakerHook

    extra = {"endpoint_url": local_aws.endpoint_url, "region_name": "us-east-1"}
    connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_EMULATOR", json.dumps(connection))
    hook = SageMakerHook(aws_conn_id="emulator")
    sagemaker.create_training_job(**training("hooked"))
    hook.get_waiter("TrainingJobComplete").wait(TrainingJobName="hooked", WaiterConfig=WAIT)
    capsys.readouterr()
    state, _, _ = hook.describe_training_job_with_log(
        "hooked", {}, [], 1, LogState.JOB_COMPLETE, {}, time.monotonic()
    )
    assert state == LogState.COMPLETE
    printed = capsys.readouterr().out  # Airflow's structlog prints the task log to stdout
    assert "File path /opt/ml/input/data/train of input files" in printed
    assert "[3]#011train-rmse:" in printed

    control.set_settings(job_seconds=3)  # still running when stopped: 0.5 s had passed under load
    sagemaker.create_training_job(**training("hooked-fails", HyperParameters={"num_round": "2", "bad": "1"}))
    sagemaker.stop_training_job(TrainingJobName="hooked-fails")
    with pytest.raises(Exception, match="Waiter encountered a terminal failure state"):
        hook.get_waiter("TrainingJobComplete").wait(TrainingJobName="hooked-fails", WaiterConfig=WAIT)


def test_a_failure_rule_fails_the_job_with_its_reason(
    sagemaker: Any, s3: Any, control: LocalAwsControl
) -> None:
    reason = "AlgorithmError: XGBoostError: label must be in [0,1] for logistic regression"
    control.set_settings(job_seconds=2)  # still InProgress when described, on a loaded machine
    control.add_failure("training_job", match="s3://training-data/validation", reason=reason, times=1)
    sagemaker.create_training_job(**training("train-bad"))
    assert sagemaker.describe_training_job(TrainingJobName="train-bad")["TrainingJobStatus"] == "InProgress"
    failed = wait_training(sagemaker, "train-bad")
    assert (failed["TrainingJobStatus"], failed["SecondaryStatus"], failed["FailureReason"]) == (
        "Failed", "Failed", reason,
    )  # fmt: skip
    assert "ModelArtifacts" not in failed
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="models/train-bad/").get("KeyCount") == 0
    sagemaker.create_training_job(**training("train-next"))  # the rule was used up
    assert wait_training(sagemaker, "train-next")["TrainingJobStatus"] == "Completed"


def test_a_missing_output_bucket_fails_the_job_when_it_uploads(sagemaker: Any, s3: Any) -> None:
    sagemaker.create_training_job(**training("no-out", output="s3://missing-bucket/models"))
    failed = wait_training(sagemaker, "no-out")
    assert failed["TrainingJobStatus"] == "Failed"
    assert failed["FailureReason"] == (
        'ClientError: The output S3 bucket "missing-bucket" of '
        '"s3://missing-bucket/models/no-out/output/model.tar.gz" does not exist.'
    )


def test_create_refuses_a_used_name_and_an_empty_channel_as_sagemaker_does(sagemaker: Any, s3: Any) -> None:
    sagemaker.create_training_job(**training("taken"))
    with pytest.raises(ClientError) as used:
        sagemaker.create_training_job(**training("taken"))
    assert used.value.response["Error"]["Code"] == "ResourceInUse"
    assert "a training job with this name already exists" in used.value.response["Error"]["Message"]

    request = training("empty", InputDataConfig=[channel("train", "nothing-here/")])
    with pytest.raises(ClientError) as empty:
        sagemaker.create_training_job(**request)
    assert empty.value.response["Error"]["Code"] == "ValidationException"
    assert empty.value.response["Error"]["Message"].startswith(
        'No S3 objects found under S3 URL "s3://training-data/nothing-here/" given in input data source.'
    )
    with pytest.raises(ClientError, match="Could not find training job"):
        sagemaker.describe_training_job(TrainingJobName="empty")


def test_stop_shows_stopping_then_stopped_without_a_model(sagemaker: Any, s3: Any) -> None:
    sagemaker.create_training_job(**training("stop-me"))
    sagemaker.stop_training_job(TrainingJobName="stop-me")
    stopping = sagemaker.describe_training_job(TrainingJobName="stop-me")
    assert (stopping["TrainingJobStatus"], stopping["SecondaryStatus"]) == ("Stopping", "Stopping")
    sagemaker.stop_training_job(TrainingJobName="stop-me")  # again while stopping: a no-op
    stopped = wait_training(sagemaker, "stop-me")
    assert (stopped["TrainingJobStatus"], stopped["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert "ModelArtifacts" not in stopped
    with pytest.raises(ClientError, match="can not be stopped: it is Stopped"):
        sagemaker.stop_training_job(TrainingJobName="stop-me")
    with pytest.raises(ClientError) as missing:
        sagemaker.stop_training_job(TrainingJobName="never-created")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


# --- hyperparameter tuning jobs ------------------------------------------------------------------


def tuning(name: str, objective_type: str = "Maximize", jobs: int = 3) -> dict[str, Any]:
    request = training("unused")
    definition = {
        "StaticHyperParameters": {"num_round": "3", "objective": "binary:logistic"},
        **{
            key: request[key]
            for key in ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "ResourceConfig")
        },
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    ranges = {
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "9"}],
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
    }
    config = {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": objective_type, "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": jobs, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": ranges,
    }
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": definition,
    }


def wait_tuning(sagemaker: Any, name: str) -> dict[str, Any]:
    return wait(
        lambda: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
        "HyperParameterTuningJobStatus",
    )


@pytest.mark.parametrize("objective_type", ["Maximize", "Minimize"])
def test_a_tuning_job_runs_training_jobs_in_the_ranges_and_picks_the_best(
    sagemaker: Any, s3: Any, control: Any, objective_type: str
) -> None:
    control.set_settings(job_seconds=2)  # its jobs still InProgress when described, on a loaded machine
    name = f"tune-{objective_type.lower()}"
    sagemaker.create_hyper_parameter_tuning_job(**tuning(name, objective_type))
    running = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert running["HyperParameterTuningJobStatus"] == "InProgress"
    assert running["TrainingJobStatusCounters"]["InProgress"] == 3 and "BestTrainingJob" not in running

    done = wait_tuning(sagemaker, name)
    assert done["HyperParameterTuningJobStatus"] == "Completed"
    assert done["TrainingJobStatusCounters"]["Completed"] == 3
    assert done["ObjectiveStatusCounters"] == {"Succeeded": 3, "Pending": 0, "Failed": 0}
    children = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["TrainingJobSummaries"]
    assert len(children) == 3
    for index, child in enumerate(sorted(c["TrainingJobName"] for c in children), start=1):
        prefix, number, suffix = child.rsplit("-", 2)
        assert (prefix, number, len(suffix)) == (name, f"{index:03d}", 8)
    values = [c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in children]
    assert values == sorted(values, reverse=True)
    best = done["BestTrainingJob"]
    expected = children[0] if objective_type == "Maximize" else children[-1]
    assert best["TrainingJobName"] == expected["TrainingJobName"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:auc"
    tuned = best["TunedHyperParameters"]
    assert 2 <= int(tuned["max_depth"]) <= 9 and 0.05 <= float(tuned["eta"]) <= 0.5
    assert tuned["booster"] in ("gbtree", "dart")

    job = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert job["TrainingJobStatus"] == "Completed"
    assert job["TuningJobArn"] == done["HyperParameterTuningJobArn"]
    assert (
        job["HyperParameters"]["num_round"] == "3"
        and job["HyperParameters"]["max_depth"] == tuned["max_depth"]
    )
    assert {
        "MetricName": "validation:auc",
        "Value": best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
    } in [{k: m[k] for k in ("MetricName", "Value")} for m in job["FinalMetricDataList"]]
    tar_members(s3, job["ModelArtifacts"]["S3ModelArtifacts"])  # a real gzip tar


def test_tuning_failures_stop_and_duplicate_names(
    sagemaker: Any, s3: Any, control: LocalAwsControl, local_aws: LocalAws
) -> None:
    control.add_failure(
        "tuning_job", match="tune-doomed", reason="No training job succeeded after 2 attempts."
    )
    sagemaker.create_hyper_parameter_tuning_job(**tuning("tune-doomed", jobs=2))
    failed = wait_tuning(sagemaker, "tune-doomed")
    assert (failed["HyperParameterTuningJobStatus"], failed["FailureReason"]) == (
        "Failed", "No training job succeeded after 2 attempts.",
    )  # fmt: skip
    assert failed["TrainingJobStatusCounters"]["NonRetryableError"] == 2

    control.add_failure("training_job", match="tune-children", reason="AlgorithmError: out of memory")
    sagemaker.create_hyper_parameter_tuning_job(**tuning("tune-children", jobs=2))
    failed = wait_tuning(sagemaker, "tune-children")
    assert failed["FailureReason"].startswith("No training job succeeded after 2 attempts.")

    with pytest.raises(ClientError) as used:
        sagemaker.create_hyper_parameter_tuning_job(**tuning("tune-children"))
    assert used.value.response["Error"]["Code"] == "ResourceInUse"

    sagemaker.create_hyper_parameter_tuning_job(**tuning("tune-stop", jobs=2))
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    stopping = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    assert stopping["HyperParameterTuningJobStatus"] == "Stopping"
    stopped = wait_tuning(sagemaker, "tune-stop")
    assert stopped["HyperParameterTuningJobStatus"] == "Stopped"
    assert stopped["TrainingJobStatusCounters"]["Stopped"] == 2
    hook_waiter_sees = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-stop", StatusEquals="Stopped"
    )["TrainingJobSummaries"]
    assert len(hook_waiter_sees) == 2


def test_the_providers_tuning_waiter_sees_the_tuning_job_complete(
    local_aws: LocalAws, sagemaker: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    extra = {"endpoint_url": local_aws.endpoint_url, "region_name": "us-east-1"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_EMULATOR",
        json.dumps({"conn_type": "aws", "login": "t", "password": "t", "extra": extra}),
    )
    hook = SageMakerHook(aws_conn_id="emulator")
    sagemaker.create_hyper_parameter_tuning_job(**tuning("tune-waited", jobs=2))
    hook.get_waiter("TuningJobComplete").wait(HyperParameterTuningJobName="tune-waited", WaiterConfig=WAIT)
    assert hook.describe_tuning_job("tune-waited")["BestTrainingJob"]["TrainingJobStatus"] == "Completed"


# --- Autopilot -------------------------------------------------------------------------------------


def autopilot(name: str, prefix: str = "autopilot", target: str = "churn", **extra: Any) -> dict[str, Any]:
    request = {
        "AutoMLJobName": name,
        "InputDataConfig": [
            {
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{prefix}"}
                },
                "TargetAttributeName": target,
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/automl"},
        "RoleArn": ROLE,
    }
    request.update(extra)
    return request


def wait_automl(sagemaker: Any, name: str) -> dict[str, Any]:
    return wait(lambda: sagemaker.describe_auto_ml_job(AutoMLJobName=name), "AutoMLJobStatus")


@pytest.mark.parametrize(
    ("column", "problem", "objective", "containers"),
    [
        (["yes", "no", "yes", "no"], "BinaryClassification", "F1", 3),
        (["a", "b", "c", "a"], "MulticlassClassification", "Accuracy", 3),
        (["1.5", "2.25", "3.0", "7.75"], "Regression", "MSE", 2),
    ],
)
def test_autopilot_infers_the_problem_and_writes_its_best_candidates_models(
    sagemaker: Any, s3: Any, control: Any, column: list[str], problem: str, objective: str, containers: int
) -> None:
    control.set_settings(job_seconds=4)  # "Starting" (its first part) lasts long enough to be seen on a loaded machine
    rows = "".join(f"{i},{i * 2},{value}\n" for i, value in enumerate(column))
    s3.put_object(Bucket=BUCKET, Key=f"autopilot-{problem}/data.csv", Body=f"f1,f2,churn\n{rows}".encode())
    name = f"ap-{problem.lower()[:20]}"
    config = {"CompletionCriteria": {"MaxCandidates": 4}}
    sagemaker.create_auto_ml_job(**autopilot(name, f"autopilot-{problem}", AutoMLJobConfig=config))
    running = sagemaker.describe_auto_ml_job(AutoMLJobName=name)
    assert (running["AutoMLJobStatus"], running["AutoMLJobSecondaryStatus"]) == ("InProgress", "Starting")
    assert "BestCandidate" not in running

    done = wait_automl(sagemaker, name)
    assert (done["AutoMLJobStatus"], done["AutoMLJobSecondaryStatus"]) == (
        "Completed",
        "MaxCandidatesReached",
    )
    resolved = done["ResolvedAttributes"]
    assert (resolved["ProblemType"], resolved["AutoMLJobObjective"]["MetricName"]) == (problem, objective)
    best = done["BestCandidate"]
    assert (best["CandidateStatus"], best["ObjectiveStatus"]) == ("Completed", "Succeeded")
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == objective
    images = [c["Image"].split("/")[-1].split(":")[0] for c in best["InferenceContainers"]]
    assert (
        images == ["sagemaker-sklearn-automl", "sagemaker-xgboost", "sagemaker-sklearn-automl"][:containers]
    )
    for container in best["InferenceContainers"]:
        key = container["ModelDataUrl"].removeprefix(f"s3://{BUCKET}/")
        assert key.startswith(f"automl/{name}/")
        s3.head_object(Bucket=BUCKET, Key=key)

    candidates = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["Candidates"]
    assert len(candidates) == 4
    values = [c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in candidates]
    assert values == sorted(values, reverse=True)
    expected_best = candidates[-1] if objective == "MSE" else candidates[0]
    assert best["CandidateName"] == expected_best["CandidateName"]
    listed = sagemaker.list_auto_ml_jobs(NameContains=name)["AutoMLJobSummaries"]
    assert [(j["AutoMLJobName"], j["AutoMLJobStatus"]) for j in listed] == [(name, "Completed")]


def test_autopilot_definitions_only_writes_the_notebooks_and_no_candidate(sagemaker: Any, s3: Any) -> None:
    s3.put_object(
        Bucket=BUCKET, Key="autopilot/data.csv", Body=b"f1,churn\n1,0\n2,1\n", ServerSideEncryption="AES256"
    )
    output = {"S3OutputPath": f"s3://{BUCKET}/automl", "KmsKeyId": KMS}
    sagemaker.create_auto_ml_job(
        **autopilot("ap-defs", GenerateCandidateDefinitionsOnly=True, OutputDataConfig=output)
    )
    done = wait_automl(sagemaker, "ap-defs")
    assert (done["AutoMLJobStatus"], done["AutoMLJobSecondaryStatus"]) == (
        "Completed",
        "CandidateDefinitionsGenerated",
    )
    assert "BestCandidate" not in done
    for uri in done["AutoMLJobArtifacts"].values():
        head = s3.head_object(Bucket=BUCKET, Key=uri.removeprefix(f"s3://{BUCKET}/"))
        assert head["SSEKMSKeyId"] == KMS
    assert sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName="ap-defs")["Candidates"] == []


def test_autopilot_fails_on_a_missing_column_no_input_or_a_rule(
    sagemaker: Any, s3: Any, control: LocalAwsControl
) -> None:
    s3.put_object(Bucket=BUCKET, Key="autopilot/data.csv", Body=b"f1,label\n1,0\n2,1\n")
    sagemaker.create_auto_ml_job(**autopilot("ap-no-column"))
    failed = wait_automl(sagemaker, "ap-no-column")
    assert (failed["AutoMLJobStatus"], failed["AutoMLJobSecondaryStatus"]) == ("Failed", "Failed")
    assert failed["FailureReason"] == (
        "ClientError: The target attribute 'churn' is not a column of the header of "
        "s3://training-data/autopilot/data.csv (columns: f1, label)."
    )
    sagemaker.create_auto_ml_job(**autopilot("ap-no-input", prefix="nothing/"))
    assert wait_automl(sagemaker, "ap-no-input")["FailureReason"].startswith(
        'ClientError: No S3 objects found under S3 URL "s3://training-data/nothing/"'
    )
    control.add_failure("automl_job", match="ap-ruled", reason="ClientError: the target has one value.")
    sagemaker.create_auto_ml_job(**autopilot("ap-ruled", target="label"))
    assert wait_automl(sagemaker, "ap-ruled")["FailureReason"] == "ClientError: the target has one value."
    with pytest.raises(ClientError) as used:
        sagemaker.create_auto_ml_job(**autopilot("ap-ruled", target="label"))
    assert used.value.response["Error"]["Code"] == "ResourceInUse"


def test_names_longer_than_sagemakers_32_characters_are_refused(local_aws: LocalAws, s3: Any) -> None:
    """boto3 checks the length itself; other clients (aiobotocore, the CLI's --no-validate) may not."""
    unchecked = local_aws.client("sagemaker", config=Config(parameter_validation=False))
    long_name = "a" * 33
    with pytest.raises(ClientError, match="Member must have length less than or equal to 32"):
        unchecked.create_auto_ml_job(**autopilot(long_name))
    with pytest.raises(ClientError, match="at 'hyperParameterTuningJobName' failed to satisfy constraint"):
        unchecked.create_hyper_parameter_tuning_job(**tuning(long_name))


def test_autopilot_stop_and_the_providers_hook(
    local_aws: LocalAws, sagemaker: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    s3.put_object(Bucket=BUCKET, Key="autopilot/data.csv", Body=b"f1,churn\n1,0\n2,1\n3,0\n")
    sagemaker.create_auto_ml_job(**autopilot("ap-stop"))
    sagemaker.stop_auto_ml_job(AutoMLJobName="ap-stop")
    assert sagemaker.describe_auto_ml_job(AutoMLJobName="ap-stop")["AutoMLJobStatus"] == "Stopping"
    assert wait_automl(sagemaker, "ap-stop")["AutoMLJobSecondaryStatus"] == "Stopped"

    extra = {"endpoint_url": local_aws.endpoint_url, "region_name": "us-east-1"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_EMULATOR",
        json.dumps({"conn_type": "aws", "login": "t", "password": "t", "extra": extra}),
    )
    best = SageMakerHook(aws_conn_id="emulator").create_auto_ml_job(
        "ap-hook", f"s3://{BUCKET}/autopilot", "churn", f"s3://{BUCKET}/automl", ROLE, check_interval=0
    )
    assert best is not None and len(best["InferenceContainers"]) == 3


# --- model registry -----------------------------------------------------------------------------


def test_the_model_registry_versions_packages_and_updates_them_as_sagemaker_does(
    local_aws: LocalAws, sagemaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = sagemaker.create_model_package_group(
        ModelPackageGroupName="churn", ModelPackageGroupDescription="d"
    )
    with pytest.raises(ClientError) as duplicate:
        sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    assert duplicate.value.response["Error"]["Code"] == "ValidationException"
    assert duplicate.value.response["Error"]["Message"] == (
        f"Model Package Group already exists: {group['ModelPackageGroupArn']}"
    )
    extra = {"endpoint_url": local_aws.endpoint_url, "region_name": "us-east-1"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_EMULATOR",
        json.dumps({"conn_type": "aws", "login": "t", "password": "t", "extra": extra}),
    )
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    assert SageMakerHook(aws_conn_id="emulator").create_model_package_group("churn") is False

    spec = {"Containers": [{"Image": XGBOOST, "ModelDataUrl": f"s3://{BUCKET}/m.tar.gz"}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}  # fmt: skip
    metrics = {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{BUCKET}/q.json"}}
    }
    arns = [
        sagemaker.create_model_package(
            ModelPackageGroupName="churn" if version != 2 else group["ModelPackageGroupArn"],
            InferenceSpecification=spec,
            ModelMetrics=metrics,
            CustomerMetadataProperties={"run": str(version)},
            Tags=[{"Key": "team", "Value": "ml"}],
            **({"ModelApprovalStatus": "Approved"} if version == 3 else {}),
        )["ModelPackageArn"]
        for version in (1, 2, 3)
    ]
    first = sagemaker.describe_model_package(ModelPackageName=arns[0])
    assert (first["ModelPackageGroupName"], first["ModelPackageName"], first["ModelPackageVersion"]) == (
        "churn",
        "churn",
        1,
    )
    assert first["ModelApprovalStatus"] == "PendingManualApproval"
    assert (first["InferenceSpecification"], first["ModelMetrics"]) == (spec, metrics)
    packages = sagemaker.list_model_packages(
        ModelPackageGroupName="churn", SortBy="CreationTime", SortOrder="Descending"
    )
    assert [p["ModelPackageVersion"] for p in packages["ModelPackageSummaryList"]] == [3, 2, 1]
    approved = sagemaker.list_model_packages(ModelPackageGroupName="churn", ModelApprovalStatus="Approved")
    assert [p["ModelPackageArn"] for p in approved["ModelPackageSummaryList"]] == [arns[2]]

    sagemaker.update_model_package(
        ModelPackageArn=arns[0], ModelApprovalStatus="Approved", ApprovalDescription="ok"
    )
    sagemaker.update_model_package(ModelPackageArn=arns[0], CustomerMetadataProperties={"owner": "me"})
    updated = sagemaker.describe_model_package(ModelPackageName=arns[0])
    assert (updated["ModelApprovalStatus"], updated["ApprovalDescription"]) == ("Approved", "ok")
    assert updated["CustomerMetadataProperties"] == {"run": "1", "owner": "me"}

    with pytest.raises(ClientError) as missing:
        sagemaker.create_model_package(ModelPackageGroupName="nope", InferenceSpecification=spec)
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert "model-package-group/nope does not exist" in missing.value.response["Error"]["Message"]
