"""SageMaker Model Monitor in the emulator: processing jobs, monitoring schedules and their executions.

moto 5.2 finishes a processing job at once and writes nothing, has no monitoring schedules or
executions, and its job definition stores accept duplicate names and lose fields. Here, as SageMaker:

Processing jobs
- CreateProcessingJob refuses a name used before (``ValidationException``) and keeps
  ``Environment`` and ``ProcessingResources``; the job is ``InProgress`` for ``job_seconds``, then
  ``Completed``, or ``Failed`` with a ``FailureReason`` when a failure rule of kind
  ``processing_job`` matches (job name, image URI, an input or output S3 URI), an ``S3Input`` has
  no object under its ``S3Uri`` (SageMaker's "No S3 objects found" wording), an output bucket does
  not exist, or the container below cannot do its analysis. StopProcessingJob: ``Stopping`` for
  ``job_seconds``, then ``Stopped``.
- On completion the job writes to its first output's ``S3Uri`` (SSE-KMS with the output config's
  ``KmsKeyId``), by image: the Model Monitor analyzer (``sagemaker-model-monitor-analyzer``) reads
  the CSV (with header) under its input and writes ``statistics.json`` and ``constraints.json`` in
  Model Monitor's format, for data quality, or with ``analysis_type=MODEL_QUALITY`` real metrics of
  ``problem_type`` computed from the ``inference_attribute`` / ``probability_attribute`` and
  ``ground_truth_attribute`` columns (a missing column fails the job, naming it); Clarify
  (``sagemaker-clarify-processing``) reads its ``analysis_config`` input (the SDK's
  ``analysis_config.json``) and its ``dataset`` input and writes ``analysis.json``: CI and DPL
  pre-training, DPPL, DI and AD post-training (predictions are the emulator's deterministic scores,
  as transform jobs give), and global SHAP values; any other image writes nothing.

Monitoring schedules (Create/Describe/List/Update/Delete/Start/Stop, ListMonitoringExecutions)
- Create refuses a taken name (``ResourceInUse``); Create and Update need the
  ``MonitoringJobDefinitionName`` to exist for the ``MonitoringType`` (or an inline
  ``MonitoringJobDefinition``), else ``ValidationException`` naming it; a missing schedule is
  ``ResourceNotFound``. A schedule is ``Pending`` for ``stack_seconds``, then ``Scheduled``
  (Update: ``Pending`` again, then the new config); Stop makes it ``Stopped``, Start ``Scheduled``.
- While ``Scheduled`` it runs an execution every ``schedule_seconds``, the first when it becomes
  ``Scheduled``: ``Pending`` for a quarter of ``job_seconds``, ``InProgress`` for ``job_seconds``,
  then ``Completed``, ``CompletedWithViolations`` (a failure rule of kind ``monitoring_violation``
  matches the schedule or endpoint name; the rule's reason is the violation's description) or
  ``Failed`` (kind ``monitoring_execution``; the reason is the ``FailureReason``). Each execution
  has a processing job (``model-monitoring-...``, with ``MonitoringScheduleArn``) whose output
  ``S3Uri`` is where it wrote ``constraint_violations.json`` and ``statistics.json`` (data and
  model quality, the baseline's statistics) or ``analysis.json`` (bias, explainability):
  ``{S3Uri}/{endpoint}/{schedule}/{YYYY}/{MM}/{DD}/{HH}`` of its scheduled time (with
  ``-{MMSS}-{n}`` when an earlier execution of the schedule used that hour). The last 100
  executions of a schedule are kept; deleting a schedule forgets them. Executions are derived
  from timestamps whenever the schedule, its executions or their jobs are read, so a failure
  rule applies to the next execution the emulator derives after it was added. No traffic is
  needed (real executions over an endpoint without captured data fail "Job inputs had no data").
- ListTags/AddTags/DeleteTags work on schedule ARNs.

Job definitions (the four ``*JobDefinition`` types): a taken name is ``ResourceInUse``, Describe
returns what the API defines (no empty members), List filters by ``EndpointName`` and
``NameContains`` (sorted, paged) and summaries name the real endpoint. Only ``EndpointInput``
job inputs are supported (``BatchTransformInput`` is refused with a ``ValidationException``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import random
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.models import FakeProcessingJob, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter
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
    settle_status,
    to_datetime,
)
from mlops_orchestrator.local.patching import Patches

PROCESSING_FAILURES = "processing_job"
VIOLATION_FAILURES = "monitoring_violation"
EXECUTION_FAILURES = "monitoring_execution"
MODEL_MONITOR_IMAGE = "sagemaker-model-monitor-analyzer"
CLARIFY_IMAGE = "sagemaker-clarify-processing"
#: How many executions of a schedule are kept (the oldest are forgotten).
MAX_EXECUTIONS = 100
#: The shortest time between two executions (``schedule_seconds`` 0 would never stop counting).
_MIN_PERIOD = 0.01
_MAX_READ = 1 << 20
_STORE = "mlops_monitoring_schedules"

#: MonitoringType -> the prefix of its job definition's attributes and its moto store.
MONITORING_TYPES = {
    "DataQuality": "data_quality",
    "ModelQuality": "model_quality",
    "ModelBias": "model_bias",
    "ModelExplainability": "model_explainability",
}

_patches = Patches()


def install() -> None:
    """Extend moto with processing-job lifecycles, outputs, monitoring schedules and executions."""
    if _patches.installed:
        return
    register_failure_kind(
        PROCESSING_FAILURES, "the processing job name, its image URI, or an input or output S3 URI"
    )
    register_failure_kind(VIOLATION_FAILURES, "the monitoring schedule name or its endpoint name")
    register_failure_kind(EXECUTION_FAILURES, "the monitoring schedule name or its endpoint name")
    backend, responses = SageMakerModelBackend, SageMakerResponse
    _patches.set(backend, "create_processing_job", _create_processing_job)
    _patches.set(backend, "describe_processing_job", _describe_processing_job)
    _patches.set(backend, "list_processing_jobs", _list_processing_jobs)
    _patches.set(backend, "stop_processing_job", _stop_processing_job)
    _patches.set(backend, "_get_resource_from_arn", _get_resource_from_arn)
    _patches.set(responses, "create_processing_job", _create_processing_job_response)
    for operation, handler in _SCHEDULE_HANDLERS.items():
        _patches.set(responses, operation, handler)
    for prefix in MONITORING_TYPES.values():
        _patches.set(backend, f"create_{prefix}_job_definition", _definition_creator(prefix))
        _patches.set(responses, f"describe_{prefix}_job_definition", _definition_describer(prefix))
        _patches.set(responses, f"list_{prefix}_job_definitions", _definition_lister(prefix))


def uninstall() -> None:
    _patches.undo()


def _original(name: str) -> Any:
    return _patches.original(SageMakerModelBackend, name)


def _s3(backend: SageMakerModelBackend) -> Any:
    return s3_backends[backend.account_id][get_partition(backend.region_name)]


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = str(uri).removeprefix("s3://").partition("/")
    return bucket, key


def _objects(s3: Any, uri: str) -> list[tuple[str, bytes]]:
    """The (key, first MiB of body) of every object under ``uri``, by key."""
    bucket_name, prefix = _split(uri)
    bucket = buckets.find(s3, bucket_name)
    names = sorted(name for name in (bucket.keys if bucket else {}) if name.startswith(prefix))
    found = []
    for name in names:
        key = bucket.keys.get(name)
        if hasattr(key, "value") and not name.endswith("/"):  # a delete marker has no value
            found.append((name, bytes(key.value[:_MAX_READ])))
    return found


def _put(s3: Any, uri: str, name: str, body: Any, kms_key: str | None) -> None:
    bucket, prefix = _split(uri)
    key = f"{prefix.rstrip('/')}/{name}" if prefix else name
    data = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
    buckets.owner(s3, bucket).put_object(
        bucket, key, data, encryption="aws:kms" if kms_key else None, kms_key_id=kms_key or None
    )


def _read_json(s3: Any, uri: str | None) -> Any:
    """The JSON object at ``uri`` (None when absent or not JSON)."""
    if not uri:
        return None
    for name, body in _objects(s3, uri):
        if name == _split(uri)[1]:
            try:
                return json.loads(body)
            except ValueError:
                return None
    return None


def _no_objects(uri: str, region: str) -> str:
    bucket = _split(uri)[0]
    return (
        f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure '
        f"that the bucket exists in the selected region ({region}), that objects exist under that S3 "
        f'prefix, and that the role has "s3:ListBucket" permissions on bucket "{bucket}".'
    )


# --- processing jobs -------------------------------------------------------------------------


def _inputs(job: FakeProcessingJob) -> list[dict[str, Any]]:
    return [item for item in job.processing_inputs or [] if isinstance(item, dict)]


def _input_uri(item: dict[str, Any]) -> str:
    return str((item.get("S3Input") or {}).get("S3Uri") or "")


def _output_uris(job: FakeProcessingJob) -> list[str]:
    outputs = (job.processing_output_config or {}).get("Outputs") or []
    return [
        str((item.get("S3Output") or {}).get("S3Uri"))
        for item in outputs
        if (item.get("S3Output") or {}).get("S3Uri")
    ]


def failure_names(job: FakeProcessingJob) -> list[str]:
    """What a ``processing_job`` failure rule's ``match`` is compared with."""
    names = [job.processing_job_name, str((job.app_specification or {}).get("ImageUri") or "")]
    names += [_input_uri(item) for item in _inputs(job)] + _output_uris(job)
    return [name for name in names if name]


