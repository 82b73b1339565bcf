"""SageMaker Autopilot (AutoML v1) jobs that take time, read the data, write candidates, fail and stop.

moto 5.2 has only CreateAutoMLJobV2 (finished at once, with a made-up best candidate); the Amazon
provider's ``SageMakerHook.create_auto_ml_job`` and MWO's autopilot pipeline use v1. Here, as
SageMaker:

- CreateAutoMLJob refuses a name used before, by a v1 or v2 job (``ResourceInUse``);
- the job shows ``InProgress`` for ``job_seconds`` while ``AutoMLJobSecondaryStatus`` goes
  Starting -> AnalyzingData -> FeatureEngineering -> ModelTuning -> GeneratingExplainabilityReport,
  then ``Completed`` with secondary ``MaxCandidatesReached`` (when
  ``CompletionCriteria.MaxCandidates`` was given) or ``Completed``;
- ``ProblemType`` and ``AutoMLJobObjective`` are used as given, else inferred from the target
  column of the first CSV (header row) under the input URI: two distinct values ->
  BinaryClassification (F1), numeric with fractions or more than 10 distinct values -> Regression
  (MSE), else MulticlassClassification (Accuracy); both are reported in ``ResolvedAttributes``;
- it ends ``Failed`` after AnalyzingData with a ``ClientError`` when no object is under the input
  URI or ``TargetAttributeName`` is not a column of the header, or with the rule's reason when a
  failure rule of kind ``automl_job`` matches the job name or its input or output S3 URI;
- on completion ``BestCandidate`` and ListCandidatesForAutoMLJob hold ``MaxCandidates`` (default
  10) completed candidates with deterministic objective values, each with Autopilot's inference
  containers: data processing (sagemaker-sklearn-automl), the algorithm (sagemaker-xgboost) and,
  for classification, the inverse label transform (sagemaker-sklearn-automl); every
  ``ModelDataUrl`` is an object written under ``{S3OutputPath}/{job}/`` (SSE-KMS with
  ``OutputDataConfig.KmsKeyId``), as are the two notebooks of ``AutoMLJobArtifacts``;
- ``GenerateCandidateDefinitionsOnly`` ends ``Completed`` (secondary
  ``CandidateDefinitionsGenerated``) after AnalyzingData, with the notebooks and no candidates
  (DescribeAutoMLJob has no ``BestCandidate``);
- StopAutoMLJob shows ``Stopping`` for ``job_seconds``, then ``Stopped`` (v2 jobs keep moto's stop).

``ModelDeployConfig`` is recorded but no endpoint is deployed. Statuses are settled lazily (see
``lifecycle``) whenever a job is described or listed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

from mlops_orchestrator.local.lifecycle import (
    LOCK,
    STATE,
    Done,
    Lifecycle,
    Phase,
    attach,
    lifecycle_of,
    now,
    register_failure_kind,
    settle_before_list,
    settle_status,
    to_datetime,
)
from mlops_orchestrator.local.patching import Patches
from mlops_orchestrator.local.sagemaker.training import (
    check_name_length,
    hex8,
    model_tar,
    no_objects_message,
    objects_under,
    put_s3,
    unit,
)

AUTOML_FAILURES = "automl_job"
#: AutoMLJobSecondaryStatus while InProgress, with its share of job_seconds.
SECONDARY = (
    ("Starting", 0.1),
    ("AnalyzingData", 0.2),
    ("FeatureEngineering", 0.2),
    ("ModelTuning", 0.35),
    ("GeneratingExplainabilityReport", 0.15),
)
DEFAULT_CANDIDATES = 10
_MAX_CANDIDATES = 50
_OBJECTIVES = {"BinaryClassification": "F1", "MulticlassClassification": "Accuracy", "Regression": "MSE"}
_MINIMIZE = {"MSE", "RMSE", "MAE", "MAPE", "MASE", "WAPE", "AverageWeightedQuantileLoss"}
#: Autopilot's images live in this account in us-east-1 (the emulator's region).
_IMAGE_ACCOUNT = "683313688378"
_MAX_READ = 1 << 20

_patches = Patches()


def install() -> None:
    """Add Autopilot v1 (create, describe, list candidates, stop) to moto's SageMaker (idempotent)."""
    if _patches.installed:
        return
    register_failure_kind(AUTOML_FAILURES, "the AutoML job name or its input or output S3 URI")
    backend = SageMakerModelBackend
    _patches.set(backend, "create_auto_ml_job", _create_auto_ml_job)
    _patches.set(backend, "describe_auto_ml_job", _describe_auto_ml_job)
    _patches.set(backend, "list_candidates_for_auto_ml_job", _list_candidates)
    _patches.set(backend, "list_auto_ml_jobs", settle_before_list(_original("list_auto_ml_jobs"), "auto_ml_jobs", _settle))
    _patches.set(backend, "stop_auto_ml_job", _stop_auto_ml_job)
    _patches.set(SageMakerResponse, "create_auto_ml_job", _create_response)
    _patches.set(SageMakerResponse, "describe_auto_ml_job", _describe_response)
    _patches.set(SageMakerResponse, "list_candidates_for_auto_ml_job", _list_candidates_response)


