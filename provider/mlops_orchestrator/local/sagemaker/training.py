"""SageMaker training and tuning jobs that take time, log, write model artifacts, fail and stop.

moto 5.2 finishes a training job at once, writes no artifact, reports a made-up metric, overwrites
the job's ``MetricDefinitions``, has no StopTrainingJob, and its tuning jobs run no training jobs.
Here, as SageMaker:

- CreateTrainingJob refuses a name used before (``ResourceInUse``, SageMaker's wording) and, as
  SageMaker does, an S3 channel with no object under its URI (``ValidationException`` "No S3
  objects found under S3 URL ...");
- a training job shows ``InProgress`` for ``job_seconds`` while ``SecondaryStatus`` goes
  Starting -> Downloading -> Training -> Uploading (``SecondaryStatusTransitions`` with times and
  SageMaker's messages), then ``Completed`` with ``TrainingStartTime``/``TrainingEndTime``,
  ``TrainingTimeInSeconds`` and ``BillableTimeInSeconds`` (less with managed spot training);
- on completion it writes a gzip tar ``{S3OutputPath}/{job}/output/model.tar.gz`` (a small model
  file holding the hyperparameters and metrics; SSE-KMS with ``OutputDataConfig.KmsKeyId``),
  reported as ``ModelArtifacts.S3ModelArtifacts``, and a checkpoint under ``CheckpointConfig.S3Uri``;
- ``FinalMetricDataList`` holds deterministic values derived from the job name and
  hyperparameters, one per ``AlgorithmSpecification.MetricDefinitions`` name, plus
  ``train:rmse``/``validation:rmse``/``validation:auc`` for XGBoost images;
- it logs to CloudWatch Logs group ``/aws/sagemaker/TrainingJobs``, stream
  ``{job}/algo-{n}-{epoch seconds}`` per instance, lines appearing as the phases pass (one
  ``[epoch]#011train-rmse:...`` line per boosting round); reading that log group settles the
  jobs first, so the Amazon provider's ``describe_training_job_with_log`` tails a running job;
- it ends ``Failed`` (``SecondaryStatus`` Failed) with the rule's reason when a failure rule of
  kind ``training_job`` matches the job name, training image, a channel's S3 URI or the output
  path (revealed at the end of Training), or with a ``ClientError`` when the output bucket does
  not exist (at the end of Uploading);
- StopTrainingJob shows ``Stopping`` for ``job_seconds``, then ``Stopped`` (no artifact).

Hyperparameter tuning jobs refuse a name used before (``ResourceInUse``), show ``InProgress``
while they run ``ResourceLimits.MaxNumberOfTrainingJobs`` training jobs named
``{tuning job}-{NNN}-{8 hex}`` (static hyperparameters plus values drawn deterministically within
the Integer/Continuous/Categorical ranges, the objective metric in each job's metrics), then
``Completed`` with ``BestTrainingJob`` (per Maximize/Minimize), ``TrainingJobStatusCounters`` and
``ObjectiveStatusCounters``. A failure rule of kind ``tuning_job`` (tuning job name or a channel
URI) fails it and its training jobs; when every training job fails, it fails as SageMaker does.
StopHyperParameterTuningJob stops it and its running training jobs;
ListTrainingJobsForHyperParameterTuningJob lists them.

Model registry (moto mostly right; fixed here): a second CreateModelPackageGroup with the same name
is refused ("Model Package Group already exists: ARN", which the Amazon provider's hook relies
on); CreateModelPackage into a missing group is refused, accepts the group's ARN, numbers versions
1, 2, 3 per group and defaults ``ModelApprovalStatus`` to ``PendingManualApproval``; versioned
packages report ``ModelPackageName`` (the group's name) as SageMaker does; UpdateModelPackage
changes only what it is given and merges ``CustomerMetadataProperties``.

Statuses are settled lazily (see ``lifecycle``) whenever a job or its log is read.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import math
import re
import tarfile
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.logs.models import LogsBackend, logs_backends
from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.models import (
    FakeTrainingJob,
    HyperParameterTuningJob,
    ModelPackage,
    SageMakerModelBackend,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse
from moto.utilities.utils import get_partition

from mlops_orchestrator.local import buckets
from mlops_orchestrator.local.lifecycle import (
    LOCK,
    STATE,
    Done,
    Lifecycle,
    Phase,
    attach,
    lifecycle_or_attach,
    now,
    register_failure_kind,
    settle_before_describe,
    settle_before_list,
    settle_status,
    to_datetime,
    wait_for,
)
from mlops_orchestrator.local.patching import Patches

TRAINING_FAILURES = "training_job"
TUNING_FAILURES = "tuning_job"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
#: SecondaryStatus while InProgress: (status, share of job_seconds, SageMaker's message).
SECONDARY = (
    ("Starting", 0.15, "Preparing the instances for training"),
    ("Downloading", 0.2, "Downloading input data"),
    ("Training", 0.45, "Training image download completed. Training in progress."),
    ("Uploading", 0.2, "Uploading generated training model"),
)
XGBOOST_METRICS = ("train:rmse", "validation:rmse", "validation:auc")
#: Metric names whose larger values are better (others are losses/errors).
_HIGHER_IS_BETTER = ("auc", "accuracy", "f1", "precision", "recall", "r2", "map", "ndcg")
_MAX_ROUNDS = 20

_patches = Patches()


def install() -> None:
    """Give moto training and tuning jobs a lifecycle, artifacts and logs; fix the registry.

    Also installs ``autopilot`` (Autopilot v1), which shares its helpers.
    """
    if _patches.installed:
        return
    register_failure_kind(
        TRAINING_FAILURES, "the training job name, its training image, a channel's S3 URI or its output path"
    )
    register_failure_kind(TUNING_FAILURES, "the tuning job name or a channel's S3 URI of its definitions")
    backend = SageMakerModelBackend
    for name, function in (
        ("create_training_job", _create_training_job),
        ("describe_training_job", settle_before_describe(_original("describe_training_job"), "training_jobs", _settle)),
        ("list_training_jobs", settle_before_list(_original("list_training_jobs"), "training_jobs", _settle)),
        ("stop_training_job", _stop_training_job),
        ("create_hyper_parameter_tuning_job", _create_tuning_job),
        (
            "describe_hyper_parameter_tuning_job",
            settle_before_describe(
                _original("describe_hyper_parameter_tuning_job"), "hyper_parameter_tuning_jobs", _settle_tuning
            ),
        ),
        (
            "list_hyper_parameter_tuning_jobs",
            settle_before_list(_original("list_hyper_parameter_tuning_jobs"), "hyper_parameter_tuning_jobs", _settle_tuning),
        ),
        ("stop_hyper_parameter_tuning_job", _stop_tuning_job),
        ("list_training_jobs_for_hyper_parameter_tuning_job", _list_tuning_children),
        ("create_model_package_group", _create_model_package_group),
        ("create_model_package", _create_model_package),
        ("update_model_package", _update_model_package),
    ):
        _patches.set(backend, name, function)
    _patches.set(SageMakerResponse, "stop_training_job", _stop_training_job_response)
    _patches.set(SageMakerResponse, "stop_hyper_parameter_tuning_job", _stop_tuning_job_response)
    _patches.set(
        SageMakerResponse, "list_training_jobs_for_hyper_parameter_tuning_job", _list_tuning_children_response
    )
    _patches.set(ModelPackage, "gen_response_object", _model_package_response)
    for name in ("describe_log_streams", "get_log_events", "filter_log_events"):
        _patches.set(LogsBackend, name, _settling_log_read(name))

    from mlops_orchestrator.local.sagemaker import (
        autopilot as sagemaker_autopilot,  # it imports helpers from here
    )

    sagemaker_autopilot.install()


def uninstall() -> None:
    from mlops_orchestrator.local.sagemaker import autopilot as sagemaker_autopilot

    sagemaker_autopilot.uninstall()
    _patches.undo()


def _original(name: str, owner: Any = SageMakerModelBackend) -> Any:
    return _patches.original(owner, name)


# --- S3 and metrics helpers (shared with autopilot) --------------------------------


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def s3_backend(account_id: str, region_name: str) -> Any:
    return s3_backends[account_id][get_partition(region_name)]


def objects_under(account_id: str, region_name: str, uri: str) -> list[tuple[str, Any]]:
    """(key name, moto key) of the live objects under an S3 URI, in key order."""
    bucket_name, prefix = split_s3(uri)
    bucket = buckets.find(s3_backend(account_id, region_name), bucket_name)
    if bucket is None:
        return []
    found = []
    for name in sorted(bucket.keys):
        if name.startswith(prefix) and not name.endswith("/"):
            key = bucket.keys.get(name)
            if hasattr(key, "value"):  # a delete marker has none: the object is gone
                found.append((name, key))
    return found


def no_objects_message(uri: str, region_name: str, role_arn: str | None) -> str:
    """SageMaker's message for an input S3 URI with nothing under it."""
    bucket, _ = split_s3(uri)
    return (
        f'No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that the '
        f"bucket exists in the selected region ({region_name}), that objects exist under that S3 prefix, "
        f'and that the role "{role_arn}" has "s3:ListBucket" permissions on bucket "{bucket}".'
    )


