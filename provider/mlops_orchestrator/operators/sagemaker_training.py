"""
Training, tuning and Autopilot jobs: one job per DAG run, waited for deferrably, re-attached on retry.

The Amazon provider's ``SageMakerTrainingOperator`` and ``SageMakerTuningOperator`` start a job and
wait with its ``SageMakerTrigger``; ``SageMakerAutoMLOperator`` can only poll in the worker. What a
training pipeline needs on top, written once here for the three kinds:

- The job name is derived from the DAG run (``job_name_for``), so every try of the task in one run
  addresses the same job. A retry re-attaches instead of starting a second (paid) job: a job still
  running is waited for again, a Completed one gives its result, a Failed or Stopped one fails the
  task with SageMaker's ``FailureReason`` without retrying. A new DAG run trains again.
- The image of a built-in algorithm is looked up at run time (the SageMaker SDK must not be
  imported while the scheduler parses DAG files), and the role may be a template of a stack output.
- Every kind returns the same XCom shape (``result``), so a later task registers or deploys the
  model without knowing which kind trained it.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.amazon.aws.hooks.sagemaker import LogState
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.operators.sagemaker import (
    SageMakerTrainingOperator,
    SageMakerTuningOperator,
    serialize,
)
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from mlops_orchestrator.hooks.sagemaker_training import SageMakerAutoMLHook
from mlops_orchestrator.images import builtin_image_uri
from mlops_orchestrator.links.sagemaker import (
    SageMakerAutopilotOutputLink,
    SageMakerTrainingJobConsoleLink,
    SageMakerTuningJobConsoleLink,
)
from mlops_orchestrator.operators.job_per_run import RUNNING, OneJobPerRun
from mlops_orchestrator.operators.training_requests import job_name_for
from mlops_orchestrator.triggers.sagemaker_training import AutoMLJobCompleteTrigger

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
    from airflow.sdk import Context

__all__ = [
    "AutopilotJobOperator",
    "TrainingJobOperator",
    "TuningJobOperator",
    "empty_result",
]

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


# --------------------------------------------------------------------------------------------
# the XCom result
# --------------------------------------------------------------------------------------------


def empty_result(job_name: str, job_type: str) -> dict[str, Any]:
    """
    The XCom every training operator returns, before its kind fills it in::

        {"job_name", "job_type": "training"|"tuning"|"automl", "model_data_url", "image_uri",
         "containers": [{"Image", "ModelDataUrl", "Environment"?}], "metrics": {name: value},
         "objective": {"name", "value"} | None, "best_training_job", "best_candidate",
         "artifacts": {...}, "definition_only": bool}
    """
    return {
        "job_name": job_name,
        "job_type": job_type,
        "model_data_url": None,
        "image_uri": None,
        "containers": [],
        "metrics": {},
        "objective": None,
        "best_training_job": None,
        "best_candidate": None,
        "artifacts": {},
        "definition_only": False,
    }


def _training_job_result(result: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """Artifact, image and final metrics of a training job (a built-in algorithm serves with its image)."""
    artifact = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    image = (job.get("AlgorithmSpecification") or {}).get("TrainingImage")
    result["model_data_url"] = artifact
    result["image_uri"] = image
    result["containers"] = [{"Image": image, "ModelDataUrl": artifact}] if image and artifact else []
    result["metrics"] = {m["MetricName"]: float(m["Value"]) for m in job.get("FinalMetricDataList") or []}
    return result


def _objective(metric: dict[str, Any] | None) -> dict[str, Any] | None:
    if not metric or "Value" not in metric:
        return None
    return {"name": metric.get("MetricName"), "value": float(metric["Value"])}


# --------------------------------------------------------------------------------------------
# what the three operators share
# --------------------------------------------------------------------------------------------


class _OneJobPerRun(OneJobPerRun):
    """``OneJobPerRun`` for training kinds: names from ``job_name_for``, images looked up at run time."""

    job_type: ClassVar[str]
    rerun_hint = "trigger a new DAG run to train again"
    job_name_prefix: str

    def run_job_name(self, dag_run: Any) -> str:
        return job_name_for(self.job_type, self.job_name_prefix, dag_run.dag_id, dag_run.run_id)

    def result_summary(self, result: dict[str, Any]) -> str:
        return _summary(result)

    def resolve_image(self, algorithm: dict[str, Any], instance_type: str | None) -> None:
        """Set ``TrainingImage``: the given image_uri, else the request's, else the built-in lookup."""
        image_uri = getattr(self, "image_uri", None)
        if image_uri:
            algorithm["TrainingImage"] = image_uri
        if algorithm.get("TrainingImage"):
            return
        framework = getattr(self, "model_framework", None)
        if not framework:
            raise AirflowException(
                f"{self.task_id}: no training image: give image_uri, or model_framework and "
                "model_framework_version of a SageMaker built-in algorithm"
            )
        try:
            algorithm["TrainingImage"] = builtin_image_uri(
                framework,
                getattr(self, "model_framework_version", None) or "",
                self.hook.conn_region_name,
                getattr(self, "instance_type", None) or instance_type,
                image_scope="training",
            )
        except ValueError as err:
            raise AirflowException(str(err)) from err
        self.log.info("Built-in image of %s: %s", framework, algorithm["TrainingImage"])