def uninstall() -> None:
    _patches.undo()


def _original(name: str) -> Any:
    return _patches.original(SageMakerModelBackend, name)


@dataclass(eq=False)
class AutoMLJobV1:
    """One v1 job; kept in moto's ``auto_ml_jobs`` so that ListAutoMLJobs (moto's) lists it too."""

    backend: SageMakerModelBackend
    request: dict[str, Any]
    creation_time: datetime
    auto_ml_job_status: str = "InProgress"
    auto_ml_job_secondary_status: str = "Starting"
    failure_reason: str | None = None
    end_time: datetime | None = None
    last_modified_time: datetime | None = None
    problem_type: str | None = None
    objective: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.auto_ml_job_name = self.request["AutoMLJobName"]
        self.arn = arn_formatter(
            "automl-job", self.auto_ml_job_name, self.backend.account_id, self.backend.region_name
        )
        self.last_modified_time = self.creation_time
        self.problem_type = self.request.get("ProblemType")
        self.objective = self.request.get("AutoMLJobObjective")
        #: what moto's ListTags / AddTags / DeleteTags read and write on any resource
        self.tags: list[dict[str, str]] = [dict(tag) for tag in self.request.get("Tags") or []]

    @property
    def input_uri(self) -> str:
        channel = (self.request.get("InputDataConfig") or [{}])[0]
        return str(((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri") or "")

    @property
    def target(self) -> str:
        return str((self.request.get("InputDataConfig") or [{}])[0].get("TargetAttributeName") or "")

    @property
    def output_path(self) -> str:
        return str((self.request.get("OutputDataConfig") or {}).get("S3OutputPath") or "").rstrip("/")

    @property
    def kms_key(self) -> str | None:
        return (self.request.get("OutputDataConfig") or {}).get("KmsKeyId")

    @property
    def max_candidates(self) -> int | None:
        criteria = (self.request.get("AutoMLJobConfig") or {}).get("CompletionCriteria") or {}
        return criteria.get("MaxCandidates")

    def summary(self) -> dict[str, Any]:
        return _prune(
            {
                "AutoMLJobName": self.auto_ml_job_name,
                "AutoMLJobArn": self.arn,
                "AutoMLJobStatus": self.auto_ml_job_status,
                "AutoMLJobSecondaryStatus": self.auto_ml_job_secondary_status,
                "CreationTime": self.creation_time,
                "EndTime": self.end_time,
                "LastModifiedTime": self.last_modified_time,
                "FailureReason": self.failure_reason,
            }
        )

    def describe(self) -> dict[str, Any]:
        request = self.request
        resolved = None
        if self.problem_type:
            criteria = dict((request.get("AutoMLJobConfig") or {}).get("CompletionCriteria") or {})
            criteria.setdefault("MaxCandidates", self.max_candidates or DEFAULT_CANDIDATES)
            resolved = {
                "AutoMLJobObjective": self.objective,
                "ProblemType": self.problem_type,
                "CompletionCriteria": criteria,
            }
        best = best_candidate(self)
        return _prune(
            {
                **self.summary(),
                "InputDataConfig": request.get("InputDataConfig"),
                "OutputDataConfig": request.get("OutputDataConfig"),
                "RoleArn": request.get("RoleArn"),
                "AutoMLJobObjective": request.get("AutoMLJobObjective"),
                "ProblemType": request.get("ProblemType"),
                "AutoMLJobConfig": request.get("AutoMLJobConfig"),
                "GenerateCandidateDefinitionsOnly": bool(request.get("GenerateCandidateDefinitionsOnly")),
                "ModelDeployConfig": request.get("ModelDeployConfig"),
                "BestCandidate": best,
                "AutoMLJobArtifacts": self.artifacts,
                "ResolvedAttributes": resolved,
            }
        )


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def best_candidate(job: AutoMLJobV1) -> dict[str, Any] | None:
    scored = [c for c in job.candidates if c["CandidateStatus"] == "Completed"]
    if not scored:
        return None
    sign = -1 if (job.objective or {}).get("MetricName") in _MINIMIZE else 1
    return max(scored, key=lambda c: sign * c["FinalAutoMLJobObjectiveMetric"]["Value"])


# --- create, describe, list, stop ----------------------------------------------------------------


def _create_auto_ml_job(self: SageMakerModelBackend, request: dict[str, Any]) -> str:
    with LOCK:
        name = request["AutoMLJobName"]
        check_name_length(name, "autoMLJobName", 32)
        if name in self.auto_ml_jobs:
            raise ResourceInUseException(
                message=f"Resource Already Exists: Auto ML Job with name {name} already exists. Choose a different name."
            )
        started = now()
        job = AutoMLJobV1(self, dict(request), to_datetime(started))
        self.auto_ml_jobs[name] = job
        rule = STATE.failures.take(AUTOML_FAILURES, [name, job.input_uri, job.output_path])
        attach(job, Lifecycle("InProgress", started)).start(_phase(job, 0, rule), at=started)
        _settle(job)
        return job.arn


def _phase(job: AutoMLJobV1, index: int, rule: str | None) -> Phase:
    share = SECONDARY[index][1]
    return Phase("InProgress", STATE.settings.job_seconds * share, lambda at: _next(job, index, at, rule))


def _next(job: AutoMLJobV1, index: int, at: float, rule: str | None) -> Phase | Done:
    """End secondary phase ``index``: analyse the data, write candidates, or finish."""
    status = SECONDARY[index][0]
    if status == "AnalyzingData":
        failure = rule or _analyse(job)
        if failure:
            return _finish(job, at, "Failed", "Failed", failure)
        failure = _write_notebooks(job)
        if failure:
            return _finish(job, at, "Failed", "Failed", failure)
        if job.request.get("GenerateCandidateDefinitionsOnly"):
            return _finish(job, at, "Completed", "CandidateDefinitionsGenerated")
    elif status == "ModelTuning":
        failure = _write_candidates(job, at)
        if failure:
            return _finish(job, at, "Failed", "Failed", failure)
    if index + 1 == len(SECONDARY):
        return _finish(job, at, "Completed", "MaxCandidatesReached" if job.max_candidates else "Completed")
    job.auto_ml_job_secondary_status = SECONDARY[index + 1][0]
    job.last_modified_time = to_datetime(at)
    return _phase(job, index + 1, rule)


def _finish(job: AutoMLJobV1, at: float, status: str, secondary: str, reason: str | None = None) -> Done:
    job.auto_ml_job_secondary_status = secondary
    job.end_time = job.last_modified_time = to_datetime(at)
    return Done(status, reason)


def _settle(job: Any) -> str:
    if lifecycle_of(job) is None and not isinstance(job, AutoMLJobV1):
        return job.auto_ml_job_status  # a v2 job: moto's
    return settle_status(job, "auto_ml_job_status")


def _get(backend: SageMakerModelBackend, name: str) -> Any:
    job = backend.auto_ml_jobs.get(name)
    if job is None:
        raise ResourceNotFound(message=f"Could not find AutoML job with name {name}.")
    return job


def _describe_auto_ml_job(self: SageMakerModelBackend, auto_ml_job_name: str) -> dict[str, Any]:
    with LOCK:
        job = _get(self, auto_ml_job_name)
        _settle(job)
        return job.describe()




def _stop_auto_ml_job(self: SageMakerModelBackend, auto_ml_job_name: str) -> None:
    with LOCK:
        job = _get(self, auto_ml_job_name)
        if not isinstance(job, AutoMLJobV1):
            return _original("stop_auto_ml_job")(self, auto_ml_job_name)
        status = _settle(job)
        if status == "Stopping":
            return None
        if status != "InProgress":
            raise ValidationError(
                message=f"The AutoML job {auto_ml_job_name} can not be stopped: it is {status}."
            )
        lifecycle = lifecycle_of(job)
        lifecycle.cancel()
        at = now()
        job.auto_ml_job_secondary_status = "Stopping"
        job.last_modified_time = to_datetime(at)

        def stopped(at_deadline: float) -> None:
            _finish(job, at_deadline, "Stopped", "Stopped")

        lifecycle.run("Stopping", STATE.settings.job_seconds, "Stopped", on_done=stopped, at=at)
        _settle(job)
        return None


def _list_candidates(
    self: SageMakerModelBackend,
    auto_ml_job_name: str,
    status_equals: str | None = None,
    candidate_name_equals: str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    with LOCK:
        job = _get(self, auto_ml_job_name)
        _settle(job)
        candidates = list(getattr(job, "candidates", []))
    if status_equals:
        candidates = [c for c in candidates if c["CandidateStatus"] == status_equals]
    if candidate_name_equals:
        candidates = [c for c in candidates if c["CandidateName"] == candidate_name_equals]
    descending = sort_order == "Descending"  # the API's default order: Ascending
    if sort_by == "FinalObjectiveMetricValue":
        candidates.sort(key=lambda c: c["FinalAutoMLJobObjectiveMetric"]["Value"], reverse=descending)
    elif sort_by == "Status":
        candidates.sort(key=lambda c: c["CandidateStatus"], reverse=descending)
    else:
        candidates.sort(key=lambda c: (c["CreationTime"], c["CandidateName"]), reverse=descending)
    start, size = int(next_token or 0), int(max_results or 10)
    token = str(start + size) if start + size < len(candidates) else None
    return {"Candidates": candidates[start : start + size], "NextToken": token}


def _create_response(self: SageMakerResponse) -> ActionResult:
    return ActionResult({"AutoMLJobArn": self.sagemaker_backend.create_auto_ml_job(json.loads(self.body))})


def _describe_response(self: SageMakerResponse) -> ActionResult:
    return ActionResult(self.sagemaker_backend.describe_auto_ml_job(self._get_param("AutoMLJobName")))


def _list_candidates_response(self: SageMakerResponse) -> ActionResult:
    return ActionResult(
        self.sagemaker_backend.list_candidates_for_auto_ml_job(
            self._get_param("AutoMLJobName"),
            status_equals=self._get_param("StatusEquals"),
            candidate_name_equals=self._get_param("CandidateNameEquals"),
            sort_by=self._get_param("SortBy"),
            sort_order=self._get_param("SortOrder"),
            max_results=self._get_param("MaxResults"),
            next_token=self._get_param("NextToken"),
        )
    )


# --- what the job reads and writes -----------------------------------------------------------


def _analyse(job: AutoMLJobV1) -> str | None:
    """Resolve problem type and objective from the data; the FailureReason when it cannot."""
    backend = job.backend
    objects = objects_under(backend.account_id, backend.region_name, job.input_uri)
    if not objects:
        return "ClientError: " + no_objects_message(
            job.input_uri, backend.region_name, job.request.get("RoleArn")
        )
    name, key = objects[0]
    body = bytes(key.value[:_MAX_READ])
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(bytes(key.value))[:_MAX_READ]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8", errors="replace"))))
    header = [column.strip() for column in rows[0]] if rows else []
    if job.target not in header:
        return (
            f"ClientError: The target attribute '{job.target}' is not a column of the header of "
            f"s3://{job.input_uri.removeprefix('s3://').split('/')[0]}/{name} "
            f"(columns: {', '.join(header) or 'none'})."
        )
    column = header.index(job.target)
    values = [row[column].strip() for row in rows[1:] if len(row) > column and row[column].strip()]
    if not job.problem_type:
        job.problem_type = infer_problem_type(values)
    if not job.objective:
        job.objective = {"MetricName": _OBJECTIVES[job.problem_type]}
    return None


def infer_problem_type(values: list[str]) -> str:
    """Autopilot's guess from the target column's values."""
    distinct = set(values)
    if len(distinct) == 2:
        return "BinaryClassification"
    try:
        numbers = [float(value) for value in distinct]
    except ValueError:
        return "MulticlassClassification"
    if len(distinct) > 10 or any(not number.is_integer() for number in numbers):
        return "Regression"
    return "MulticlassClassification"


def _write_notebooks(job: AutoMLJobV1) -> str | None:
    base = f"{job.output_path}/{job.auto_ml_job_name}/sagemaker-automl-candidates/{job.auto_ml_job_name}-artifacts/notebooks"
    locations = {
        "CandidateDefinitionNotebookLocation": f"{base}/SageMakerAutopilotCandidateDefinitionNotebook.ipynb",
        "DataExplorationNotebookLocation": f"{base}/SageMakerAutopilotDataExplorationNotebook.ipynb",
    }
    for kind, uri in locations.items():
        notebook = {
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": [f"# {kind} of {job.auto_ml_job_name}"]}
            ],
            "metadata": {"problem_type": job.problem_type, "objective": job.objective},
            "nbformat": 4,
            "nbformat_minor": 4,
        }
        failure = put_s3(
            job.backend.account_id, job.backend.region_name, uri, json.dumps(notebook).encode(), job.kms_key
        )
        if failure:
            return failure
    job.artifacts = locations
    return None


def _write_candidates(job: AutoMLJobV1, at: float) -> str | None:
    """Candidates with their inference containers; each ModelDataUrl is written to S3."""
    name, region = job.auto_ml_job_name, job.backend.region_name
    metric = job.objective["MetricName"]
    minimize = metric in _MINIMIZE
    classification = job.problem_type != "Regression"
    count = min(_MAX_CANDIDATES, int(job.max_candidates or DEFAULT_CANDIDATES))
    registry = f"{_IMAGE_ACCOUNT}.dkr.ecr.{region}.amazonaws.com"
    for index in range(1, count + 1):
        tag = hex8(name, str(index))
        candidate = f"{name[:16]}-{index:03d}-{tag}"
        pipeline = index % 3
        processor = f"{name[:16]}-dpp{pipeline}-1-{hex8(name, 'dpp', str(pipeline))}"
        data_url = f"{job.output_path}/{name}/data-processor-models/{processor}/output/model.tar.gz"
        model_url = (
            f"{job.output_path}/{name}/tuning/{name[:16]}-dpp{pipeline}-xgb/{candidate}/output/model.tar.gz"
        )
        u = unit(name, metric, str(index))
        value = round(0.05 + 0.5 * u if minimize else 0.6 + 0.39 * u, 5)
        containers = [
            {
                "Image": f"{registry}/sagemaker-sklearn-automl:2.5-1-cpu-py3",
                "ModelDataUrl": data_url,
                "Environment": {
                    "AUTOML_SPARSE_ENCODE_RECORDIO_PROTOBUF": "1",
                    "AUTOML_TRANSFORM_MODE": "feature-transform",
                    "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/x-recordio-protobuf",
                    "SAGEMAKER_PROGRAM": "sagemaker_serve",
                    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                },
            },
            {
                "Image": f"{registry}/sagemaker-xgboost:1.7-1-cpu-py3",
                "ModelDataUrl": model_url,
                "Environment": {
                    "MAX_CONTENT_LENGTH": "20971520",
                    "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
                    "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
                    "SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability,probabilities"
                    if classification
                    else "predicted_label",
                },
            },
        ]
        if classification:
            containers.append(
                {
                    "Image": f"{registry}/sagemaker-sklearn-automl:2.5-1-cpu-py3",
                    "ModelDataUrl": data_url,
                    "Environment": {
                        "AUTOML_TRANSFORM_MODE": "inverse-label-transform",
                        "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
                        "SAGEMAKER_INFERENCE_INPUT": "predicted_label",
                        "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
                        "SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability,labels,probabilities",
                        "SAGEMAKER_PROGRAM": "sagemaker_serve",
                        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                    },
                }
            )
        for url, kind in ((data_url, "data-processor"), (model_url, "xgboost")):
            body = model_tar(
                f"{kind}-model", {"automl_job": name, "candidate": candidate, "target": job.target}
            )
            failure = put_s3(job.backend.account_id, region, url, body, job.kms_key)
            if failure:
                return failure
        account = job.backend.account_id
        steps = [
            ("AWS::SageMaker::ProcessingJob", "processing-job", f"{name[:16]}-db-1-{hex8(name, 'db')}"),
            ("AWS::SageMaker::TrainingJob", "training-job", processor),
            ("AWS::SageMaker::TransformJob", "transform-job", f"{processor}-transform"),
            ("AWS::SageMaker::TrainingJob", "training-job", candidate),
        ]
        job.candidates.append(
            {
                "CandidateName": candidate,
                "FinalAutoMLJobObjectiveMetric": {
                    "Type": "Minimize" if minimize else "Maximize",
                    "MetricName": metric,
                    "Value": value,
                    "StandardMetricName": metric,
                },
                "ObjectiveStatus": "Succeeded",
                "CandidateSteps": [
                    {
                        "CandidateStepType": step_type,
                        "CandidateStepArn": arn_formatter(kind, step_name, account, region),
                        "CandidateStepName": step_name,
                    }
                    for step_type, kind, step_name in steps
                ],
                "CandidateStatus": "Completed",
                "InferenceContainers": containers,
                "CreationTime": job.creation_time,
                "EndTime": to_datetime(at),
                "LastModifiedTime": to_datetime(at),
            }
        )
    return None
