"""The training, tuning and Autopilot operators against the emulator over HTTP: deferral and the
triggers, the polling path, failures with SageMaker's reason, retries that re-attach (as Airflow
would run them: a fresh operator on the same DAG run), and the training log in the task log."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from mlops_orchestrator.config import load_config
from mlops_orchestrator.operators.sagemaker_training import (
    AutopilotJobOperator,
    TrainingJobOperator,
    TuningJobOperator,
)
from mlops_orchestrator.operators.training_requests import (
    autopilot_request,
    job_name_for,
    training_request,
    tuning_request,
)
from mlops_orchestrator.run.airflow_env import set_local_aws_connection
from mlops_orchestrator.triggers.sagemaker_training import AutoMLJobCompleteTrigger
from task_doubles import RecordingTaskInstance, run_trigger

pytestmark = pytest.mark.integration

#: Seconds a job takes when a test retries the task while it runs: long enough that the job
#: still runs at the retry on a loaded machine (several seconds pass between two calls there).
STILL_RUNNING = 12

BUCKET = "op-training"
ROLE = "arn:aws:iam::123456789012:role/op-training"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
DAG_ID = "op_training"
RESULT_KEYS = {
    "job_name", "job_type", "model_data_url", "image_uri", "containers", "metrics", "objective",
    "best_training_job", "best_candidate", "artifacts", "definition_only",
}  # fmt: skip
CSV = b"label,f1,f2\n1,0.5,0.25\n0,0.1,0.75\n1,0.9,0.5\n"


@pytest.fixture
def training_data(local_aws, aws, tmp_path: Path):
    """The default connection on the emulator, and a bucket with training, validation and Autopilot data."""
    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")
    s3 = aws("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in ("train/data.csv", "validation/data.csv", "autopilot/train.csv"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=CSV)
    return tmp_path


def config_of(folder: Path, data: dict[str, Any]):
    """A config loaded from a file, as the DAG loader loads it."""
    path = folder / f"{data['pipeline_type']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path, root=folder)


def training_config(folder: Path, **extra: Any):
    return config_of(
        folder,
        {
            "pipeline_type": "model_training_builtin",
            "model_name": "churn",
            "model_framework": "xgboost",
            "model_framework_version": "1.7-1",
            "training_data": f"s3://{BUCKET}/train/data.csv",
            "validation_data": f"s3://{BUCKET}/validation/data.csv",
            "job_output_location": f"s3://{BUCKET}/output",
            "instance_type": "ml.m5.xlarge",
            "algo_hyperparamaters": {"num_round": 5, "objective": "binary:logistic", "eval_metric": "auc"},
            **extra,
        },
    )


def context_of(run_id: str, task_id: str) -> dict[str, Any]:
    return {
        "ti": RecordingTaskInstance(task_id, run_id=run_id),
        "dag_run": SimpleNamespace(dag_id=DAG_ID, run_id=run_id),
    }


def training_operator(folder: Path, deferrable: bool = True, **extra: Any) -> TrainingJobOperator:
    """A new operator each time: a retry runs a fresh copy of the task. The image is left to resolve."""
    return TrainingJobOperator(
        task_id="train_model",
        request=training_request(training_config(folder, **extra), "dev", role_arn=ROLE, image_uri=None),
        job_name_prefix="churn",
        model_framework="xgboost",
        model_framework_version="1.7-1",
        tags={"mlops-orchestrator:dag-id": DAG_ID},
        deferrable=deferrable,
        check_interval=1,
    )


def training_jobs_named(aws, name: str) -> list[str]:
    summaries = aws("sagemaker").list_training_jobs(NameContains=name)["TrainingJobSummaries"]
    return sorted(s["TrainingJobName"] for s in summaries if s["TrainingJobName"] == name)


def task_log(capfd) -> str:
    """What the task logged so far (Airflow's loggers write to the process's stdout/stderr)."""
    out, err = capfd.readouterr()
    return out + err


def assert_training_result(result: dict[str, Any], job: dict[str, Any], output: str = "output") -> None:
    """The XCom of a completed training job: its artifact, its image and its final metrics."""
    name = job["TrainingJobName"]
    artifact = f"s3://{BUCKET}/{output}/{name}/output/model.tar.gz"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == artifact
    assert result["model_data_url"] == artifact
    assert result["image_uri"] == XGBOOST_IMAGE
    assert result["containers"] == [{"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact}]
    assert result["metrics"] == {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert "validation:auc" in result["metrics"]


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


def test_training_defers_completes_from_the_trigger_and_its_log_reaches_the_task_log(
    training_data, aws, control, capfd
):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__train-deferred"
    context = context_of(run_id, "train_model")
    with pytest.raises(TaskDeferred) as deferred:
        training_operator(training_data).execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, SageMakerTrigger) and deferred.value.method_name == "execute_complete"
    job_name = trigger.serialize()[1]["job_name"]
    assert job_name == job_name_for("training", "churn", DAG_ID, run_id)
    assert "mlops_sagemaker_training_job" in context["ti"].xcom  # the console link

    # While deferred, SageMaker trains; the job got what the run resolved and added.
    job = aws("sagemaker").describe_training_job(TrainingJobName=job_name)
    assert job["TrainingJobStatus"] == "InProgress"
    assert job["AlgorithmSpecification"]["TrainingImage"] == XGBOOST_IMAGE  # looked up at run time
    assert job["RoleArn"] == ROLE
    assert job["CheckpointConfig"]["S3Uri"] == f"s3://{BUCKET}/output/checkpoints/{job_name}"
    tags = aws("sagemaker").list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    assert {"Key": "mlops-orchestrator:run-id", "Value": run_id} in tags

    event = run_trigger(trigger)
    assert (event["status"], event["job_name"]) == ("success", job_name)
    task_log(capfd)  # what came before the wait ended
    result = training_operator(training_data).execute_complete(context, event)
    assert set(result) == RESULT_KEYS
    assert (result["job_name"], result["job_type"]) == (job_name, "training")
    assert_training_result(result, aws("sagemaker").describe_training_job(TrainingJobName=job_name))
    assert (result["objective"], result["best_training_job"], result["best_candidate"]) == (None, None, None)
    assert (result["artifacts"], result["definition_only"]) == ({}, False)
    # The training log (CloudWatch) is in the task log once the deferred wait is over.
    log = task_log(capfd)
    assert "#011train-rmse:" in log
    assert f"Training job {job_name} completed" in log


def test_training_polls_when_not_deferrable_and_tails_the_log(training_data, aws, control, capfd):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__train-polled"
    result = training_operator(training_data, deferrable=False).execute(context_of(run_id, "train_model"))
    job_name = job_name_for("training", "churn", DAG_ID, run_id)
    assert result["job_name"] == job_name
    assert_training_result(result, aws("sagemaker").describe_training_job(TrainingJobName=job_name))
    log = task_log(capfd)
    assert f"Training job {job_name} is InProgress" in log  # polled while it ran
    assert "#011train-rmse:" in log


def test_a_retry_while_training_reattaches_and_one_after_it_completed_uses_its_result(
    training_data, aws, control
):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__train-retried"
    with pytest.raises(TaskDeferred) as first:
        training_operator(training_data).execute(context_of(run_id, "train_model"))
    job_name = first.value.trigger.serialize()[1]["job_name"]

    # The worker died while deferred; Airflow retries the task while SageMaker still trains.
    retry = context_of(run_id, "train_model")
    with pytest.raises(TaskDeferred) as second:
        training_operator(training_data).execute(retry)
    assert second.value.trigger.serialize()[1]["job_name"] == job_name
    assert training_jobs_named(aws, job_name) == [job_name], "one job for the run, not two"

    event = run_trigger(second.value.trigger)
    done = training_operator(training_data).execute_complete(retry, event)

    # A retry after the job completed (say, a later step failed the task) uses the job's result.
    late = training_operator(training_data).execute(context_of(run_id, "train_model"))
    assert late == done
    assert training_jobs_named(aws, job_name) == [job_name]
    # Another DAG run trains again, as another job.
    with pytest.raises(TaskDeferred) as other:
        training_operator(training_data).execute(context_of("manual__train-retried-2", "train_model"))
    assert other.value.trigger.serialize()[1]["job_name"] != job_name


def test_a_failed_training_fails_with_sagemakers_reason_and_a_retry_reports_it_again(
    training_data, aws, control
):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__train-failing"
    job_name = job_name_for("training", "churn", DAG_ID, run_id)
    reason = "AlgorithmError: framework error: XGBoostError: label must be in [0,1] for logistic regression"
    control.add_failure("training_job", match=job_name, reason=reason)
    context = context_of(run_id, "train_model")
    with pytest.raises(TaskDeferred) as deferred:
        training_operator(training_data).execute(context)
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "failed"
    with pytest.raises(AirflowFailException) as failure:
        training_operator(training_data).execute_complete(context, event)
    message = str(failure.value)
    assert message.startswith(f"Training job {job_name} ended Failed: {reason}")
    assert "trigger a new DAG run to train again" in message
    # Cleared by hand and run again: the run's job is reported again, no second one is started.
    with pytest.raises(AirflowFailException, match="ended Failed: AlgorithmError: framework error"):
        training_operator(training_data).execute(context_of(run_id, "train_model"))
    assert training_jobs_named(aws, job_name) == [job_name]


def test_a_training_job_stopped_by_hand_fails_the_task_without_starting_another(training_data, aws, control):
    # Stopping lasts job_seconds: long enough to be seen by the retry, even on a loaded machine.
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__train-stopped"
    context = context_of(run_id, "train_model")
    with pytest.raises(TaskDeferred) as deferred:
        training_operator(training_data).execute(context)
    job_name = deferred.value.trigger.serialize()[1]["job_name"]
    aws("sagemaker").stop_training_job(TrainingJobName=job_name)  # someone stopped it in the console
    # A retry while it is Stopping waits for it rather than starting another job.
    with pytest.raises(TaskDeferred):
        training_operator(training_data).execute(context_of(run_id, "train_model"))
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "stopped"
    with pytest.raises(AirflowFailException, match=f"^Training job {job_name} ended Stopped: "):
        training_operator(training_data).execute_complete(context, event)
    assert training_jobs_named(aws, job_name) == [job_name]


def test_without_an_image_source_the_task_says_what_to_give(training_data):
    operator = TrainingJobOperator(
        task_id="train_model",
        request=training_request(training_config(training_data), "dev", role_arn=ROLE, image_uri=None),
        job_name_prefix="churn",
    )
    with pytest.raises(AirflowException, match="train_model: no training image: give image_uri, or model_framework"):
        operator.execute(context_of("manual__no-image", "train_model"))


# --------------------------------------------------------------------------------------------
# tuning
# --------------------------------------------------------------------------------------------


def tuning_operator(folder: Path, deferrable: bool = True) -> TuningJobOperator:
    config = config_of(
        folder,
        {
            "pipeline_type": "model_tuner_builtin",
            "model_name": "churn",
            "model_framework": "xgboost",
            "model_framework_version": "1.7-1",
            "training_data": f"s3://{BUCKET}/train/data.csv",
            "validation_data": f"s3://{BUCKET}/validation/data.csv",
            "job_output_location": f"s3://{BUCKET}/tuning",
            "algo_hyperparamaters": {"num_round": 5, "objective": "binary:logistic", "eval_metric": "auc"},
            "use_spot_instances": False,
            "tuner_configs": {"objective_metric_name": "validation:auc", "max_jobs": 3, "max_parallel_jobs": 3},
            "hyperparamaters_ranges": {"eta": ["continuous", [0.1, 0.5]], "max_depth": ["integer", [2, 8]]},
        },
    )
    return TuningJobOperator(
        task_id="tune_model",
        request=tuning_request(config, "dev", role_arn=ROLE, image_uri=None),
        job_name_prefix="churn-hpo",
        model_framework="xgboost",
        model_framework_version="1.7-1",
        deferrable=deferrable,
        check_interval=1,
    )


def test_tuning_defers_completes_and_returns_the_best_training_jobs_model(training_data, aws, control):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__tune-deferred"
    context = context_of(run_id, "tune_model")
    with pytest.raises(TaskDeferred) as deferred:
        tuning_operator(training_data).execute(context)
    trigger = deferred.value.trigger
    job_name = trigger.serialize()[1]["job_name"]
    assert job_name == job_name_for("tuning", "churn-hpo", DAG_ID, run_id) and len(job_name) <= 32
    assert "mlops_sagemaker_tuning_job" in context["ti"].xcom

    # A retry while it tunes re-attaches.
    with pytest.raises(TaskDeferred) as again:
        tuning_operator(training_data).execute(context_of(run_id, "tune_model"))
    assert again.value.trigger.serialize()[1]["job_name"] == job_name

    event = run_trigger(trigger)
    assert event["status"] == "success"
    result = tuning_operator(training_data).execute_complete(context, event)
    tuning = aws("sagemaker").describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=job_name)
    best = tuning["BestTrainingJob"]
    assert set(result) == RESULT_KEYS
    assert (result["job_name"], result["job_type"]) == (job_name, "tuning")
    assert result["best_training_job"] == best["TrainingJobName"]
    objective = best["FinalHyperParameterTuningJobObjectiveMetric"]
    assert result["objective"] == {"name": "validation:auc", "value": objective["Value"]}
    best_job = aws("sagemaker").describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert_training_result(result, best_job, output="tuning")
    listed = aws("sagemaker").list_hyper_parameter_tuning_jobs(NameContains="churn-hpo")
    assert [s["HyperParameterTuningJobName"] for s in listed["HyperParameterTuningJobSummaries"]].count(job_name) == 1

    # A retry after it completed uses its result.
    assert tuning_operator(training_data).execute(context_of(run_id, "tune_model")) == result


def test_tuning_polls_when_not_deferrable(training_data, control):
    control.set_settings(job_seconds=1)
    result = tuning_operator(training_data, deferrable=False).execute(context_of("manual__tune-polled", "tune_model"))
    assert result["job_type"] == "tuning" and result["best_training_job"].startswith(result["job_name"])
    assert result["model_data_url"].endswith("/output/model.tar.gz")


def test_a_failed_tuning_job_fails_with_sagemakers_reason(training_data, control):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__tune-failing"
    job_name = job_name_for("tuning", "churn-hpo", DAG_ID, run_id)
    control.add_failure("tuning_job", match=job_name, reason="No training job succeeded after 3 attempts.")
    context = context_of(run_id, "tune_model")
    with pytest.raises(TaskDeferred) as deferred:
        tuning_operator(training_data).execute(context)
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(AirflowFailException, match=f"Tuning job {job_name} ended Failed: .*No training job succeeded"):
        tuning_operator(training_data).execute_complete(context, event)


# --------------------------------------------------------------------------------------------
# Autopilot
# --------------------------------------------------------------------------------------------


def autopilot_operator(folder: Path, deferrable: bool = True, **extra: Any) -> AutopilotJobOperator:
    config = config_of(
        folder,
        {
            "pipeline_type": "model_autopilot_training",
            "model_name": "churn-auto",
            "training_data": f"s3://{BUCKET}/autopilot/train.csv",
            "job_output_location": f"s3://{BUCKET}/autopilot-output",
            "target_attribute": "label",
            "problem_type": "BinaryClassification",
            "job_objective": "F1",
            "job_max_candidates": 3,
            **extra,
        },
    )
    return AutopilotJobOperator(
        task_id="autopilot",
        request=autopilot_request(config, "dev", role_arn=ROLE),
        job_name_prefix="churn-auto",
        deferrable=deferrable,
        check_interval=1,
    )


def test_autopilot_defers_on_our_trigger_and_returns_the_best_candidates_containers(training_data, aws, control):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__automl-deferred"
    context = context_of(run_id, "autopilot")
    with pytest.raises(TaskDeferred) as deferred:
        autopilot_operator(training_data).execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, AutoMLJobCompleteTrigger)
    job_name = trigger.serialize()[1]["job_name"]
    assert job_name == job_name_for("automl", "churn-auto", DAG_ID, run_id) and len(job_name) <= 32
    assert "mlops_sagemaker_autopilot_output" in context["ti"].xcom
    assert aws("sagemaker").describe_auto_ml_job(AutoMLJobName=job_name)["AutoMLJobStatus"] == "InProgress"

    with pytest.raises(TaskDeferred) as again:  # a retry while it runs re-attaches
        autopilot_operator(training_data).execute(context_of(run_id, "autopilot"))
    assert again.value.trigger.serialize()[1]["job_name"] == job_name

    event = run_trigger(trigger)
    assert (event["status"], event["job_name"]) == ("success", job_name)
    result = autopilot_operator(training_data).execute_complete(context, event)
    job = aws("sagemaker").describe_auto_ml_job(AutoMLJobName=job_name)
    best = job["BestCandidate"]
    assert set(result) == RESULT_KEYS
    assert (result["job_name"], result["job_type"]) == (job_name, "automl")
    assert result["best_candidate"] == best["CandidateName"]
    assert result["containers"] == best["InferenceContainers"] and result["containers"]
    assert result["objective"] == {
        "name": best["FinalAutoMLJobObjectiveMetric"]["MetricName"],
        "value": best["FinalAutoMLJobObjectiveMetric"]["Value"],
    }
    assert result["definition_only"] is False
    names = [s["AutoMLJobName"] for s in aws("sagemaker").list_auto_ml_jobs(NameContains="churn-auto")["AutoMLJobSummaries"]]
    assert names.count(job_name) == 1
    assert autopilot_operator(training_data).execute(context_of(run_id, "autopilot")) == result


def test_autopilot_definition_only_returns_the_notebooks_and_no_model(training_data, control):
    control.set_settings(job_seconds=1)
    operator = autopilot_operator(training_data, deferrable=False, generate_definition_only=True)
    result = operator.execute(context_of("manual__automl-definitions", "autopilot"))
    assert result["definition_only"] is True
    assert result["containers"] == [] and result["best_candidate"] is None and result["model_data_url"] is None
    assert result["artifacts"]["candidate_definition_notebook"].startswith(f"s3://{BUCKET}/autopilot-output/")
    assert result["artifacts"]["data_exploration_notebook"].startswith(f"s3://{BUCKET}/autopilot-output/")


def test_a_failed_autopilot_job_fails_with_sagemakers_reason(training_data, control):
    control.set_settings(job_seconds=STILL_RUNNING)
    run_id = "manual__automl-failing"
    job_name = job_name_for("automl", "churn-auto", DAG_ID, run_id)
    reason = "ClientError: The target attribute 'label' has only one unique value."
    control.add_failure("automl_job", match=job_name, reason=reason)
    context = context_of(run_id, "autopilot")
    with pytest.raises(TaskDeferred) as deferred:
        autopilot_operator(training_data).execute(context)
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "error"
    with pytest.raises(AirflowFailException, match=f"Autopilot job {job_name} ended Failed: {reason}"):
        autopilot_operator(training_data).execute_complete(context, event)