def put_s3(account_id: str, region_name: str, uri: str, body: bytes, kms_key: str | None) -> str | None:
    """Write an object; SageMaker's ClientError when its bucket does not exist."""
    bucket, key = split_s3(uri)
    s3 = s3_backend(account_id, region_name)
    if buckets.find(s3, bucket) is None:
        return f'ClientError: The output S3 bucket "{bucket}" of "{uri}" does not exist.'
    buckets.owner(s3, bucket).put_object(bucket, key, body, encryption="aws:kms" if kms_key else None, kms_key_id=kms_key or None)
    return None


def model_tar(filename: str, content: dict[str, Any]) -> bytes:
    """A gzip tar holding one JSON file (what the emulator "trains")."""
    data = json.dumps(content, indent=2, sort_keys=True).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(filename)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unit(*parts: str) -> float:
    """A deterministic number in [0, 1) from strings."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hex8(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8]


def check_name_length(name: str, member: str, limit: int) -> None:
    """SageMaker's validation of a name's length (boto3 checks it too, other clients may not)."""
    if len(name) > limit:
        raise ValidationError(
            message=f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )


def higher_is_better(metric_name: str) -> bool:
    lowered = metric_name.lower()
    return any(word in lowered for word in _HIGHER_IS_BETTER) and "error" not in lowered


def metric_value(metric_name: str, *seed: str) -> float:
    """A plausible deterministic value: 0.6-0.99 for scores, 0.05-0.55 for losses."""
    u = unit(metric_name, *seed)
    return round(0.6 + 0.39 * u if higher_is_better(metric_name) else 0.05 + 0.5 * u, 5)


# --- training jobs ---------------------------------------------------------------------------


@dataclass(eq=False)
class _Run:
    """What a running training job needs beyond moto's model: logs, metrics, its fate."""

    backend: SageMakerModelBackend
    job: FakeTrainingJob
    started: float
    failure: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    streams: list[str] = field(default_factory=list)

    @property
    def instance_count(self) -> int:
        return int((self.job.resource_config or {}).get("InstanceCount") or 1)


