"""SageMaker transform jobs that take time, can fail or be stopped, and write their output to S3.

moto 5.2 creates a transform job ``Completed`` at once, writes no output, accepts a name that is
already taken and a model that does not exist, and has no StopTransformJob. Here, as SageMaker:

- CreateTransformJob refuses a job name used before (``ValidationException``, whatever that
  job's status) and a ``ModelName`` that does not exist;
- the job shows ``InProgress`` for ``job_seconds``, then ``Completed`` with one
  ``{input object}.out`` per input object under ``TransformOutput.S3OutputPath`` (a line per
  input record, SSE-KMS with ``TransformOutput.KmsKeyId`` when given), so that a pipeline's
  output can be seen and checked;
- it ends ``Failed`` with SageMaker's ``FailureReason`` when no object is under the input prefix
  or the output bucket does not exist, or with the rule's reason when a failure rule of kind
  ``transform_job`` matches the job name, the model name, the input or the output S3 URI;
- StopTransformJob shows ``Stopping`` for ``job_seconds``, then ``Stopped`` (no output).

Statuses are settled lazily (see ``lifecycle``) whenever a job is described or listed, so the
Amazon provider's waiters and its deferrable trigger (aiobotocore) see a job that runs.
"""

from __future__ import annotations

import posixpath
import zlib
from typing import Any

from moto.core.responses import EmptyResult
from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeTransformJob, SageMakerModelBackend
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
)
from mlops_orchestrator.local.patching import Patches

TRANSFORM_FAILURES = "transform_job"
#: The most input bytes read per object to write its output (the emulator runs no model).
_MAX_READ = 1 << 20

_patches = Patches()


def install() -> None:
    """Give moto's transform jobs a lifecycle, outputs, checks and StopTransformJob (idempotent)."""
    if _patches.installed:
        return
    register_failure_kind(
        TRANSFORM_FAILURES, "the transform job name, its model name, or its input or output S3 URI"
    )
    backend = SageMakerModelBackend
    _patches.set(backend, "create_transform_job", _create_transform_job)
    _patches.set(
        backend,
        "describe_transform_job",
        settle_before_describe(_original("describe_transform_job"), "transform_jobs", _settle),
    )
    _patches.set(
        backend, "list_transform_jobs", settle_before_list(_original("list_transform_jobs"), "transform_jobs", _settle)
    )
    _patches.set(backend, "stop_transform_job", _stop_transform_job)
    _patches.set(SageMakerResponse, "stop_transform_job", _stop_transform_job_response)


def uninstall() -> None:
    _patches.undo()


def _original(name: str) -> Any:
    return _patches.original(SageMakerModelBackend, name)


def failure_names(job: FakeTransformJob) -> list[str]:
    """What a ``transform_job`` failure rule's ``match`` is compared with."""
    return [
        name
        for name in (job.transform_job_name, job.model_name, input_uri(job), output_uri(job))
        if name
    ]


def input_uri(job: FakeTransformJob) -> str:
    source = ((job.transform_input or {}).get("DataSource") or {}).get("S3DataSource") or {}
    return str(source.get("S3Uri") or "")


def output_uri(job: FakeTransformJob) -> str:
    return str((job.transform_output or {}).get("S3OutputPath") or "")


# --- the job's lifecycle ---------------------------------------------------------------------


def _lifecycle(job: FakeTransformJob) -> Lifecycle:
    return lifecycle_or_attach(job, "transform_job_status")  # made before the extension: Completed


def _settle(job: FakeTransformJob) -> str:
    return settle_status(job, "transform_job_status")



def _ended(job: FakeTransformJob, at: float) -> None:
    job.transform_end_time = job.last_modified_time = to_datetime(at)


