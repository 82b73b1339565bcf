"""SageMaker model cards in the emulator: content kept across updates, and PDF export jobs.

moto 5.2 has model cards (Create, Describe, Update, List, ListVersions, Delete) but an update
without ``Content`` (a status change, as the SageMaker SDK sends it) stores a version with no
content, an update without ``ModelCardStatus`` one with no status, Describe answers the creation
time as ``LastModifiedTime``, and any string is taken as content. It has no export jobs. Here, as
SageMaker:

- CreateModelCard and UpdateModelCard refuse ``Content`` that is not a JSON object, is longer than
  100,000 characters, or has a top-level key that is not a section of the model card schema
  (``ValidationException`` naming it); ``ModelCardStatus`` must be Draft, PendingReview, Approved
  or Archived.
- UpdateModelCard keeps the content when only the status changes and the status when only the
  content changes; each update is a new version, as in moto.
- CreateModelCardExportJob (the card and version must exist, else ``ResourceNotFound``; a job name
  used before for the card is ``ConflictException``) shows ``InProgress`` for ``job_seconds``, then
  ``Completed`` with a PDF of the card's version at
  ``{S3OutputPath}/{card name}/{job name}/{card name}-{version}.pdf`` (``ExportArtifacts``), or
  ``Failed`` with a ``FailureReason`` when the output bucket does not exist or a failure rule of
  kind ``model_card_export`` matches the card or job name. DescribeModelCardExportJob and
  ListModelCardExportJobs (by card, version, name, status; sorted, paged) read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ConflictException, ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.utilities.utils import get_partition

from mlops_orchestrator.local import buckets
from mlops_orchestrator.local.lifecycle import (
    LOCK,
    STATE,
    Done,
    Lifecycle,
    Phase,
    now,
    register_failure_kind,
    to_datetime,
)
from mlops_orchestrator.local.patching import Patches
from mlops_orchestrator.local.sagemaker.model_card_pdf import card_pdf

EXPORT_FAILURES = "model_card_export"
#: The sections of the model card JSON schema (what ``Content`` may hold at its top level).
CONTENT_SECTIONS = frozenset(
    {
        "model_overview",
        "model_package_details",
        "intended_uses",
        "business_details",
        "training_details",
        "evaluation_details",
        "additional_information",
    }
)
CARD_STATUSES = ("Draft", "PendingReview", "Approved", "Archived")
MAX_CONTENT = 100_000
_STORE = "mlops_model_card_exports"

_patches = Patches()


def install() -> None:
    """Keep content and status across updates, check content, and add the export jobs (idempotent)."""
    if _patches.installed:
        return
    register_failure_kind(EXPORT_FAILURES, "the model card name or the export job name")
    backend, responses = SageMakerModelBackend, SageMakerResponse
    _patches.set(backend, "create_model_card", _create_model_card)
    _patches.set(backend, "update_model_card", _update_model_card)
    _patches.set(backend, "describe_model_card", _describe_model_card)
    _patches.set(responses, "create_model_card_export_job", _create_export_job)
    _patches.set(responses, "describe_model_card_export_job", _describe_export_job)
    _patches.set(responses, "list_model_card_export_jobs", _list_export_jobs)


def uninstall() -> None:
    _patches.undo()


def _original(name: str) -> Any:
    return _patches.original(SageMakerModelBackend, name)


# --- cards ----------------------------------------------------------------------------------


def check_content(content: Any) -> None:
    """SageMaker's checks of ``Content``, as ``ValidationException``."""
    if not isinstance(content, str):
        raise ValidationError(message="Content must be a string holding a JSON object")
    if len(content) > MAX_CONTENT:
        raise ValidationError(
            message=f"1 validation error detected: Value at 'content' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_CONTENT}"
        )
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise ValidationError(message=f"Content is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValidationError(message="Content must be a JSON object")
    unknown = sorted(set(document) - CONTENT_SECTIONS)
    if unknown:
        raise ValidationError(
            message=f"Content does not match the model card schema: unknown section(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(CONTENT_SECTIONS))})"
        )


def _check_status(status: Any) -> None:
    if status not in CARD_STATUSES:
        raise ValidationError(
            message=f"1 validation error detected: Value '{status}' at 'modelCardStatus' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(CARD_STATUSES)}]"
        )


def _create_model_card(self: SageMakerModelBackend, model_card_name: str, **kwargs: Any) -> str:
    with LOCK:
        check_content(kwargs.get("content") or "{}")
        kwargs["content"] = kwargs.get("content") or "{}"
        _check_status(kwargs.get("model_card_status"))
        return _original("create_model_card")(self, model_card_name=model_card_name, **kwargs)


def _update_model_card(
    self: SageMakerModelBackend, model_card_name: str, content: str | None, model_card_status: str | None
) -> str:
    with LOCK:
        versions = self.model_cards.get(model_card_name)
        if not versions:
            raise ResourceNotFound(f"Modelcard {model_card_name} does not exist.")
        latest = versions[-1]
        if content is not None:
            check_content(content)
        if model_card_status is not None:
            _check_status(model_card_status)
        arn = _original("update_model_card")(
            self,
            model_card_name=model_card_name,
            content=latest.content if content is None else content,
            model_card_status=latest.model_card_status if model_card_status is None else model_card_status,
        )
        versions[-1].last_modified_time = to_datetime(now())
        return arn


def _describe_model_card(self: SageMakerModelBackend, model_card_name: str, model_card_version: int) -> dict:
    with LOCK:
        card = _card_version(self, model_card_name, model_card_version)
        answer = _original("describe_model_card")(self, model_card_name, model_card_version)
        answer["LastModifiedTime"] = card.last_modified_time
        return answer


def _card_version(backend: SageMakerModelBackend, name: str, version: int | None) -> Any:
    """A card's version (the latest when ``version`` is None); ``ResourceNotFound`` as SageMaker."""
    name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    versions = backend.model_cards.get(name)
    if not versions:
        raise ResourceNotFound(f"Modelcard {name} does not exist")
    if not version:
        return versions[-1]
    for card in versions:
        if card.model_card_version == int(version):
            return card
    raise ResourceNotFound(f"Modelcard with name {name} and version: {version} does not exist")


# --- export jobs ----------------------------------------------------------------------------


@dataclass
class _ExportJob:
    name: str
    arn: str
    card_name: str
    card_version: int
    output_path: str
    created: float
    lifecycle: Lifecycle
    artifact: str | None = None

    def settle(self) -> str:
        return self.lifecycle.settle()

    def summary(self) -> dict[str, Any]:
        return {
            "ModelCardExportJobName": self.name,
            "ModelCardExportJobArn": self.arn,
            "Status": self.settle(),
            "ModelCardName": self.card_name,
            "ModelCardVersion": self.card_version,
            "CreatedAt": to_datetime(self.created),
            "LastModifiedAt": to_datetime(self.lifecycle.ready_at),
        }

    def describe(self) -> dict[str, Any]:
        answer = {**self.summary(), "OutputConfig": {"S3OutputPath": self.output_path}}
        if self.lifecycle.failure_reason:
            answer["FailureReason"] = self.lifecycle.failure_reason
        if answer["Status"] == "Completed" and self.artifact:
            answer["ExportArtifacts"] = {"S3ExportArtifacts": self.artifact}
        return answer


def _exports(backend: SageMakerModelBackend) -> dict[str, _ExportJob]:
    """The backend's export jobs by ARN (an attribute of the backend, so moto's reset forgets them)."""
    return backend.__dict__.setdefault(_STORE, {})


def _export_arn(backend: SageMakerModelBackend, card: str, job: str) -> str:
    partition = get_partition(backend.region_name)
    return f"arn:{partition}:sagemaker:{backend.region_name}:{backend.account_id}:model-card/{card}/export-job/{job}"


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.strip("/")


def _create_export_job(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    card_name = self._get_param("ModelCardName")
    job_name = self._get_param("ModelCardExportJobName")
    output_path = (self._get_param("OutputConfig") or {}).get("S3OutputPath")
    if not output_path or not str(output_path).startswith("s3://"):
        raise ValidationError(message="OutputConfig.S3OutputPath must be an s3:// URI")
    with LOCK:
        card = _card_version(backend, card_name, self._get_param("ModelCardVersion"))
        card_name = card.model_card_name
        arn = _export_arn(backend, card_name, job_name)
        if arn in _exports(backend):
            raise ConflictException(f"Model card export job {job_name} already exists for model card {card_name}")
        reason = STATE.failures.take(EXPORT_FAILURES, [card_name, job_name])
        started = now()
        job = _ExportJob(
            name=job_name,
            arn=arn,
            card_name=card_name,
            card_version=card.model_card_version,
            output_path=output_path,
            created=started,
            lifecycle=Lifecycle("InProgress", started),
        )
        snapshot = card.describe()

        def failure() -> str | None:
            bucket, _ = _split(output_path)
            s3 = s3_backends[backend.account_id][get_partition(backend.region_name)]
            if buckets.find(s3, bucket) is None:
                return f"The S3 bucket {bucket} of {output_path} does not exist or is not accessible."
            return None

        def finish(at: float) -> Done:
            problem = reason or failure()
            if problem:
                return Done("Failed", problem)
            job.artifact = _write_pdf(backend, job, snapshot)
            return Done("Completed")

        job.lifecycle.start(Phase("InProgress", STATE.settings.job_seconds, finish), at=started)
        _exports(backend)[arn] = job
        job.settle()
    return ActionResult({"ModelCardExportJobArn": arn})


def _write_pdf(backend: SageMakerModelBackend, job: _ExportJob, card: dict[str, Any]) -> str:
    bucket, prefix = _split(job.output_path)
    key = "/".join(part for part in (prefix, job.card_name, job.name, f"{job.card_name}-{job.card_version}.pdf") if part)
    s3 = s3_backends[backend.account_id][get_partition(backend.region_name)]
    buckets.owner(s3, bucket).put_object(bucket, key, card_pdf(card))
    return f"s3://{bucket}/{key}"


def _get_export(backend: SageMakerModelBackend, arn: str) -> _ExportJob:
    job = _exports(backend).get(arn)
    if job is None:
        raise ResourceNotFound(f"Model card export job {arn} does not exist")
    return job


def _describe_export_job(self: SageMakerResponse) -> ActionResult:
    with LOCK:
        job = _get_export(self.sagemaker_backend, self._get_param("ModelCardExportJobArn"))
        return ActionResult(job.describe())


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _list_export_jobs(self: SageMakerResponse) -> ActionResult:
    card_name = self._get_param("ModelCardName")
    version = self._get_param("ModelCardVersion")
    contains = self._get_param("ModelCardExportJobNameContains")
    status = self._get_param("StatusEquals")
    after, before = _epoch(self._get_param("CreationTimeAfter")), _epoch(self._get_param("CreationTimeBefore"))
    with LOCK:
        jobs = [job for job in _exports(self.sagemaker_backend).values() if job.card_name == card_name]
        summaries = [(job, job.summary()) for job in jobs]
    found = [
        (job, item)
        for job, item in summaries
        if (not version or item["ModelCardVersion"] == int(version))
        and (not contains or contains in item["ModelCardExportJobName"])
        and (not status or item["Status"] == status)
        and (after is None or job.created > after)
        and (before is None or job.created < before)
    ]
    sort_by = self._get_param("SortBy") or "CreationTime"
    key = {"Name": lambda pair: pair[1]["ModelCardExportJobName"], "Status": lambda pair: pair[1]["Status"]}.get(
        sort_by, lambda pair: pair[0].created
    )
    found.sort(key=key, reverse=(self._get_param("SortOrder") or "Descending") == "Descending")
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 10)
    page = [item for _, item in found[start : start + size]]
    token = str(start + size) if start + size < len(found) else None
    return ActionResult({"ModelCardExportJobSummaries": page, "NextToken": token})