_RUNS: weakref.WeakKeyDictionary[FakeTrainingJob, _Run] = weakref.WeakKeyDictionary()


def channel_uris(input_data_config: list[dict[str, Any]] | None) -> list[str]:
    uris = []
    for channel in input_data_config or []:
        source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        if source.get("S3Uri"):
            uris.append(str(source["S3Uri"]))
    return uris


def _check_channels(backend: SageMakerModelBackend, input_data_config: Any, role_arn: str | None) -> None:
    """SageMaker refuses, at create, an S3 channel with no object under it."""
    for uri in channel_uris(input_data_config):
        if not objects_under(backend.account_id, backend.region_name, uri):
            raise ValidationError(message=no_objects_message(uri, backend.region_name, role_arn))


def _image(job: FakeTrainingJob) -> str:
    return str((job.algorithm_specification or {}).get("TrainingImage") or "")


def _output_path(job: FakeTrainingJob) -> str:
    return str((job.output_data_config or {}).get("S3OutputPath") or "").rstrip("/")


def training_failure_names(job: FakeTrainingJob) -> list[str]:
    """What a ``training_job`` failure rule's ``match`` is compared with."""
    names = [job.training_job_name, _image(job), _output_path(job), *channel_uris(job.input_data_config)]
    return [name for name in names if name]


def _metric_names(job: FakeTrainingJob, extra: tuple[str, ...]) -> list[str]:
    names = [d.get("Name") for d in (job.algorithm_specification or {}).get("MetricDefinitions") or []]
    if "xgboost" in _image(job).lower():
        names += list(XGBOOST_METRICS)
    names += list(extra)
    return list(dict.fromkeys(name for name in names if name))


def _create_training_job(
    self: SageMakerModelBackend, training_job_name: str, **kwargs: Any
) -> FakeTrainingJob:
    with LOCK:
        return start_training_job(self, training_job_name, kwargs)


def start_training_job(
    backend: SageMakerModelBackend,
    name: str,
    kwargs: dict[str, Any],
    *,
    extra_metrics: tuple[str, ...] = (),
    failure: str | None = None,
    tuning_job_arn: str | None = None,
) -> FakeTrainingJob:
    """Create a training job that runs (also for tuning jobs, which fix its metrics and fate)."""
    existing = backend.training_jobs.get(name)
    if existing is not None:
        raise ResourceInUseException(
            message="Training job names must be unique within an AWS account and region, and a training job "
            f"with this name already exists ({existing.arn})"
        )
    _check_channels(backend, kwargs.get("input_data_config"), kwargs.get("role_arn"))
    algorithm = dict(kwargs.get("algorithm_specification") or {})
    kwargs = {**kwargs, "algorithm_specification": dict(algorithm)}
    for optional in (
        "hyper_parameters", "vpc_config", "stopping_condition", "tags", "checkpoint_config", "debug_hook_config",
        "debug_rule_configurations", "tensor_board_output_config", "experiment_config",
    ):  # fmt: skip
        kwargs.setdefault(optional, None)
    for flag in (
        "enable_network_isolation",
        "enable_inter_container_traffic_encryption",
        "enable_managed_spot_training",
    ):
        kwargs.setdefault(flag, False)
    job = _original("create_training_job")(backend, training_job_name=name, **kwargs)
    job.algorithm_specification = algorithm  # moto replaces MetricDefinitions with its own
    job.hyper_parameters = job.hyper_parameters or {}
    if tuning_job_arn:
        job.tuning_job_arn = tuning_job_arn
    started = now()
    job.creation_time = job.last_modified_time = to_datetime(started)
    job.training_start_time = job.training_end_time = None
    job.model_artifacts = None
    job.final_metric_data_list = None
    job.secondary_status = SECONDARY[0][0]
    job.secondary_status_transitions = [
        {"Status": SECONDARY[0][0], "StartTime": to_datetime(started), "StatusMessage": SECONDARY[0][2]}
    ]
    reason = failure or STATE.failures.take(TRAINING_FAILURES, training_failure_names(job))
    run = _Run(backend, job, started, reason)
    seed = [name, json.dumps(job.hyper_parameters, sort_keys=True)]
    run.metrics = {metric: metric_value(metric, *seed) for metric in _metric_names(job, extra_metrics)}
    _RUNS[job] = run
    attach(job, Lifecycle("InProgress", started)).start(_phase(run, 0), at=started)
    _settle(job)
    return job