def _create_transform_job(self: SageMakerModelBackend, transform_job_name: str, **kwargs: Any) -> FakeTransformJob:
    with LOCK:
        existing = self.transform_jobs.get(transform_job_name)
        if existing is not None:
            raise ValidationError(
                message="Job name must be unique within an AWS account and region, and a job with this "
                f"name already exists ({existing.arn})"
            )
        model_name = kwargs.get("model_name")
        if model_name not in self._models:
            arn = f"arn:{get_partition(self.region_name)}:sagemaker:{self.region_name}:{self.account_id}:model/{model_name}"
            raise ValidationError(message=f'Could not find model "{arn}".')
        job = _original("create_transform_job")(self, transform_job_name=transform_job_name, **kwargs)
        job.tags = job.tags or []  # moto's ListTags fails (500) on a job created without tags
        started = now()
        job.creation_time = job.transform_start_time = job.last_modified_time = to_datetime(started)
        job.transform_end_time = None
        reason = STATE.failures.take(TRANSFORM_FAILURES, failure_names(job))

        def finish(at: float) -> Done:
            failure = reason or _write_outputs(self, job)
            _ended(job, at)
            return Done("Failed", failure) if failure else Done("Completed")

        attach(job, Lifecycle("InProgress", started)).start(
            Phase("InProgress", STATE.settings.job_seconds, finish), at=started
        )
        _settle(job)
        return job






def _stop_transform_job(self: SageMakerModelBackend, transform_job_name: str) -> None:
    """StopTransformJob: ``Stopping`` for ``job_seconds``, then ``Stopped``; a no-op while stopping."""
    with LOCK:
        job = self.transform_jobs.get(transform_job_name)
        if job is None:
            arn = FakeTransformJob.arn_formatter(transform_job_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find transform job '{arn}'.")
        status = _settle(job)
        if status == "Stopping":
            return
        if status != "InProgress":
            raise ValidationError(
                message=f"The transform job {transform_job_name} can not be stopped: it is {status}."
            )
        lifecycle = _lifecycle(job)
        lifecycle.cancel()
        job.last_modified_time = to_datetime(now())
        lifecycle.run(
            "Stopping", STATE.settings.job_seconds, "Stopped", on_done=lambda at: _ended(job, at)
        )
        _settle(job)


def _stop_transform_job_response(self: SageMakerResponse) -> EmptyResult:
    self.sagemaker_backend.stop_transform_job(self._get_param("TransformJobName"))
    return EmptyResult()


# --- what the job reads and writes -----------------------------------------------------------


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _write_outputs(backend: SageMakerModelBackend, job: FakeTransformJob) -> str | None:
    """Write ``{object}.out`` per input object; the FailureReason SageMaker gives when it cannot."""
    s3 = s3_backends[backend.account_id][get_partition(backend.region_name)]
    in_bucket, in_prefix = _split(input_uri(job))
    out_bucket, out_prefix = _split(output_uri(job))
    bucket = buckets.find(s3, in_bucket)
    names = sorted(name for name in (bucket.keys if bucket else {}) if name.startswith(in_prefix))
    objects = [(name, bucket.keys.get(name)) for name in names]
    # the newest version of each key; a delete marker (no value) means the object is gone
    objects = [(name, key) for name, key in objects if hasattr(key, "value") and not name.endswith("/")]
    if not objects:
        return (
            f'ClientError: No S3 objects found under S3 URL "{input_uri(job)}" given in input data source. '
            f"Please ensure that the bucket exists in the selected region ({backend.region_name}), that "
            f"objects exist under that S3 prefix, and that the role has \"s3:ListBucket\" permissions "
            f'on bucket "{in_bucket}".'
        )
    if buckets.find(s3, out_bucket) is None:
        return f'ClientError: The output S3 bucket "{out_bucket}" of "{output_uri(job)}" does not exist.'
    output = job.transform_output or {}
    kms_key = output.get("KmsKeyId")
    joiner = "\n" if output.get("AssembleWith", "None") == "Line" else ""
    split_lines = (job.transform_input or {}).get("SplitType", "None") == "Line"
    for name, key in objects:
        body = bytes(key.value[:_MAX_READ])
        records = [line for line in body.splitlines() if line.strip()] if split_lines else [body]
        scores = [f"{zlib.crc32(record) % 1000 / 1000:.3f}" for record in records]
        buckets.owner(s3, out_bucket).put_object(
            out_bucket,
            posixpath.join(out_prefix, _relative(in_prefix, name) + ".out"),
            (joiner.join(scores) + joiner).encode(),
            encryption="aws:kms" if kms_key else None,
            kms_key_id=kms_key or None,
        )
    return None


def _relative(prefix: str, name: str) -> str:
    """An input object's path under the output path: relative to the input prefix's folder."""
    if name == prefix:
        return posixpath.basename(name)
    folder = prefix if prefix.endswith("/") or name[len(prefix) : len(prefix) + 1] == "/" else posixpath.dirname(prefix)
    return name[len(folder) :].lstrip("/") if folder else name