def _settle_job(job: FakeProcessingJob) -> str:
    return settle_status(job, "processing_job_status")


def _job_ended(job: FakeProcessingJob, at: float) -> None:
    job.processing_end_time = job.last_modified_time = to_datetime(at)


def _create_processing_job(
    self: SageMakerModelBackend,
    processing_job_name: str,
    environment: dict[str, str] | None = None,
    processing_resources: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FakeProcessingJob:
    with LOCK:
        existing = self.processing_jobs.get(processing_job_name)
        if existing is not None:
            raise ValidationError(
                message="Job name must be unique within an AWS account and region, and a job with this "
                f"name already exists ({existing.arn})"
            )
        job = _original("create_processing_job")(self, processing_job_name=processing_job_name, **kwargs)
        job.environment = environment or None
        job.processing_resources = processing_resources
        started = now()
        job.creation_time = job.last_modified_time = job.processing_start_time = to_datetime(started)
        job.processing_end_time = None
        reason = STATE.failures.take(PROCESSING_FAILURES, failure_names(job))

        def finish(at: float) -> Done:
            failure = reason or _run_container(self, job)
            _job_ended(job, at)
            return Done("Failed", failure) if failure else Done("Completed")

        attach(job, Lifecycle("InProgress", started)).start(
            Phase("InProgress", STATE.settings.job_seconds, finish), at=started
        )
        _settle_job(job)
        return job


def _create_processing_job_response(self: SageMakerResponse) -> ActionResult:
    job = self.sagemaker_backend.create_processing_job(
        app_specification=self._get_param("AppSpecification"),
        experiment_config=self._get_param("ExperimentConfig"),
        network_config=self._get_param("NetworkConfig"),
        processing_inputs=self._get_param("ProcessingInputs"),
        processing_job_name=self._get_param("ProcessingJobName"),
        processing_output_config=self._get_param("ProcessingOutputConfig"),
        role_arn=self._get_param("RoleArn"),
        stopping_condition=self._get_param("StoppingCondition"),
        tags=self._get_param("Tags"),
        environment=self._get_param("Environment"),
        processing_resources=self._get_param("ProcessingResources"),
    )
    return ActionResult({"ProcessingJobArn": job.arn})


def _describe_processing_job(self: SageMakerModelBackend, processing_job_name: str) -> dict[str, Any]:
    with LOCK:
        job = self.processing_jobs.get(processing_job_name)
        if job is not None:
            schedule_arn = getattr(job, "monitoring_schedule_arn", None) or ""
            schedule = _schedules(self).get(schedule_arn.rpartition("/")[2]) if schedule_arn else None
            if schedule is not None:
                _advance(self, schedule)  # an execution's outputs are written by its schedule
            _settle_job(job)
        return _original("describe_processing_job")(self, processing_job_name)


def _list_processing_jobs(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
    with LOCK:
        for schedule in list(_schedules(self).values()):
            _advance(self, schedule)
        for job in list(self.processing_jobs.values()):
            _settle_job(job)
        return _original("list_processing_jobs")(self, *args, **kwargs)


def _stop_processing_job(self: SageMakerModelBackend, processing_job_name: str) -> None:
    """StopProcessingJob: ``Stopping`` for ``job_seconds``, then ``Stopped``; a no-op while stopping."""
    with LOCK:
        job = self.processing_jobs.get(processing_job_name)
        if job is None:
            return _original("stop_processing_job")(self, processing_job_name)  # raises "Could not find"
        status = _settle_job(job)
        if status == "Stopping":
            return None
        if status != "InProgress":
            raise ValidationError(
                message=f"The processing job {processing_job_name} can not be stopped: it is {status}."
            )
        lifecycle = lifecycle_or_attach(job, "processing_job_status")
        lifecycle.cancel()
        job.last_modified_time = to_datetime(now())
        lifecycle.run(
            "Stopping", STATE.settings.job_seconds, "Stopped", on_done=lambda at: _job_ended(job, at)
        )
        _settle_job(job)
        return None


def _run_container(backend: SageMakerModelBackend, job: FakeProcessingJob) -> str | None:
    """Check the job's inputs and outputs and run its container's analysis: the FailureReason or None."""
    s3 = _s3(backend)
    for item in _inputs(job):
        uri = _input_uri(item)
        if uri and not _objects(s3, uri):
            return _no_objects(uri, backend.region_name)
    for uri in _output_uris(job):
        if buckets.find(s3, _split(uri)[0]) is None:
            return f'ClientError: The output S3 bucket "{_split(uri)[0]}" of "{uri}" does not exist.'
    image = str((job.app_specification or {}).get("ImageUri") or "")
    outputs = _output_uris(job)
    if not outputs or (MODEL_MONITOR_IMAGE not in image and CLARIFY_IMAGE not in image):
        return None
    try:
        files = _model_monitor(s3, job) if MODEL_MONITOR_IMAGE in image else _clarify(s3, job)
    except _AnalysisError as exc:
        return str(exc)
    kms_key = (job.processing_output_config or {}).get("KmsKeyId")
    for name, body in files.items():
        _put(s3, outputs[0], name, body, kms_key)
    return None


class _AnalysisError(Exception):
    """The container cannot analyse its input: the message is the job's FailureReason."""


# --- tables read from CSV ----------------------------------------------------------------------


def _read_rows(s3: Any, uri: str, header: bool | list[str] = True) -> tuple[list[str], list[list[str]]]:
    """The columns and rows of every CSV object under ``uri``.

    ``header`` True: each object starts with a header row; a list: the column names, a first row
    equal to them is skipped.
    """
    columns: list[str] = [] if header is True else list(header or [])
    rows: list[list[str]] = []
    for _, body in _objects(s3, uri):
        lines = [row for row in csv.reader(io.StringIO(body.decode("utf-8", "replace"))) if row]
        if not lines:
            continue
        first = [cell.strip() for cell in lines[0]]
        if header is True:
            columns = columns or first
            lines = lines[1:]
        elif first == columns:
            lines = lines[1:]
        rows.extend(lines)
    if not columns and rows:
        columns = [f"_c{index}" for index in range(len(rows[0]))]
    return columns, rows


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _column(columns: list[str], rows: list[list[str]], name: str) -> list[str]:
    index = columns.index(name)
    return [row[index].strip() if index < len(row) else "" for row in rows]


def _same(value: str, expected: Any) -> bool:
    """A CSV cell equals a config value (numbers compared as numbers)."""
    left, right = _number(value), _number(str(expected))
    return left == right if left is not None and right is not None else value == str(expected)


def _score(cells: Iterable[str]) -> float:
    """The emulator's deterministic model score of a record (what its transform jobs write)."""
    return zlib.crc32(",".join(cells).encode()) % 1000 / 1000


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _std(values: list[float]) -> float:
    mean = _mean(values)
    return math.sqrt(_mean([(value - mean) ** 2 for value in values])) if values else 0.0


# --- Model Monitor: data quality ---------------------------------------------------------------


def _model_monitor(s3: Any, job: FakeProcessingJob) -> dict[str, Any]:
    env = job.environment or {}
    inputs = [item for item in _inputs(job) if _input_uri(item)]
    if not inputs:
        raise _AnalysisError(
            "ClientError: the Model Monitor baselining job has no S3 input (the baseline dataset)"
        )
    try:
        dataset_format = json.loads(env.get("dataset_format") or '{"csv": {"header": true}}')
    except ValueError:
        raise _AnalysisError(
            f"ClientError: dataset_format is not JSON: {env.get('dataset_format')!r}"
        ) from None
    header = bool(((dataset_format or {}).get("csv") or {}).get("header", True))
    columns, rows = _read_rows(s3, _input_uri(inputs[0]), True if header else [])
    if not rows:
        raise _AnalysisError(f"AlgorithmError: the baseline dataset {_input_uri(inputs[0])} has no records")
    if env.get("analysis_type") == "MODEL_QUALITY":
        return _model_quality(env, columns, rows)
    return _data_quality(columns, rows)


def _data_quality(columns: list[str], rows: list[list[str]]) -> dict[str, Any]:
    features, constraints = [], []
    for name in columns:
        values = _column(columns, rows, name)
        present = [value for value in values if value != ""]
        common = {"num_present": len(present), "num_missing": len(values) - len(present)}
        numbers = [_number(value) for value in present]
        completeness = len(present) / len(values) if values else 0.0
        if present and all(number is not None for number in numbers):
            floats = [float(number) for number in numbers if number is not None]
            integral = all(
                number.is_integer() and "." not in text for number, text in zip(floats, present, strict=True)
            )
            kind = "Integral" if integral else "Fractional"
            features.append(
                {
                    "name": name,
                    "inferred_type": kind,
                    "numerical_statistics": {
                        "common": common,
                        "mean": _mean(floats),
                        "sum": sum(floats),
                        "std_dev": _std(floats),
                        "min": min(floats),
                        "max": max(floats),
                        "distribution": {"kll": {"buckets": _buckets(floats)}},
                    },
                }
            )
            constraints.append(
                {
                    "name": name,
                    "inferred_type": kind,
                    "completeness": completeness,
                    "num_constraints": {"is_non_negative": min(floats) >= 0},
                }
            )
            continue
        counts: dict[str, int] = {}
        for value in present:
            counts[value] = counts.get(value, 0) + 1
        kind = "String" if present else "Unknown"
        features.append(
            {
                "name": name,
                "inferred_type": kind,
                "string_statistics": {
                    "common": common,
                    "distinct_count": float(len(counts)),
                    "distribution": {
                        "categorical": {
                            "buckets": [{"value": k, "count": v} for k, v in sorted(counts.items())]
                        }
                    },
                },
            }
        )
        constraint: dict[str, Any] = {"name": name, "inferred_type": kind, "completeness": completeness}
        if 0 < len(counts) <= 20:
            constraint["string_constraints"] = {"domains": sorted(counts)}
        constraints.append(constraint)
    statistics = {"version": 0.0, "dataset": {"item_count": len(rows)}, "features": features}
    monitoring_config = {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": "LInfinity",
        },
    }
    return {
        "statistics.json": statistics,
        "constraints.json": {"version": 0.0, "features": constraints, "monitoring_config": monitoring_config},
    }


def _buckets(values: list[float], count: int = 10) -> list[dict[str, float]]:
    low, high = min(values), max(values)
    width = (high - low) / count or 1.0
    buckets = [
        {"lower_bound": low + i * width, "upper_bound": low + (i + 1) * width, "count": 0.0}
        for i in range(count)
    ]
    for value in values:
        buckets[min(int((value - low) / width), count - 1)]["count"] += 1
    return buckets


# --- Model Monitor: model quality --------------------------------------------------------------

#: problem_type -> (key prefix in statistics/constraints, metrics where higher is worse)
_PROBLEMS = {
    "Regression": ("regression", {"mae", "mse", "rmse"}),
    "BinaryClassification": ("binary_classification", {"false_positive_rate", "false_negative_rate"}),
    "MulticlassClassification": ("multiclass_classification", set()),
}
_POSITIVE = {"1", "1.0", "true", "yes"}


def _model_quality(env: dict[str, str], columns: list[str], rows: list[list[str]]) -> dict[str, Any]:
    problem = env.get("problem_type") or ""
    if problem not in _PROBLEMS:
        raise _AnalysisError(
            f"ClientError: problem_type {problem!r} is not one of {', '.join(_PROBLEMS)} (analysis_type MODEL_QUALITY)"
        )

    def column(attribute: str, required: bool = True) -> list[str] | None:
        name = env.get(attribute)
        if not name:
            if required:
                raise _AnalysisError(
                    f"ClientError: {attribute} is required for a {problem} model quality baseline"
                )
            return None
        if name not in columns:
            raise _AnalysisError(
                f"ClientError: {attribute} '{name}' is not a column of the baseline dataset "
                f"(its header has: {', '.join(columns)})"
            )
        return _column(columns, rows, name)

    truth = column("ground_truth_attribute")
    probability = column("probability_attribute", required=False)
    inference = column(
        "inference_attribute", required=problem != "BinaryClassification" or probability is None
    )
    assert truth is not None
    if problem == "Regression":
        actual = _numbers(truth, "ground_truth_attribute", env)
        predicted = _numbers(inference or [], "inference_attribute", env)
        metric = _regression_metrics
        records: list[tuple[Any, Any]] = list(zip(actual, predicted, strict=True))
    elif problem == "BinaryClassification":
        threshold = _number(env.get("probability_threshold_attribute") or "0.5")
        if probability is not None:
            scores = _numbers(probability, "probability_attribute", env)
            labels = [score >= (0.5 if threshold is None else threshold) for score in scores]
        else:
            scores = None
            labels = [value.lower() in _POSITIVE for value in inference or []]
        records = [
            (value.lower() in _POSITIVE, label, None if scores is None else scores[i])
            for i, (value, label) in enumerate(zip(truth, labels, strict=True))
        ]
        metric = _binary_metrics
    else:
        records = list(zip(truth, inference or [], strict=True))
        metric = _multiclass_metrics
    values = metric(records)
    spread = _bootstrap(records, metric)
    prefix, worse_when_higher = _PROBLEMS[problem]
    metrics = {
        name: value
        if name == "confusion_matrix"
        else {"value": value, "standard_deviation": spread.get(name, 0.0)}
        for name, value in values.items()
    }
    statistics = {
        "version": 0.0,
        "dataset": {
            "item_count": len(rows),
            "evaluation_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
        f"{prefix}_metrics": metrics,
    }
    thresholds = {
        name: {
            "threshold": value,
            "comparison_operator": "GreaterThanThreshold"
            if name in worse_when_higher
            else "LessThanThreshold",
        }
        for name, value in values.items()
        if name != "confusion_matrix"
    }
    return {
        "statistics.json": statistics,
        "constraints.json": {"version": 0.0, f"{prefix}_constraints": thresholds},
    }


def _numbers(values: list[str], attribute: str, env: dict[str, str]) -> list[float]:
    numbers = []
    for line, value in enumerate(values, start=2):
        number = _number(value)
        if number is None:
            raise _AnalysisError(
                f"AlgorithmError: {attribute} '{env.get(attribute)}' has a non-numeric value {value!r} on line {line}"
            )
        numbers.append(number)
    return numbers


def _bootstrap(
    records: list[Any], metric: Callable[[list[Any]], dict[str, Any]], rounds: int = 10
) -> dict[str, float]:
    """Each metric's standard deviation over bootstrap resamples (seeded: the same data, the same figures)."""
    chooser = random.Random(0)
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        resample = [records[chooser.randrange(len(records))] for _ in records]
        for name, value in metric(resample).items():
            if isinstance(value, int | float):
                samples.setdefault(name, []).append(float(value))
    return {name: _std(values) for name, values in samples.items()}


def _regression_metrics(records: list[tuple[float, float]]) -> dict[str, Any]:
    errors = [predicted - actual for actual, predicted in records]
    mse = _mean([error**2 for error in errors])
    actuals = [actual for actual, _ in records]
    variance = _mean([(actual - _mean(actuals)) ** 2 for actual in actuals])
    return {
        "mae": _mean([abs(error) for error in errors]),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": 1 - mse / variance if variance else 0.0,
    }


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f_beta(precision: float, recall: float, beta: float) -> float:
    return _ratio((1 + beta**2) * precision * recall, beta**2 * precision + recall)


def _binary_metrics(records: list[tuple[bool, bool, float | None]]) -> dict[str, Any]:
    tp = sum(1 for truth, label, _ in records if truth and label)
    fp = sum(1 for truth, label, _ in records if not truth and label)
    fn = sum(1 for truth, label, _ in records if truth and not label)
    tn = len(records) - tp - fp - fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    metrics: dict[str, Any] = {
        "confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}},
        "accuracy": _ratio(tp + tn, len(records)),
        "precision": precision,
        "recall": recall,
        "f0_5": _f_beta(precision, recall, 0.5),
        "f1": _f_beta(precision, recall, 1.0),
        "f2": _f_beta(precision, recall, 2.0),
        "true_positive_rate": recall,
        "true_negative_rate": _ratio(tn, tn + fp),
        "false_positive_rate": _ratio(fp, fp + tn),
        "false_negative_rate": _ratio(fn, fn + tp),
    }
    if all(score is not None for _, _, score in records):
        metrics["auc"] = _auc([(score, truth) for truth, _, score in records if score is not None])
    return metrics


def _auc(scored: list[tuple[float, bool]]) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative (ties count half)."""
    positives = [score for score, truth in scored if truth]
    negatives = [score for score, truth in scored if not truth]
    if not positives or not negatives:
        return 0.0
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def _multiclass_metrics(records: list[tuple[str, str]]) -> dict[str, Any]:
    classes = sorted({truth for truth, _ in records} | {label for _, label in records})
    matrix = {truth: dict.fromkeys(classes, 0) for truth in classes}
    for truth, label in records:
        matrix[truth][label] += 1
    weighted = {
        "weighted_precision": 0.0,
        "weighted_recall": 0.0,
        "weighted_f0_5": 0.0,
        "weighted_f1": 0.0,
        "weighted_f2": 0.0,
    }
    for name in classes:
        support = sum(matrix[name].values())
        tp = matrix[name][name]
        precision = _ratio(tp, sum(matrix[other][name] for other in classes))
        recall = _ratio(tp, support)
        share = _ratio(support, len(records))
        weighted["weighted_precision"] += share * precision
        weighted["weighted_recall"] += share * recall
        for beta, key in ((0.5, "weighted_f0_5"), (1.0, "weighted_f1"), (2.0, "weighted_f2")):
            weighted[key] += share * _f_beta(precision, recall, beta)
    accuracy = _ratio(sum(matrix[name][name] for name in classes), len(records))
    return {"confusion_matrix": matrix, "accuracy": accuracy, **weighted}


# --- Clarify -----------------------------------------------------------------------------------


def _clarify(s3: Any, job: FakeProcessingJob) -> dict[str, Any]:
    named = {str(item.get("InputName")): _input_uri(item) for item in _inputs(job)}
    if not named.get("analysis_config"):
        raise _AnalysisError(
            "ClientError: the Clarify job needs an input named 'analysis_config' (analysis_config.json)"
        )
    if not named.get("dataset"):
        raise _AnalysisError("ClientError: the Clarify job needs an input named 'dataset'")
    config = _analysis_config(s3, named["analysis_config"])
    methods = config.get("methods")
    if not isinstance(methods, dict) or not methods:
        raise _AnalysisError(
            "ClientError: analysis_config.json has no 'methods' (e.g. pre_training_bias, shap)"
        )
    headers = config.get("headers")
    columns, rows = _read_rows(
        s3, named["dataset"], headers if isinstance(headers, list) and headers else True
    )
    if not rows:
        raise _AnalysisError(f"ClientError: the dataset {named['dataset']} has no records")
    label = _label_column(config, columns)
    analysis: dict[str, Any] = {"version": "1.0"}
    for kind in ("pre_training_bias", "post_training_bias"):
        if kind in methods:
            if label is None:
                raise _AnalysisError(
                    f"ClientError: {kind} needs the 'label' of the dataset in analysis_config.json"
                )
            analysis[f"{kind}_metrics"] = _bias(config, methods[kind], kind, columns, rows, label)
    if "shap" in methods:
        analysis["explanations"] = {"kernel_shap": {"label0": _shap(config, columns, rows, label)}}
    return {"analysis.json": analysis}


def _analysis_config(s3: Any, uri: str) -> dict[str, Any]:
    objects = _objects(s3, uri)
    chosen = next((body for name, body in objects if name.endswith("analysis_config.json")), None)
    if chosen is None and objects:
        chosen = objects[0][1]
    try:
        config = json.loads(chosen or b"")
    except ValueError:
        raise _AnalysisError(f"ClientError: the analysis config under {uri} is not valid JSON") from None
    if not isinstance(config, dict):
        raise _AnalysisError(f"ClientError: the analysis config under {uri} is not a JSON object")
    return config


def _column_name(config: dict[str, Any], key: str, value: Any, columns: list[str]) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(columns):
        return columns[value]
    if isinstance(value, str) and value in columns:
        return value
    raise _AnalysisError(
        f"ClientError: {key} {value!r} of analysis_config.json is not a column of the dataset "
        f"(columns: {', '.join(columns)})"
    )


def _label_column(config: dict[str, Any], columns: list[str]) -> str | None:
    label = config.get("label")
    return None if label is None else _column_name(config, "label", label, columns)


def _in_group(values: list[str], spec: Any) -> list[bool]:
    """Which cells belong to a group given as values (categorical) or one numeric threshold (above it)."""
    options = spec if isinstance(spec, list) else [spec]
    numbers = [_number(value) for value in values]
    threshold = _number(str(options[0])) if len(options) == 1 else None
    if (
        threshold is not None
        and all(n is not None for n in numbers)
        and not any(_same(v, options[0]) for v in values)
    ):
        return [n is not None and n > threshold for n in numbers]
    return [any(_same(value, option) for option in options) for value in values]


def _bias(
    config: dict[str, Any], method: Any, kind: str, columns: list[str], rows: list[list[str]], label: str
) -> dict[str, Any]:
    spec = config.get("label_values_or_threshold")
    if spec is None:
        raise _AnalysisError(
            "ClientError: bias metrics need label_values_or_threshold in analysis_config.json"
        )
    facets = config.get("facet")
    if not isinstance(facets, list) or not facets:
        raise _AnalysisError("ClientError: bias metrics need a 'facet' list in analysis_config.json")
    positive = _in_group(_column(columns, rows, label), spec)
    if kind == "post_training_bias":
        features = [i for i, name in enumerate(columns) if name != label]
        threshold = _number(str(config.get("probability_threshold", 0.5))) or 0.5
        predicted = [_score([row[i] for i in features if i < len(row)]) >= threshold for row in rows]
    wanted = (method or {}).get("methods", "all") if isinstance(method, dict) else "all"
    result: dict[str, Any] = {
        "label": label,
        "facets": {},
        "label_value_or_threshold": ",".join(map(str, _as_list(spec))),
    }
    for facet in facets:
        name = _column_name(config, "facet name_or_index", (facet or {}).get("name_or_index"), columns)
        values = _column(columns, rows, name)
        group_spec = facet.get("value_or_threshold")
        if group_spec is None:
            group_spec = sorted(set(values))[:1]
        sensitive = _in_group(values, group_spec)
        if kind == "pre_training_bias":
            metrics = _pre_training(sensitive, positive)
        else:
            metrics = _post_training(sensitive, positive, predicted)
        if wanted != "all":
            metrics = [metric for metric in metrics if metric["name"] in set(_as_list(wanted))]
        result["facets"][name] = [
            {"value_or_threshold": ",".join(map(str, _as_list(group_spec))), "metrics": metrics}
        ]
    return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _rate(flags: list[bool], members: list[bool]) -> float:
    chosen = [flag for flag, member in zip(flags, members, strict=True) if member]
    return _ratio(sum(chosen), len(chosen))


def _pre_training(sensitive: list[bool], positive: list[bool]) -> list[dict[str, Any]]:
    n_d = sum(sensitive)
    n_a = len(sensitive) - n_d
    others = [not flag for flag in sensitive]
    return [
        {"name": "CI", "description": "Class Imbalance (CI)", "value": _ratio(n_a - n_d, n_a + n_d)},
        {
            "name": "DPL",
            "description": "Difference in Positive Proportions in Labels (DPL)",
            "value": _rate(positive, others) - _rate(positive, sensitive),
        },
    ]


def _post_training(
    sensitive: list[bool], positive: list[bool], predicted: list[bool]
) -> list[dict[str, Any]]:
    others = [not flag for flag in sensitive]
    correct = [truth == guess for truth, guess in zip(positive, predicted, strict=True)]
    q_a, q_d = _rate(predicted, others), _rate(predicted, sensitive)
    return [
        {
            "name": "DPPL",
            "description": "Difference in Positive Proportions in Predicted Labels (DPPL)",
            "value": q_a - q_d,
        },
        {"name": "DI", "description": "Disparate Impact (DI)", "value": _ratio(q_d, q_a)},
        {
            "name": "AD",
            "description": "Accuracy Difference (AD)",
            "value": _rate(correct, others) - _rate(correct, sensitive),
        },
    ]


def _encode(values: list[str]) -> list[float]:
    """Numbers as they are; categories as their rank among the column's sorted values."""
    numbers = [_number(value) for value in values]
    if all(number is not None for number in numbers):
        return [float(number) for number in numbers if number is not None]
    ranks = {value: float(rank) for rank, value in enumerate(sorted(set(values)))}
    return [ranks[value] for value in values]


def _shap(
    config: dict[str, Any], columns: list[str], rows: list[list[str]], label: str | None
) -> dict[str, Any]:
    """Global SHAP-like attributions: |correlation with the target| x the target's spread."""
    features = [name for name in columns if name != label]
    if label is not None:
        target = _encode(_column(columns, rows, label))
    else:
        indexes = [columns.index(name) for name in features]
        target = [_score([row[i] for i in indexes if i < len(row)]) for row in rows]
    spread, centre = _std(target), _mean(target)
    values = {}
    for name in features:
        encoded = _encode(_column(columns, rows, name))
        deviation = _std(encoded)
        covariance = _mean(
            [(x - _mean(encoded)) * (y - centre) for x, y in zip(encoded, target, strict=True)]
        )
        values[name] = abs(_ratio(covariance, deviation * spread)) * spread if deviation and spread else 0.0
    return {"global_shap_values": values, "expected_value": centre}


# --- job definitions -----------------------------------------------------------------------------

_DEFINITION_TITLES = {
    "data_quality": "DataQualityJobDefinition",
    "model_quality": "ModelQualityJobDefinition",
    "model_bias": "ModelBiasJobDefinition",
    "model_explainability": "ModelExplainabilityJobDefinition",
}
#: what DescribeXxxJobDefinition returns (besides the type's own members)
_DEFINITION_MEMBERS = ("JobResources", "NetworkConfig", "RoleArn", "StoppingCondition")


def _store(backend: SageMakerModelBackend, prefix: str) -> dict[str, Any]:
    return getattr(backend, f"{prefix}_job_definitions")


def _definition_creator(prefix: str) -> Callable[..., Any]:
    def create(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            name = kwargs.get("job_definition_name")
            if name in _store(self, prefix):
                raise ResourceInUseException(
                    message=f"Resource Already Exists: {_DEFINITION_TITLES[prefix]} with name {name} already "
                    "exists. Choose a different name."
                )
            job_input = kwargs.get(f"{prefix}_job_input") or {}
            if not (job_input.get("EndpointInput") or {}).get("EndpointName"):
                raise ValidationError(
                    message=f"{_DEFINITION_TITLES[prefix]} {name}: the emulator monitors endpoints only; "
                    f"give {_DEFINITION_TITLES[prefix].removesuffix('Definition')}Input.EndpointInput.EndpointName"
                )
            result = _original(f"create_{prefix}_job_definition")(self, *args, **kwargs)
            definition = _store(self, prefix).get(name)
            if definition is not None and not isinstance(getattr(definition, "tags", None), list):
                definition.tags = []
            return result

    return create


def _definition_missing(prefix: str, name: str) -> ResourceNotFound:
    return ResourceNotFound(message=f"Job definition {name} of type {_DEFINITION_TITLES[prefix]} not found")


def _definition_response(definition: Any, prefix: str) -> dict[str, Any]:
    title = _DEFINITION_TITLES[prefix].removesuffix("JobDefinition")
    response = {
        "JobDefinitionArn": definition.arn,
        "JobDefinitionName": definition.job_definition_name,
        "CreationTime": definition.creation_time,
        f"{title}BaselineConfig": getattr(definition, f"{prefix}_baseline_config", None),
        f"{title}AppSpecification": getattr(definition, f"{prefix}_app_specification", None),
        f"{title}JobInput": getattr(definition, f"{prefix}_job_input", None),
        f"{title}JobOutputConfig": getattr(definition, f"{prefix}_job_output_config", None),
    }
    for member in _DEFINITION_MEMBERS:
        response[member] = getattr(definition, _snake(member), None)
    return {key: value for key, value in response.items() if value not in (None, {}, [])}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _definition_describer(prefix: str) -> Callable[[SageMakerResponse], ActionResult]:
    def describe(self: SageMakerResponse) -> ActionResult:
        name = self._get_param("JobDefinitionName")
        with LOCK:
            definition = _store(self.sagemaker_backend, prefix).get(name)
            if definition is None:
                raise _definition_missing(prefix, name)
            return ActionResult(_definition_response(definition, prefix))

    return describe


def _definition_endpoint(definition: Any, prefix: str) -> str | None:
    job_input = getattr(definition, f"{prefix}_job_input", None) or {}
    return (job_input.get("EndpointInput") or {}).get("EndpointName")


def _definition_lister(prefix: str) -> Callable[[SageMakerResponse], ActionResult]:
    def list_definitions(self: SageMakerResponse) -> ActionResult:
        endpoint = self._get_param("EndpointName")
        contains = self._get_param("NameContains")
        with LOCK:
            found = list(_store(self.sagemaker_backend, prefix).values())
        found = [
            item
            for item in found
            if (not endpoint or _definition_endpoint(item, prefix) == endpoint)
            and (not contains or contains in item.job_definition_name)
        ]
        by_name = self._get_param("SortBy") == "Name"
        found.sort(
            key=lambda item: item.job_definition_name if by_name else item.creation_time,
            reverse=self._get_param("SortOrder", "Descending") == "Descending",
        )
        summaries = []
        for item in found:
            summary = {
                "MonitoringJobDefinitionName": item.job_definition_name,
                "MonitoringJobDefinitionArn": item.arn,
                "CreationTime": item.creation_time,
                "EndpointName": _definition_endpoint(item, prefix),
            }
            summaries.append({key: value for key, value in summary.items() if value is not None})
        page, token = _page(self, summaries, 10)
        return ActionResult({"JobDefinitionSummaries": page, "NextToken": token})

    return list_definitions


def _page(response: SageMakerResponse, items: list[Any], default: int) -> tuple[list[Any], str | None]:
    start = int(response._get_param("NextToken") or 0)
    size = int(response._get_param("MaxResults") or default)
    following = start + size
    return items[start:following], (str(following) if following < len(items) else None)


# --- monitoring schedules ------------------------------------------------------------------------


@dataclass
class _Definition:
    """What an execution needs from a job definition (named or inline), read when it starts."""

    name: str | None
    endpoint_name: str | None
    output_uri: str | None
    kms_key: str | None
    image_uri: str | None
    role_arn: str | None
    constraints_uri: str | None
    statistics_uri: str | None


@dataclass
class _Execution:
    schedule: _Schedule
    scheduled: float
    lifecycle: Lifecycle
    job: FakeProcessingJob
    definition: _Definition
    output_uri: str | None
    last_modified: float

    def summary(self) -> dict[str, Any]:
        lifecycle = self.lifecycle
        item = {
            "MonitoringScheduleName": self.schedule.name,
            "ScheduledTime": to_datetime(self.scheduled),
            "CreationTime": to_datetime(self.scheduled),
            "LastModifiedTime": to_datetime(self.last_modified),
            "MonitoringExecutionStatus": lifecycle.status,
            "ProcessingJobArn": self.job.arn,
            "EndpointName": self.definition.endpoint_name,
            "FailureReason": lifecycle.failure_reason,
            "MonitoringJobDefinitionName": self.definition.name,
            "MonitoringType": self.schedule.monitoring_type,
        }
        return {key: value for key, value in item.items() if value is not None}


@dataclass
class _Schedule:
    name: str
    arn: str
    config: dict[str, Any]
    tags: list[dict[str, str]]
    created: float
    last_modified: float
    lifecycle: Lifecycle
    endpoint_name: str | None = None
    #: when the next execution is due (None while not Scheduled)
    next_at: float | None = None
    count: int = 0
    executions: list[_Execution] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)

    @property
    def monitoring_type(self) -> str:
        return str(self.config.get("MonitoringType") or "DataQuality")

    @property
    def definition_name(self) -> str | None:
        return self.config.get("MonitoringJobDefinitionName")


def _schedules(backend: SageMakerModelBackend) -> dict[str, _Schedule]:
    """The backend's schedules (an attribute of the backend, so moto's reset forgets them)."""
    return backend.__dict__.setdefault(_STORE, {})


def _schedule_arn(backend: SageMakerModelBackend, name: str) -> str:
    return arn_formatter("monitoring-schedule", name, backend.account_id, backend.region_name)


def _get_schedule(backend: SageMakerModelBackend, name: str) -> _Schedule:
    schedule = _schedules(backend).get(name)
    if schedule is None:
        raise ResourceNotFound(message=f"Monitoring schedule {_schedule_arn(backend, name)} not found")
    _advance(backend, schedule)
    return schedule


def _resolve(backend: SageMakerModelBackend, config: dict[str, Any]) -> _Definition:
    """The job definition a schedule config names (it must exist) or holds inline."""
    if not isinstance(config, dict):
        raise ValidationError(message="MonitoringScheduleConfig is required")
    kind = str(config.get("MonitoringType") or "DataQuality")
    prefix = MONITORING_TYPES.get(kind)
    if prefix is None:
        raise ValidationError(message=f"MonitoringType {kind!r} is not one of {', '.join(MONITORING_TYPES)}")
    name = config.get("MonitoringJobDefinitionName")
    if name:
        definition = _store(backend, prefix).get(name)
        if definition is None:
            raise ValidationError(
                message=f"{_DEFINITION_TITLES[prefix]} {name} (MonitoringJobDefinitionName of a {kind} "
                "monitoring schedule) does not exist"
            )
        baseline = getattr(definition, f"{prefix}_baseline_config", None) or {}
        outputs = getattr(definition, f"{prefix}_job_output_config", None) or {}
        app = getattr(definition, f"{prefix}_app_specification", None) or {}
        return _Definition(
            name=name,
            endpoint_name=_definition_endpoint(definition, prefix),
            output_uri=_monitoring_output(outputs),
            kms_key=outputs.get("KmsKeyId"),
            image_uri=app.get("ImageUri"),
            role_arn=getattr(definition, "role_arn", None),
            constraints_uri=(baseline.get("ConstraintsResource") or {}).get("S3Uri"),
            statistics_uri=(baseline.get("StatisticsResource") or {}).get("S3Uri"),
        )
    inline = config.get("MonitoringJobDefinition")
    if not isinstance(inline, dict):
        raise ValidationError(
            message="MonitoringScheduleConfig needs a MonitoringJobDefinitionName or a MonitoringJobDefinition"
        )
    inputs = inline.get("MonitoringInputs") or [{}]
    baseline = inline.get("BaselineConfig") or {}
    outputs = inline.get("MonitoringOutputConfig") or {}
    return _Definition(
        name=None,
        endpoint_name=(inputs[0].get("EndpointInput") or {}).get("EndpointName"),
        output_uri=_monitoring_output(outputs),
        kms_key=outputs.get("KmsKeyId"),
        image_uri=(inline.get("MonitoringAppSpecification") or {}).get("ImageUri"),
        role_arn=inline.get("RoleArn"),
        constraints_uri=(baseline.get("ConstraintsResource") or {}).get("S3Uri"),
        statistics_uri=(baseline.get("StatisticsResource") or {}).get("S3Uri"),
    )


def _monitoring_output(config: dict[str, Any]) -> str | None:
    outputs = config.get("MonitoringOutputs") or [{}]
    return (outputs[0].get("S3Output") or {}).get("S3Uri")


def _become_scheduled(schedule: _Schedule, at: float) -> None:
    schedule.next_at = at


def _pend(schedule: _Schedule, at: float) -> None:
    """Pending for ``stack_seconds``, then Scheduled (executions start then)."""
    schedule.next_at = None
    schedule.lifecycle.cancel(at)
    schedule.lifecycle.run(
        "Pending",
        STATE.settings.stack_seconds,
        "Scheduled",
        on_done=lambda t: _become_scheduled(schedule, t),
        at=at,
    )


def _advance(backend: SageMakerModelBackend, schedule: _Schedule, at: float | None = None) -> None:
    """Bring the schedule to ``at`` (now): its status, the executions due since, and theirs."""
    at = now() if at is None else at
    schedule.lifecycle.settle(at)
    while schedule.next_at is not None and schedule.next_at <= at:
        period = max(STATE.settings.schedule_seconds, _MIN_PERIOD)
        behind = int((at - schedule.next_at) // period)
        if behind >= MAX_EXECUTIONS:  # only the last MAX_EXECUTIONS are kept: skip the rest
            schedule.next_at += (behind - MAX_EXECUTIONS + 1) * period
            schedule.count += behind - MAX_EXECUTIONS + 1
        _start_execution(backend, schedule, schedule.next_at)
        schedule.next_at += period
    del schedule.executions[:-MAX_EXECUTIONS]
    for execution in schedule.executions:
        execution.lifecycle.settle(at)
        _settle_job(execution.job)


def _stop_series(backend: SageMakerModelBackend, schedule: _Schedule, at: float) -> None:
    _advance(backend, schedule, at)
    schedule.next_at = None


def _folder(schedule: _Schedule, base: str, endpoint: str, scheduled: float) -> str:
    when = datetime.fromtimestamp(scheduled, UTC)
    folder = f"{base.rstrip('/')}/{endpoint}/{schedule.name}/{when:%Y/%m/%d/%H}"
    if folder in schedule.folders:
        folder = f"{folder}-{when:%M%S}-{schedule.count}"
    schedule.folders.add(folder)
    return folder


def _start_execution(backend: SageMakerModelBackend, schedule: _Schedule, scheduled: float) -> None:
    schedule.count += 1
    try:
        definition = _resolve(backend, schedule.config)
        missing = None
    except ValidationError as exc:
        definition = _Definition(schedule.definition_name, None, None, None, None, None, None, None)
        missing = f"ClientError: {exc.message}"
    names = [schedule.name, definition.endpoint_name or ""]
    failure = missing or STATE.failures.take(EXECUTION_FAILURES, names)
    violation = None if failure else STATE.failures.take(VIOLATION_FAILURES, names)
    output = None
    if definition.output_uri and definition.endpoint_name:
        output = _folder(schedule, definition.output_uri, definition.endpoint_name, scheduled)
    job = _execution_job(backend, schedule, definition, scheduled, output)
    pending = STATE.settings.job_seconds / 4
    running = STATE.settings.job_seconds
    execution: _Execution

    def finish(at: float) -> Done:
        execution.last_modified = at
        if failure:
            return Done("Failed", failure)
        violations = [] if violation is None else [_violation(backend, schedule, definition, violation)]
        if output is not None:
            _write_execution(backend, schedule, definition, output, violations)
        return Done("CompletedWithViolations" if violations else "Completed")

    def begin(at: float) -> Phase:
        execution.last_modified = at
        return Phase("InProgress", running, finish)

    lifecycle = Lifecycle("Pending", scheduled).start(Phase("Pending", pending, begin), at=scheduled)
    execution = _Execution(schedule, scheduled, lifecycle, job, definition, output, scheduled)
    schedule.executions.append(execution)
    exit_message = (
        None
        if violation is None
        else "CompletedWithViolations: Job completed successfully with 1 violations."
    )

    def job_done(at: float) -> None:
        _job_ended(job, at)
        job.exit_message = exit_message

    attach(job, Lifecycle("InProgress", scheduled)).run(
        "InProgress",
        pending + running,
        "Completed",
        failure_reason=failure,
        on_done=job_done,
        on_failed=lambda at: _job_ended(job, at),
        at=scheduled,
    )


def _execution_job(
    backend: SageMakerModelBackend,
    schedule: _Schedule,
    definition: _Definition,
    scheduled: float,
    output: str | None,
) -> FakeProcessingJob:
    """The processing job of an execution, named as SageMaker names them."""
    digest = hashlib.sha256(f"{schedule.arn}/{schedule.created}/{schedule.count}".encode()).hexdigest()[:24]
    name = f"model-monitoring-{datetime.fromtimestamp(scheduled, UTC):%Y%m%d%H%M%S}-{digest}"
    outputs = (
        {"Outputs": []}
        if output is None
        else {
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {
                        "S3Uri": output,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        }
    )
    if definition.kms_key:
        outputs["KmsKeyId"] = definition.kms_key
    job = FakeProcessingJob(
        app_specification={"ImageUri": definition.image_uri or MODEL_MONITOR_IMAGE},
        experiment_config=None,
        network_config=None,
        processing_inputs=[],
        processing_job_name=name,
        processing_output_config=outputs,
        account_id=backend.account_id,
        region_name=backend.region_name,
        role_arn=definition.role_arn or "",
        tags=[],
        stopping_condition=None,
    )
    job.creation_time = job.last_modified_time = job.processing_start_time = to_datetime(scheduled)
    job.processing_end_time = None
    job.monitoring_schedule_arn = schedule.arn
    job.processing_job_status = "InProgress"
    backend.processing_jobs[name] = job
    return job


def _violation(
    backend: SageMakerModelBackend, schedule: _Schedule, definition: _Definition, reason: str
) -> dict:
    """One violation in the format of the schedule's type, about the baseline's first feature or metric."""
    baseline = _read_json(_s3(backend), definition.constraints_uri) or {}
    kind = schedule.monitoring_type
    if kind == "DataQuality":
        features = baseline.get("features") or [{}]
        name = features[0].get("name") or "_c0"
        return {"feature_name": name, "constraint_check_type": "baseline_drift_check", "description": reason}
    if kind == "ModelQuality":
        thresholds = next(
            (v for k, v in baseline.items() if k.endswith("_constraints") and isinstance(v, dict)), {}
        )
        metric, rule = next(iter(thresholds.items()), ("accuracy", {}))
        operator = (rule or {}).get("comparison_operator", "LessThanThreshold")
        return {"metric_name": metric, "constraint_check_type": operator, "description": reason}
    if kind == "ModelBias":
        facets = (
            baseline.get("post_training_bias_metrics") or baseline.get("pre_training_bias_metrics") or {}
        ).get("facets") or {}
        facet, groups = next(iter(facets.items()), ("facet", [{}]))
        group = (groups or [{}])[0]
        metric = ((group.get("metrics") or [{}])[0]).get("name", "DPPL")
        return {
            "facet": facet,
            "facet_value": group.get("value_or_threshold"),
            "metric_name": metric,
            "constraint_check_type": "bias_drift_check",
            "description": reason,
        }
    shap = ((baseline.get("explanations") or {}).get("kernel_shap") or {}).get("label0") or {}
    feature = next(iter(shap.get("global_shap_values") or {}), "_c0")
    return {
        "feature": feature,
        "constraint_check_type": "feature_attribution_drift_check",
        "description": reason,
    }


def _write_execution(
    backend: SageMakerModelBackend,
    schedule: _Schedule,
    definition: _Definition,
    output: str,
    violations: list,
) -> None:
    s3 = _s3(backend)
    if buckets.find(s3, _split(output)[0]) is None:
        return
    _put(s3, output, "constraint_violations.json", {"violations": violations}, definition.kms_key)
    if schedule.monitoring_type in ("DataQuality", "ModelQuality"):
        statistics = _read_json(s3, definition.statistics_uri) or {
            "version": 0.0,
            "dataset": {"item_count": 0},
        }
        _put(s3, output, "statistics.json", statistics, definition.kms_key)
    else:
        analysis = _read_json(s3, definition.constraints_uri) or {"version": "1.0"}
        _put(s3, output, "analysis.json", analysis, definition.kms_key)


def _schedule_response(schedule: _Schedule) -> dict[str, Any]:
    response = {
        "MonitoringScheduleArn": schedule.arn,
        "MonitoringScheduleName": schedule.name,
        "MonitoringScheduleStatus": schedule.lifecycle.status,
        "MonitoringType": schedule.monitoring_type,
        "FailureReason": schedule.lifecycle.failure_reason,
        "CreationTime": to_datetime(schedule.created),
        "LastModifiedTime": to_datetime(schedule.last_modified),
        "MonitoringScheduleConfig": schedule.config,
        "EndpointName": schedule.endpoint_name,
        "MonitoringJobDefinitionName": schedule.definition_name,
    }
    if schedule.executions:
        latest = max(schedule.executions, key=lambda item: item.scheduled)
        response["LastMonitoringExecutionSummary"] = latest.summary()
    return {key: value for key, value in response.items() if value is not None}


# --- backend operations and their HTTP handlers --------------------------------------------------


def _create_schedule(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("MonitoringScheduleName")
    config = self._get_param("MonitoringScheduleConfig")
    with LOCK:
        if name in _schedules(backend):
            raise ResourceInUseException(
                message=f"Monitoring schedule {_schedule_arn(backend, name)} already exists; choose another name"
            )
        definition = _resolve(backend, config)
        started = now()
        schedule = _Schedule(
            name=name,
            arn=_schedule_arn(backend, name),
            config=config,
            tags=list(self._get_param("Tags") or []),
            created=started,
            last_modified=started,
            lifecycle=Lifecycle("Pending", started),
        )
        schedule.endpoint_name = definition.endpoint_name
        _pend(schedule, started)
        _schedules(backend)[name] = schedule
        return ActionResult({"MonitoringScheduleArn": schedule.arn})


def _describe_schedule(self: SageMakerResponse) -> ActionResult:
    with LOCK:
        schedule = _get_schedule(self.sagemaker_backend, self._get_param("MonitoringScheduleName"))
        return ActionResult(_schedule_response(schedule))


def _update_schedule(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    with LOCK:
        schedule = _get_schedule(backend, self._get_param("MonitoringScheduleName"))
        config = self._get_param("MonitoringScheduleConfig")
        definition = _resolve(backend, config)
        at = now()
        _stop_series(backend, schedule, at)
        schedule.config = config
        schedule.endpoint_name = definition.endpoint_name
        schedule.last_modified = at
        _pend(schedule, at)
        return ActionResult({"MonitoringScheduleArn": schedule.arn})


def _delete_schedule(self: SageMakerResponse) -> EmptyResult:
    backend = self.sagemaker_backend
    with LOCK:
        schedule = _get_schedule(backend, self._get_param("MonitoringScheduleName"))
        schedule.lifecycle.cancel()
        for execution in schedule.executions:
            execution.lifecycle.cancel()
        del _schedules(backend)[schedule.name]
    return EmptyResult()


def _stop_schedule(self: SageMakerResponse) -> EmptyResult:
    backend = self.sagemaker_backend
    with LOCK:
        schedule = _get_schedule(backend, self._get_param("MonitoringScheduleName"))
        at = now()
        _stop_series(backend, schedule, at)
        schedule.lifecycle.cancel(at)
        schedule.lifecycle.status = "Stopped"
        schedule.last_modified = at
    return EmptyResult()


def _start_schedule(self: SageMakerResponse) -> EmptyResult:
    backend = self.sagemaker_backend
    with LOCK:
        schedule = _get_schedule(backend, self._get_param("MonitoringScheduleName"))
        if schedule.lifecycle.status == "Stopped":
            at = now()
            schedule.lifecycle.status = "Scheduled"
            schedule.last_modified = at
            _become_scheduled(schedule, at)
            _advance(backend, schedule, at)
    return EmptyResult()


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    number = _number(str(value))
    if number is not None:
        return number
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _in_window(self: SageMakerResponse, prefix: str, value: float) -> bool:
    after, before = _epoch(self._get_param(f"{prefix}After")), _epoch(self._get_param(f"{prefix}Before"))
    return (after is None or value > after) and (before is None or value < before)


def _list_schedules(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    endpoint = self._get_param("EndpointName")
    contains = self._get_param("NameContains")
    status = self._get_param("StatusEquals")
    definition = self._get_param("MonitoringJobDefinitionName")
    kind = self._get_param("MonitoringTypeEquals")
    with LOCK:
        schedules = list(_schedules(backend).values())
        for schedule in schedules:
            _advance(backend, schedule)
        summaries = [_schedule_response(schedule) for schedule in schedules]
    found = [
        item
        for item in summaries
        if (not endpoint or item.get("EndpointName") == endpoint)
        and (not contains or contains in item["MonitoringScheduleName"])
        and (not status or item["MonitoringScheduleStatus"] == status)
        and (not definition or item.get("MonitoringJobDefinitionName") == definition)
        and (not kind or item["MonitoringType"] == kind)
        and _in_window(self, "CreationTime", _epoch(item["CreationTime"]) or 0)
        and _in_window(self, "LastModifiedTime", _epoch(item["LastModifiedTime"]) or 0)
    ]
    sort_key = {"Name": "MonitoringScheduleName", "Status": "MonitoringScheduleStatus"}.get(
        self._get_param("SortBy"), "CreationTime"
    )
    found.sort(
        key=lambda item: item[sort_key], reverse=self._get_param("SortOrder", "Descending") == "Descending"
    )
    keys = (
        "MonitoringScheduleName",
        "MonitoringScheduleArn",
        "CreationTime",
        "LastModifiedTime",
        "MonitoringScheduleStatus",
        "EndpointName",
        "MonitoringJobDefinitionName",
        "MonitoringType",
    )
    page, token = _page(self, [{k: item[k] for k in keys if k in item} for item in found], 10)
    return ActionResult({"MonitoringScheduleSummaries": page, "NextToken": token})


def _list_executions(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("MonitoringScheduleName")
    endpoint = self._get_param("EndpointName")
    status = self._get_param("StatusEquals")
    definition = self._get_param("MonitoringJobDefinitionName")
    kind = self._get_param("MonitoringTypeEquals")
    with LOCK:
        schedules = [s for s in _schedules(backend).values() if not name or s.name == name]
        for schedule in schedules:
            _advance(backend, schedule)
        summaries = [execution.summary() for schedule in schedules for execution in schedule.executions]
    found = [
        item
        for item in summaries
        if (not endpoint or item.get("EndpointName") == endpoint)
        and (not status or item["MonitoringExecutionStatus"] == status)
        and (not definition or item.get("MonitoringJobDefinitionName") == definition)
        and (not kind or item["MonitoringType"] == kind)
        and _in_window(self, "ScheduledTime", _epoch(item["ScheduledTime"]) or 0)
        and _in_window(self, "CreationTime", _epoch(item["CreationTime"]) or 0)
        and _in_window(self, "LastModifiedTime", _epoch(item["LastModifiedTime"]) or 0)
    ]
    sort_key = {"CreationTime": "CreationTime", "Status": "MonitoringExecutionStatus"}.get(
        self._get_param("SortBy"), "ScheduledTime"
    )
    found.sort(
        key=lambda item: item[sort_key], reverse=self._get_param("SortOrder", "Descending") == "Descending"
    )
    page, token = _page(self, found, 10)
    return ActionResult({"MonitoringExecutionSummaries": page, "NextToken": token})


_SCHEDULE_HANDLERS: dict[str, Callable[[SageMakerResponse], Any]] = {
    "create_monitoring_schedule": _create_schedule,
    "describe_monitoring_schedule": _describe_schedule,
    "update_monitoring_schedule": _update_schedule,
    "delete_monitoring_schedule": _delete_schedule,
    "start_monitoring_schedule": _start_schedule,
    "stop_monitoring_schedule": _stop_schedule,
    "list_monitoring_schedules": _list_schedules,
    "list_monitoring_executions": _list_executions,
}


def _get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
    """moto's ARN lookup (for tags), knowing monitoring schedules too."""
    resource_type, _, name = arn.split(":")[-1].partition("/")
    if resource_type == "monitoring-schedule":
        schedule = _schedules(self).get(name)
        if schedule is None:
            raise ValidationError(message=f"Could not find monitoring-schedule with name {name}")
        return schedule
    return _original("_get_resource_from_arn")(self, arn)