def _phase(run: _Run, index: int) -> Phase:
    _, share, _ = SECONDARY[index]
    return Phase("InProgress", STATE.settings.job_seconds * share, lambda at: _next(run, index, at))


def _next(run: _Run, index: int, at: float) -> Phase | Done:
    """End secondary phase ``index`` at ``at``: log what it did, then start the next or finish."""
    job = run.job
    status = SECONDARY[index][0]
    begun = _transition_start(job)
    if status == "Starting":
        job.training_start_time = to_datetime(at)
    elif status == "Downloading":
        _log(run, begun, at, _download_lines(run))
    elif status == "Training":
        _log(run, begun, at, _training_lines(run))
        if run.failure:
            return _fail(run, at, run.failure)
        _write_checkpoint(run)
    elif status == "Uploading":
        failure = _write_model(run)
        if failure:
            return _fail(run, at, failure)
        _log(run, begun, at, ["Model artifacts saved to /opt/ml/model; upload to S3 complete."])
        _end(run, at, "Completed", "Training job completed")
        job.final_metric_data_list = [
            {"MetricName": metric, "Value": value, "Timestamp": to_datetime(at)}
            for metric, value in run.metrics.items()
        ] or None
        return Done("Completed")
    following = SECONDARY[index + 1]
    _transition(job, at, following[0], following[2])
    return _phase(run, index + 1)


def _transition_start(job: FakeTrainingJob) -> float:
    start = job.secondary_status_transitions[-1]["StartTime"]
    return start.replace(tzinfo=UTC).timestamp()


def _transition(job: FakeTrainingJob, at: float, status: str, message: str) -> None:
    last = job.secondary_status_transitions[-1]
    last.setdefault("EndTime", to_datetime(at))
    job.secondary_status = status
    job.last_modified_time = to_datetime(at)
    job.secondary_status_transitions.append(
        {"Status": status, "StartTime": to_datetime(at), "StatusMessage": message}
    )


def _end(run: _Run, at: float, status: str, message: str) -> None:
    job = run.job
    _transition(job, at, status, message)
    job.secondary_status_transitions[-1]["EndTime"] = to_datetime(at)
    job.training_end_time = to_datetime(at)
    if job.training_start_time is None:
        job.training_start_time = to_datetime(at)
    seconds = max(1, math.ceil(at - job.training_start_time.replace(tzinfo=UTC).timestamp()))
    job.training_time_in_seconds = seconds
    billable = seconds * run.instance_count
    job.billable_time_in_seconds = (
        max(1, round(billable * 0.3)) if job.enable_managed_spot_training else billable
    )


def _fail(run: _Run, at: float, reason: str) -> Done:
    _log(run, at, at, [f"[{_stamp(at)}:ERROR] {reason}"])
    _end(run, at, "Failed", reason)
    return Done("Failed", reason)


def _write_model(run: _Run) -> str | None:
    job = run.job
    output = job.output_data_config or {}
    uri = f"{_output_path(job)}/{job.training_job_name}/output/model.tar.gz"
    filename = "xgboost-model" if "xgboost" in _image(job).lower() else "model.json"
    body = model_tar(
        filename,
        {
            "training_job": job.training_job_name,
            "hyperparameters": job.hyper_parameters,
            "metrics": run.metrics,
        },
    )
    failure = put_s3(run.backend.account_id, run.backend.region_name, uri, body, output.get("KmsKeyId"))
    if failure is None:
        job.model_artifacts = {"S3ModelArtifacts": uri}
    return failure


def _write_checkpoint(run: _Run) -> None:
    job = run.job
    uri = str((job.checkpoint_config or {}).get("S3Uri") or "").rstrip("/")
    if uri:
        rounds = _rounds(job)
        body = json.dumps({"training_job": job.training_job_name, "round": rounds - 1}).encode()
        put_s3(
            run.backend.account_id, run.backend.region_name, f"{uri}/checkpoint-{rounds - 1}.json", body, None
        )


def _rounds(job: FakeTrainingJob) -> int:
    hyper = job.hyper_parameters or {}
    for key in ("num_round", "epochs", "num_epochs", "n_estimators"):
        try:
            return max(1, min(_MAX_ROUNDS, int(float(hyper[key]))))
        except (KeyError, TypeError, ValueError):
            continue
    return 10


# --- CloudWatch logs ---------------------------------------------------------------------------


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d:%H:%M:%S")