def _summary(result: dict[str, Any]) -> str:
    if result["definition_only"]:
        return f"candidate definitions only, artifacts {result['artifacts']}"
    parts = [f"model {result['model_data_url'] or result['containers']}"]
    if result["objective"]:
        parts.append(f"objective {result['objective']['name']} = {result['objective']['value']}")
    if result["metrics"]:
        parts.append(f"metrics {result['metrics']}")
    return ", ".join(parts)


def _with_job_folder(definition: dict[str, Any], job_name: str) -> None:
    """Spot checkpoints of this job in a folder of its own (a new run never resumes an old model)."""
    checkpoint = definition.get("CheckpointConfig")
    if checkpoint and checkpoint.get("S3Uri"):
        definition["CheckpointConfig"] = {**checkpoint, "S3Uri": f"{checkpoint['S3Uri'].rstrip('/')}/{job_name}"}


_TRAINING_FIELDS = (
    "request",
    "job_name_prefix",
    "role_arn",
    "image_uri",
    "model_framework",
    "model_framework_version",
    "instance_type",
    "tags",
)


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


class TrainingJobOperator(_OneJobPerRun, SageMakerTrainingOperator):
    """
    Run one SageMaker training job per DAG run and wait for it (deferrably by default).

    Subclasses the provider's ``SageMakerTrainingOperator`` for its config handling, hook and
    lineage; starting, re-attaching and waiting are ``_OneJobPerRun``'s. The job's CloudWatch log
    goes to the task log: tailed while polling, or read once the deferred wait has ended.

    :param request: the CreateTrainingJob request without ``TrainingJobName`` (``training_request``);
        its ``TrainingImage`` may be left out to be looked up at run time (templated).
    :param job_name_prefix: the start of the job name (``job_name_prefix(config)``).
    :param role_arn: the job's execution role, replacing the request's (templated).
    :param image_uri: the training image, replacing the request's (templated).
    :param model_framework: with ``model_framework_version``: the built-in algorithm whose image
        is looked up when neither ``image_uri`` nor the request gives one.
    :param instance_type: for the image lookup (default: the request's instance type).
    :param tags: tags of the job (the DAG run's id is added).
    :return: the ``empty_result`` shape, filled in with the artifact, image and final metrics.
    """

    job_type = "training"
    label = "Training job"
    name_key = "TrainingJobName"
    status_key = "TrainingJobStatus"
    sagemaker_job_type = "Training"
    link = SageMakerTrainingJobConsoleLink
    operator_extra_links = (SageMakerTrainingJobConsoleLink(),)
    template_fields: Sequence[str] = aws_template_fields(*_TRAINING_FIELDS)
    template_fields_renderers = {"request": "json", "tags": "json"}
    ui_color = "#ffe8cc"

    def __init__(
        self,
        *,
        request: dict[str, Any],
        job_name_prefix: str,
        role_arn: str | None = None,
        image_uri: str | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        instance_type: str | None = None,
        tags: dict[str, str] | None = None,
        deferrable: bool = True,
        check_interval: int = 60,
        max_attempts: int | None = None,
        print_log: bool = True,
        **kwargs: Any,
    ):
        super().__init__(
            config=request,
            deferrable=deferrable,
            check_interval=check_interval,
            max_attempts=max_attempts,
            print_log=print_log,
            check_if_job_exists=False,
            **kwargs,
        )
        self.request = request
        self.job_name_prefix = job_name_prefix
        self.role_arn = role_arn
        self.image_uri = image_uri
        self.model_framework = model_framework
        self.model_framework_version = model_framework_version
        self.instance_type = instance_type
        self.tags = tags or {}
        self.requested_max_attempts = max_attempts

    def describe_job(self, job_name: str) -> dict[str, Any]:
        return self.hook.describe_training_job(job_name)

    def create_job(self, request: dict[str, Any]) -> None:
        self.config = request
        self.preprocess_config()
        self.hook.create_training_job(self.config, wait_for_completion=False, print_log=False)

    def job_request(self, job_name: str, run_id: str) -> dict[str, Any]:
        request = {key: _copy(value) for key, value in self.request.items()}
        request["TrainingJobName"] = job_name
        if self.role_arn:
            request["RoleArn"] = self.role_arn
        algorithm = request.setdefault("AlgorithmSpecification", {})
        self.resolve_image(algorithm, request.get("ResourceConfig", {}).get("InstanceType"))
        _with_job_folder(request, job_name)
        request["Tags"] = self.run_tags(run_id)
        return request

    def time_limit(self, job: dict[str, Any]) -> int | None:
        stopping = job.get("StoppingCondition") or {}
        return stopping.get("MaxWaitTimeInSeconds") or stopping.get("MaxRuntimeInSeconds")

    def wait(self, trigger: AwsBaseWaiterTrigger) -> None:
        if self.deferrable:
            self.defer(trigger=trigger, method_name="execute_complete")
        self._tail_until_done(trigger.return_value, trigger.attempts)

    def _tail_until_done(self, job_name: str, max_attempts: int) -> None:
        """Poll the job, printing its new log lines each time, until it ends (or attempts run out)."""
        positions: dict[str, Any] = {}
        for attempt in range(max_attempts):
            job = self.describe_job(job_name)
            self._print_log(job, positions)
            if job["TrainingJobStatus"] not in RUNNING:
                return
            self.log.info(
                "Training job %s is %s (%s)", job_name, job["TrainingJobStatus"], job.get("SecondaryStatus", "")
            )
            if attempt + 1 < max_attempts:
                time.sleep(self.check_interval)

    def _print_log(self, job: dict[str, Any], positions: dict[str, Any]) -> None:
        """Print the job's log lines not printed yet (``positions`` remembers where each stream was)."""
        if not self.print_log:
            return
        instance_count = (job.get("ResourceConfig") or {}).get("InstanceCount", 1)
        self.hook.describe_training_job_with_log(
            job["TrainingJobName"], positions, list(positions), instance_count, LogState.COMPLETE, job, 0.0
        )

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        self.serialized_training_data = serialize(job)
        return _training_job_result(empty_result(job["TrainingJobName"], "training"), job)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        job = self._describe(event["job_name"])
        if job is not None:
            self._print_log(job, {})  # the wait ran in the triggerer: the whole log, now
        return super().execute_complete(context, event)

    def _wait_or_finish(self, job: dict[str, Any]) -> dict[str, Any]:
        if job["TrainingJobStatus"] not in RUNNING:
            self._print_log(job, {})  # a retry after the job ended: its log, once
        return super()._wait_or_finish(job)


def _copy(value: Any) -> Any:
    """A deep copy of plain request data (the rendered template must stay as rendered)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# tuning
# --------------------------------------------------------------------------------------------


class TuningJobOperator(_OneJobPerRun, SageMakerTuningOperator):
    """
    Run one hyperparameter tuning job per DAG run and wait for it (deferrably by default).

    Subclasses the provider's ``SageMakerTuningOperator`` (config handling, hook); the result is
    the best training job's: its artifact, image and final metrics, and the tuning objective.

    :param request: the CreateHyperParameterTuningJob request without its name (``tuning_request``).
    :param job_name_prefix: the start of the job name (at most 19 characters are kept: tuning job
        names are limited to 32).
    :param role_arn, image_uri, model_framework, model_framework_version, instance_type, tags:
        as for ``TrainingJobOperator``, applied to the ``TrainingJobDefinition``.
    """

    job_type = "tuning"
    label = "Tuning job"
    name_key = "HyperParameterTuningJobName"
    status_key = "HyperParameterTuningJobStatus"
    sagemaker_job_type = "Tuning"
    link = SageMakerTuningJobConsoleLink
    operator_extra_links = (SageMakerTuningJobConsoleLink(),)
    template_fields: Sequence[str] = aws_template_fields(*_TRAINING_FIELDS)
    template_fields_renderers = {"request": "json", "tags": "json"}
    ui_color = "#ffe8cc"

    def __init__(
        self,
        *,
        request: dict[str, Any],
        job_name_prefix: str,
        role_arn: str | None = None,
        image_uri: str | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        instance_type: str | None = None,
        tags: dict[str, str] | None = None,
        deferrable: bool = True,
        check_interval: int = 60,
        max_attempts: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(config=request, deferrable=deferrable, check_interval=check_interval, **kwargs)
        self.request = request
        self.job_name_prefix = job_name_prefix
        self.role_arn = role_arn
        self.image_uri = image_uri
        self.model_framework = model_framework
        self.model_framework_version = model_framework_version
        self.instance_type = instance_type
        self.tags = tags or {}
        self.requested_max_attempts = max_attempts

    def describe_job(self, job_name: str) -> dict[str, Any]:
        return self.hook.describe_tuning_job(job_name)

    def create_job(self, request: dict[str, Any]) -> None:
        self.config = request
        self.preprocess_config()
        self.hook.create_tuning_job(self.config, wait_for_completion=False)

    def job_request(self, job_name: str, run_id: str) -> dict[str, Any]:
        request = {key: _copy(value) for key, value in self.request.items()}
        request["HyperParameterTuningJobName"] = job_name
        definition = request.setdefault("TrainingJobDefinition", {})
        if self.role_arn:
            definition["RoleArn"] = self.role_arn
        algorithm = definition.setdefault("AlgorithmSpecification", {})
        self.resolve_image(algorithm, definition.get("ResourceConfig", {}).get("InstanceType"))
        _with_job_folder(definition, job_name)
        request["Tags"] = self.run_tags(run_id)
        return request

    def time_limit(self, job: dict[str, Any]) -> int | None:
        limits = (job.get("HyperParameterTuningJobConfig") or {}).get("ResourceLimits") or {}
        if limits.get("MaxRuntimeInSeconds"):
            return limits["MaxRuntimeInSeconds"]
        stopping = (job.get("TrainingJobDefinition") or {}).get("StoppingCondition") or {}
        per_job = stopping.get("MaxWaitTimeInSeconds") or stopping.get("MaxRuntimeInSeconds")
        if not per_job or not limits.get("MaxNumberOfTrainingJobs"):
            return None
        rounds = -(-limits["MaxNumberOfTrainingJobs"] // max(limits.get("MaxParallelTrainingJobs") or 1, 1))
        return rounds * per_job

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        job_name = job["HyperParameterTuningJobName"]
        best = job.get("BestTrainingJob") or {}
        if not best.get("TrainingJobName"):
            counters = job.get("TrainingJobStatusCounters") or {}
            raise AirflowFailException(
                f"Tuning job {job_name} completed without a best training job (training jobs: {counters}); "
                "trigger a new DAG run to tune again."
            )
        result = empty_result(job_name, "tuning")
        result["best_training_job"] = best["TrainingJobName"]
        result["objective"] = _objective(best.get("FinalHyperParameterTuningJobObjectiveMetric"))
        return _training_job_result(result, self.hook.describe_training_job(best["TrainingJobName"]))


# --------------------------------------------------------------------------------------------
# Autopilot
# --------------------------------------------------------------------------------------------


class AutopilotJobOperator(_OneJobPerRun, AwsBaseOperator[SageMakerAutoMLHook]):
    """
    Run one Autopilot (AutoML v1) job per DAG run and wait for it (deferrably by default).

    Not a subclass of the provider's ``SageMakerAutoMLOperator``: that one can only wait in the
    worker, and starts a job under the name it is given however often it is retried. The wait is
    our ``AutoMLJobCompleteTrigger``. The result's ``containers`` are the best candidate's inference
    containers; with ``GenerateCandidateDefinitionsOnly`` there is no model, only ``artifacts``
    (the candidate definition and data exploration notebooks).

    :param request: the CreateAutoMLJob request without its name (``autopilot_request``) (templated).
    :param job_name_prefix: the start of the job name (at most 19 characters are kept).
    :param role_arn: the job's role, replacing the request's (templated).
    :param tags: tags of the job (the DAG run's id is added).
    """

    job_type = "automl"
    label = "Autopilot job"
    name_key = "AutoMLJobName"
    status_key = "AutoMLJobStatus"
    link = SageMakerAutopilotOutputLink
    aws_hook_class = SageMakerAutoMLHook
    operator_extra_links = (SageMakerAutopilotOutputLink(),)
    template_fields: Sequence[str] = aws_template_fields("request", "job_name_prefix", "role_arn", "tags")
    template_fields_renderers = {"request": "json", "tags": "json"}
    ui_color = "#ffe8cc"

    def __init__(
        self,
        *,
        request: dict[str, Any],
        job_name_prefix: str,
        role_arn: str | None = None,
        tags: dict[str, str] | None = None,
        deferrable: bool = True,
        check_interval: int = 60,
        max_attempts: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.request = request
        self.job_name_prefix = job_name_prefix
        self.role_arn = role_arn
        self.tags = tags or {}
        self.deferrable = deferrable
        self.check_interval = check_interval
        self.requested_max_attempts = max_attempts

    def describe_job(self, job_name: str) -> dict[str, Any]:
        return self.hook.conn.describe_auto_ml_job(AutoMLJobName=job_name)

    def create_job(self, request: dict[str, Any]) -> None:
        self.hook.conn.create_auto_ml_job(**request)

    def job_request(self, job_name: str, run_id: str) -> dict[str, Any]:
        request = {key: _copy(value) for key, value in self.request.items()}
        request["AutoMLJobName"] = job_name
        if self.role_arn:
            request["RoleArn"] = self.role_arn
        request["Tags"] = self.run_tags(run_id)
        return request

    def persist_link(self, context: Context, job_name: str) -> None:
        output = str((self.request.get("OutputDataConfig") or {}).get("S3OutputPath") or "")
        bucket, _, prefix = output.removeprefix("s3://").partition("/")
        if not bucket:
            return
        self.link.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            bucket=bucket,
            prefix=urllib.parse.quote(f"{prefix.rstrip('/')}/{job_name}/".lstrip("/"), safe=""),
        )

    def wait_trigger(self, job_name: str, max_attempts: int) -> AutoMLJobCompleteTrigger:
        return AutoMLJobCompleteTrigger(job_name=job_name, **self.trigger_kwargs())

    def time_limit(self, job: dict[str, Any]) -> int | None:
        criteria = (job.get("AutoMLJobConfig") or {}).get("CompletionCriteria") or {}
        return criteria.get("MaxAutoMLJobRuntimeInSeconds")

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        job_name = job["AutoMLJobName"]
        result = empty_result(job_name, "automl")
        artifacts = job.get("AutoMLJobArtifacts") or {}
        names = {
            "CandidateDefinitionNotebookLocation": "candidate_definition_notebook",
            "DataExplorationNotebookLocation": "data_exploration_notebook",
        }
        result["artifacts"] = {ours: artifacts[theirs] for theirs, ours in names.items() if artifacts.get(theirs)}
        result["definition_only"] = bool(job.get("GenerateCandidateDefinitionsOnly"))
        if result["definition_only"]:
            return result
        best = job.get("BestCandidate") or {}
        if not best.get("CandidateName"):
            raise AirflowFailException(
                f"Autopilot job {job_name} completed without a best candidate; trigger a new DAG run "
                "to train again."
            )
        containers = [
            {key: c[key] for key in ("Image", "ModelDataUrl", "Environment") if c.get(key) is not None}
            for c in best.get("InferenceContainers") or []
        ]
        result["best_candidate"] = best["CandidateName"]
        result["containers"] = containers
        if len(containers) == 1:
            result["image_uri"] = containers[0].get("Image")
            result["model_data_url"] = containers[0].get("ModelDataUrl")
        result["objective"] = _objective(best.get("FinalAutoMLJobObjectiveMetric"))
        result["metrics"] = _candidate_metrics(best)
        return result


def _candidate_metrics(candidate: dict[str, Any]) -> dict[str, float]:
    """The candidate's metrics by name; the validation set's value where several sets report one."""
    metrics: dict[str, float] = {}
    listed = (candidate.get("CandidateProperties") or {}).get("CandidateMetrics") or []
    for metric in sorted(listed, key=lambda m: m.get("Set") == "Validation"):
        if metric.get("MetricName") and metric.get("Value") is not None:
            metrics[metric["MetricName"]] = float(metric["Value"])
    return metrics