def _download_lines(run: _Run) -> list[str]:
    job = run.job
    lines = [f"[{{stamp}}:INFO] Imported framework for image {_image(job) or '(algorithm)'}"]
    if job.hyper_parameters:
        lines.append(f"[{{stamp}}:INFO] Hyperparameters: {json.dumps(job.hyper_parameters, sort_keys=True)}")
    for channel in job.input_data_config or []:
        lines.append(
            f"[{{stamp}}:INFO] File path /opt/ml/input/data/{channel.get('ChannelName')} of input files"
        )
    lines.append(
        "[{stamp}:INFO] Single node training."
        if run.instance_count == 1
        else f"[{{stamp}}:INFO] Distributed training with {run.instance_count} hosts."
    )
    return lines


def _training_lines(run: _Run) -> list[str]:
    """One ``[round]#011name:value`` line per round, converging to the final metric values."""
    rounds = _rounds(run.job)
    lines = []
    for index in range(rounds):
        distance = (rounds - 1 - index) / max(1, rounds)
        values = []
        for metric, final in run.metrics.items():
            value = final * (1 - 0.5 * distance) if higher_is_better(metric) else final * (1 + 2 * distance)
            values.append(f"{metric.replace(':', '-')}:{value:.5f}")
        lines.append(f"[{index}]#011" + "#011".join(values) if values else f"[{index}] round done")
    return lines


def _log(run: _Run, start: float, end: float, lines: list[str]) -> None:
    """Write lines to every instance's stream, spread over [start, end] (created on first use)."""
    if not lines:
        return
    job = run.job
    backend = logs_backends[run.backend.account_id][run.backend.region_name]
    if LOG_GROUP not in backend.groups:
        backend.create_log_group(LOG_GROUP, {})
    if not run.streams:
        run.streams = [
            f"{job.training_job_name}/algo-{n}-{int(run.started)}" for n in range(1, run.instance_count + 1)
        ]
        for stream in run.streams:
            backend.ensure_log_stream(LOG_GROUP, stream)
    step = (end - start) / len(lines)
    events = []
    for index, line in enumerate(lines):
        at = start + step * index
        events.append({"timestamp": int(at * 1000), "message": line.replace("{stamp}", _stamp(at))})
    for stream in run.streams:
        backend.put_log_events(LOG_GROUP, stream, events)


def _settling_log_read(name: str) -> Any:
    """A LogsBackend read that first settles the training jobs when it reads their log group."""

    original = _original(name, LogsBackend)
    signature = inspect.signature(original)

    def read(self: LogsBackend, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            if signature.bind(self, *args, **kwargs).arguments.get("log_group_name") == LOG_GROUP:
                sagemaker = sagemaker_backends[self.account_id][self.region_name]
                for job in list(sagemaker.training_jobs.values()):
                    _settle(job)
            return original(self, *args, **kwargs)

    read.__name__ = name
    return read


# --- describe, list, stop ----------------------------------------------------------------------


def _settle(job: FakeTrainingJob) -> str:
    return settle_status(job, "training_job_status")






def _stop_training_job(self: SageMakerModelBackend, training_job_name: str) -> None:
    """StopTrainingJob: ``Stopping`` for ``job_seconds``, then ``Stopped``; a no-op while stopping."""
    with LOCK:
        job = self.training_jobs.get(training_job_name)
        if job is None:
            arn = FakeTrainingJob.arn_formatter(training_job_name, self.account_id, self.region_name)
            raise ResourceNotFound(message=f"Could not find training job '{arn}'.")
        stop_training(job)


def stop_training(job: FakeTrainingJob) -> None:
    status = _settle(job)
    if status == "Stopping":
        return
    if status != "InProgress":
        raise ValidationError(
            message=f"The training job {job.training_job_name} can not be stopped: it is {status}."
        )
    run = _RUNS.get(job)
    lifecycle = lifecycle_or_attach(job, "training_job_status")
    lifecycle.cancel()
    at = now()
    _transition(job, at, "Stopping", "Stopping the training job")

    def stopped(at_deadline: float) -> None:
        if run is not None:
            _end(run, at_deadline, "Stopped", "Training job stopped")

    lifecycle.run("Stopping", STATE.settings.job_seconds, "Stopped", on_done=stopped, at=at)
    _settle(job)


def _stop_training_job_response(self: SageMakerResponse) -> EmptyResult:
    self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))
    return EmptyResult()


# --- hyperparameter tuning jobs ------------------------------------------------------------------


@dataclass(eq=False)
class _Tuning:
    objective: dict[str, Any]
    children: list[FakeTrainingJob] = field(default_factory=list)
    tuned: dict[str, dict[str, str]] = field(default_factory=dict)
    definition_names: dict[str, str | None] = field(default_factory=dict)


_TUNINGS: weakref.WeakKeyDictionary[HyperParameterTuningJob, _Tuning] = weakref.WeakKeyDictionary()


def _definitions(job_definition: Any, job_definitions: Any) -> list[dict[str, Any]]:
    return [job_definition] if job_definition else list(job_definitions or [])


def draw_hyperparameters(ranges: dict[str, Any] | None, *seed: str) -> dict[str, str]:
    """Values within the parameter ranges, deterministic for a seed (e.g. tuning job name + index)."""
    values: dict[str, str] = {}
    for spec in (ranges or {}).get("IntegerParameterRanges") or []:
        low, high = int(float(spec["MinValue"])), int(float(spec["MaxValue"]))
        values[spec["Name"]] = str(low + int(unit(spec["Name"], *seed) * (high - low + 1)))
    for spec in (ranges or {}).get("ContinuousParameterRanges") or []:
        low, high = float(spec["MinValue"]), float(spec["MaxValue"])
        values[spec["Name"]] = f"{low + unit(spec['Name'], *seed) * (high - low):.6g}"
    for spec in (ranges or {}).get("CategoricalParameterRanges") or []:
        options = list(spec.get("Values") or [])
        if options:
            values[spec["Name"]] = str(options[int(unit(spec["Name"], *seed) * len(options))])
    return values


def _create_tuning_job(
    self: SageMakerModelBackend,
    hyper_parameter_tuning_job_name: str,
    hyper_parameter_tuning_job_config: dict[str, Any],
    training_job_definition: dict[str, Any] | None,
    training_job_definitions: list[dict[str, Any]] | None,
    **kwargs: Any,
) -> str:
    with LOCK:
        name, config = hyper_parameter_tuning_job_name, hyper_parameter_tuning_job_config or {}
        check_name_length(name, "hyperParameterTuningJobName", 32)
        definitions = _definitions(training_job_definition, training_job_definitions)
        if not definitions:
            raise ValidationError(
                message="Either TrainingJobDefinition or TrainingJobDefinitions must be provided."
            )
        if name in self.hyper_parameter_tuning_jobs:
            raise ResourceInUseException(
                message=f"Resource Already Exists: Hyper Parameter Tuning Job with name {name} already exists. "
                "Choose a different name."
            )
        for definition in definitions:
            _check_channels(self, definition.get("InputDataConfig"), definition.get("RoleArn"))
        arn = _original("create_hyper_parameter_tuning_job")(
            self,
            hyper_parameter_tuning_job_name=name,
            hyper_parameter_tuning_job_config=config,
            training_job_definition=training_job_definition,
            training_job_definitions=training_job_definitions,
            **kwargs,
        )
        tuning = self.hyper_parameter_tuning_jobs[name]
        started = now()
        tuning.creation_time = tuning.last_modified_time = to_datetime(started)
        tuning.hyper_parameter_tuning_end_time = None
        tuning.best_training_job = tuning.OverallBestTrainingJob = None
        tuning.tuning_job_completion_details = tuning.consumed_resources = None
        tuning.failure_reason = None
        uris = [uri for definition in definitions for uri in channel_uris(definition.get("InputDataConfig"))]
        reason = STATE.failures.take(TUNING_FAILURES, [name, *uris])
        objective = (
            config.get("HyperParameterTuningJobObjective") or definitions[0].get("TuningObjective") or {}
        )
        state = _Tuning(objective=objective)
        _TUNINGS[tuning] = state
        limits = config.get("ResourceLimits") or {}
        count = max(1, int(limits.get("MaxNumberOfTrainingJobs") or 1))
        for index in range(count):
            definition = definitions[index % len(definitions)]
            ranges = definition.get("HyperParameterRanges") or config.get("ParameterRanges")
            tuned = draw_hyperparameters(ranges, name, str(index))
            child_name = f"{name}-{index + 1:03d}-{hex8(name, str(index))}"
            objective_name = objective.get("MetricName")
            static = dict(definition.get("StaticHyperParameters") or {})
            if objective_name:
                static["_tuning_objective_metric"] = objective_name
            child = start_training_job(
                self, child_name, _child_request(definition, {**static, **tuned}),
                extra_metrics=(objective_name,) if objective_name else (),
                failure=reason, tuning_job_arn=arn,
            )  # fmt: skip
            state.children.append(child)
            state.tuned[child_name] = tuned
            state.definition_names[child_name] = definition.get("DefinitionName")
        _refresh(tuning)

        def finish(at: float) -> Done:
            _refresh(tuning)
            tuning.hyper_parameter_tuning_end_time = tuning.last_modified_time = to_datetime(at)
            if reason:
                return Done("Failed", reason)
            if tuning.best_training_job is None:
                return Done(
                    "Failed",
                    f"No training job succeeded after {count} attempts. Please take a look at the training job "
                    "failures to get more details.",
                )
            return Done("Completed")

        lifecycle = attach(tuning, Lifecycle("InProgress", started))
        lifecycle.start(
            Phase(
                "InProgress",
                STATE.settings.job_seconds,
                wait_for("InProgress", lambda: _lifecycles(state), finish),
            ),
            at=started,
        )
        _settle_tuning(tuning)
        return arn


def _child_request(definition: dict[str, Any], hyper_parameters: dict[str, str]) -> dict[str, Any]:
    return {
        "hyper_parameters": hyper_parameters,
        "algorithm_specification": definition.get("AlgorithmSpecification") or {},
        "role_arn": definition.get("RoleArn"),
        "input_data_config": definition.get("InputDataConfig") or [],
        "output_data_config": definition.get("OutputDataConfig") or {},
        "resource_config": definition.get("ResourceConfig") or {"InstanceCount": 1},
        "vpc_config": definition.get("VpcConfig"),
        "stopping_condition": definition.get("StoppingCondition"),
        "enable_network_isolation": bool(definition.get("EnableNetworkIsolation")),
        "enable_inter_container_traffic_encryption": bool(
            definition.get("EnableInterContainerTrafficEncryption")
        ),
        "enable_managed_spot_training": bool(definition.get("EnableManagedSpotTraining")),
        "checkpoint_config": definition.get("CheckpointConfig"),
    }


def _lifecycles(state: _Tuning) -> list[Lifecycle]:
    return [lifecycle_or_attach(child, "training_job_status") for child in state.children]


def _objective_value(state: _Tuning, child: FakeTrainingJob) -> float | None:
    metric = state.objective.get("MetricName")
    for datum in child.final_metric_data_list or []:
        if datum["MetricName"] == metric:
            return float(datum["Value"])
    return None


def _child_summary(tuning: HyperParameterTuningJob, state: _Tuning, child: FakeTrainingJob) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "TrainingJobDefinitionName": state.definition_names.get(child.training_job_name),
        "TrainingJobName": child.training_job_name,
        "TrainingJobArn": child.arn,
        "TuningJobName": tuning.hyper_parameter_tuning_job_name,
        "CreationTime": child.creation_time,
        "TrainingStartTime": child.training_start_time,
        "TrainingEndTime": child.training_end_time,
        "TrainingJobStatus": child.training_job_status,
        "TunedHyperParameters": state.tuned.get(child.training_job_name, {}),
        "FailureReason": child.failure_reason,
    }
    value = _objective_value(state, child)
    if value is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": state.objective.get("Type"),
            "MetricName": state.objective.get("MetricName"),
            "Value": value,
        }
        summary["ObjectiveStatus"] = "Succeeded"
    else:
        summary["ObjectiveStatus"] = "Pending" if child.training_job_status == "InProgress" else "Failed"
    return {key: value for key, value in summary.items() if value is not None}


def _refresh(tuning: HyperParameterTuningJob) -> None:
    """Counters and best training job from the children's current statuses."""
    state = _TUNINGS.get(tuning)
    if state is None:
        return
    for child in state.children:
        _settle(child)
    summaries = [_child_summary(tuning, state, child) for child in state.children]
    statuses = [summary["TrainingJobStatus"] for summary in summaries]
    tuning.training_job_status_counters = {
        "Completed": statuses.count("Completed"),
        "InProgress": statuses.count("InProgress") + statuses.count("Stopping"),
        "RetryableError": 0,
        "NonRetryableError": statuses.count("Failed"),
        "Stopped": statuses.count("Stopped"),
    }
    objectives = [summary["ObjectiveStatus"] for summary in summaries]
    tuning.objective_status_counters = {
        "Succeeded": objectives.count("Succeeded"),
        "Pending": objectives.count("Pending"),
        "Failed": objectives.count("Failed"),
    }
    scored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
    if scored:
        maximize = state.objective.get("Type") == "Maximize"
        best = max(
            scored,
            key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] * (1 if maximize else -1),
        )
        tuning.best_training_job = best
        tuning.OverallBestTrainingJob = (
            best if len(_definitions(None, tuning.training_job_definitions)) > 1 else None
        )


def _settle_tuning(tuning: HyperParameterTuningJob) -> str:
    status = settle_status(tuning, "hyper_parameter_tuning_job_status")
    _refresh(tuning)
    return status






def _get_tuning(backend: SageMakerModelBackend, name: str) -> HyperParameterTuningJob:
    tuning = backend.hyper_parameter_tuning_jobs.get(name)
    if tuning is None:
        raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
    return tuning


def _stop_tuning_job(self: SageMakerModelBackend, hyper_parameter_tuning_job_name: str) -> None:
    """Stop the tuning job and its running training jobs: ``Stopping``, then ``Stopped``."""
    with LOCK:
        tuning = _get_tuning(self, hyper_parameter_tuning_job_name)
        status = _settle_tuning(tuning)
        if status == "Stopping":
            return
        if status != "InProgress":
            raise ValidationError(
                message=f"The hyperparameter tuning job {hyper_parameter_tuning_job_name} can not be stopped: "
                f"it is {status}."
            )
        state = _TUNINGS.get(tuning)
        for child in state.children if state else []:
            if _settle(child) == "InProgress":
                stop_training(child)
        lifecycle = lifecycle_or_attach(tuning, "hyper_parameter_tuning_job_status")
        lifecycle.cancel()
        at = now()
        tuning.last_modified_time = to_datetime(at)

        def stopped(at_deadline: float) -> None:
            tuning.hyper_parameter_tuning_end_time = tuning.last_modified_time = to_datetime(at_deadline)

        lifecycle.run("Stopping", STATE.settings.job_seconds, "Stopped", on_done=stopped, at=at)
        _settle_tuning(tuning)


def _stop_tuning_job_response(self: SageMakerResponse) -> EmptyResult:
    self.sagemaker_backend.stop_hyper_parameter_tuning_job(self._get_param("HyperParameterTuningJobName"))
    return EmptyResult()


def _list_tuning_children(
    self: SageMakerModelBackend,
    name: str,
    status_equals: str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    with LOCK:
        tuning = _get_tuning(self, name)
        _settle_tuning(tuning)
        state = _TUNINGS.get(tuning)
        summaries = [_child_summary(tuning, state, child) for child in (state.children if state else [])]
    if status_equals:
        summaries = [s for s in summaries if s["TrainingJobStatus"] == status_equals]
    descending = sort_order == "Descending"  # the API's defaults: by Name, Ascending
    if sort_by == "FinalObjectiveMetricValue":  # jobs without an objective value are not listed
        summaries = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
        summaries.sort(
            key=lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], reverse=descending
        )
    else:
        key = {"CreationTime": "CreationTime", "Status": "TrainingJobStatus"}.get(
            sort_by or "", "TrainingJobName"
        )
        summaries.sort(key=lambda s: (s[key], s["TrainingJobName"]), reverse=descending)
    start = int(next_token or 0)
    size = int(max_results or 10)
    page = summaries[start : start + size]
    token = str(start + size) if start + size < len(summaries) else None
    return {"TrainingJobSummaries": page, "NextToken": token}


def _list_tuning_children_response(self: SageMakerResponse) -> ActionResult:
    return ActionResult(
        self.sagemaker_backend.list_training_jobs_for_hyper_parameter_tuning_job(
            self._get_param("HyperParameterTuningJobName"),
            status_equals=self._get_param("StatusEquals"),
            sort_by=self._get_param("SortBy"),
            sort_order=self._get_param("SortOrder"),
            max_results=self._get_param("MaxResults"),
            next_token=self._get_param("NextToken"),
        )
    )


# --- model registry ------------------------------------------------------------------------------

_GROUP_ARN = re.compile(r"^arn:[^:]+:sagemaker:[^:]*:\d*:model-package-group/(.+)$")


def _group_arn(backend: SageMakerModelBackend, name: str) -> str:
    return f"arn:{get_partition(backend.region_name)}:sagemaker:{backend.region_name}:{backend.account_id}:model-package-group/{name}"


def _create_model_package_group(
    self: SageMakerModelBackend, model_package_group_name: str, *args: Any, **kwargs: Any
) -> str:
    with LOCK:
        existing = self.model_package_groups.get(model_package_group_name)
        if existing is not None:
            raise ValidationError(message=f"Model Package Group already exists: {existing.arn}")
        return _original("create_model_package_group")(self, model_package_group_name, *args, **kwargs)


def _create_model_package(self: SageMakerModelBackend, **kwargs: Any) -> str:
    with LOCK:
        group = kwargs.get("model_package_group_name")
        if group:
            matched = _GROUP_ARN.match(group)
            group = kwargs["model_package_group_name"] = matched.group(1) if matched else group
            if group not in self.model_package_groups:
                raise ValidationError(
                    message=f"Model Package Group {_group_arn(self, group)} does not exist."
                )
            if kwargs.get("model_approval_status") is None:
                kwargs["model_approval_status"] = "PendingManualApproval"
            # moto numbers versions 1, 2, 3 by counting the group's packages (none is ever deleted here)
        return _original("create_model_package")(self, **kwargs)


def _update_model_package(
    self: SageMakerModelBackend,
    model_package_arn: str,
    model_approval_status: str | None,
    approval_description: str | None,
    customer_metadata_properties: dict[str, str] | None,
    customer_metadata_properties_to_remove: list[str] | None,
    additional_inference_specifications_to_add: list[Any] | None,
) -> str:
    """UpdateModelPackage changes only the fields given; metadata properties are merged."""
    with LOCK:
        package = self.model_packages.get(
            self.model_package_name_mapping.get(model_package_arn, model_package_arn)
        )
        if package is None:
            raise ValidationError(message=f"Model package {model_package_arn} not found")
        if model_approval_status is not None:
            package.set_model_approval_status(model_approval_status)
        if approval_description is not None:
            package.approval_description = approval_description
        properties = dict(package.customer_metadata_properties or {})
        properties.update(customer_metadata_properties or {})
        for key in customer_metadata_properties_to_remove or []:
            properties.pop(key, None)
        package.customer_metadata_properties = properties or None
        if additional_inference_specifications_to_add:
            package.add_additional_inference_specifications(additional_inference_specifications_to_add)
        package.modifications_done()
        return package.arn


def _model_package_response(self: ModelPackage) -> dict[str, Any]:
    response = _original("gen_response_object", ModelPackage)(self)
    if self.model_package_type == "Versioned":  # SageMaker names a version after its group
        response["ModelPackageName"] = self.model_package_group_name
    return response
