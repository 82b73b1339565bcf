"""Batch inference pipelines: byom_batch_builtin and byom_batch_custom (one transform job).

MWO's transform job read CSV split by line and assembled its output by line, on one instance;
those stay the defaults, and ``content_type``, ``accept``, ``split_type``, ``assemble_with`` and
``instance_count`` (our additions) change them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from .base import BuiltinImageFields, CustomImageFields, ModelDeploymentConfig
from .common import EmptyAsNone, IntRange, S3Location, Staged, Stripped, _pattern
from .errors import custom_error, short

__all__ = ["BatchBuiltinConfig", "BatchCustomConfig", "BatchConfig"]


#: Short names people write for a MIME type, and the MIME type SageMaker wants.
_MIME_SHORTHANDS = {
    "csv": "text/csv",
    "json": "application/json",
    "jsonl": "application/jsonlines",
    "jsonlines": "application/jsonlines",
    "libsvm": "text/libsvm",
    "parquet": "application/x-parquet",
    "recordio": "application/x-recordio-protobuf",
    "protobuf": "application/x-recordio-protobuf",
    "npy": "application/x-npy",
}
MIME_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:\s*;.*)?$"


def _mime_shorthand(value: Any) -> Any:
    """``csv`` is what people write; SageMaker wants ``text/csv``: say so rather than guess."""
    if isinstance(value, str) and value.strip().lower() in _MIME_SHORTHANDS:
        mime = _MIME_SHORTHANDS[value.strip().lower()]
        raise custom_error("mime_type", f"expected a MIME type, got {short(value)}; did you mean '{mime}'?")
    return value


MimeType = Annotated[
    str,
    BeforeValidator(_mime_shorthand),
    _pattern(MIME_TYPE_PATTERN, "expected a MIME type like text/csv or application/jsonlines", max_length=256),
]


class BatchConfig(ModelDeploymentConfig):
    """Fields shared by the two batch types: where the input is and where the output goes.

    Each run of the DAG writes under its own folder of ``batch_job_output_location``, so a
    scheduled (e.g. nightly) run never overwrites an earlier run's output.
    """

    batch_inference_data: Staged(S3Location, "S3Location")
    batch_job_output_location: Staged(S3Location, "S3Location")
    content_type: MimeType = Field("text/csv", description="MIME type of the input records (MWO: text/csv)")
    accept: Annotated[MimeType | None, EmptyAsNone] = Field(
        None, description="MIME type of the output; default: the model's own (as MWO)"
    )
    split_type: Annotated[Literal["Line", "RecordIO", "TFRecord", "None"], Stripped] = Field(
        "Line", description="how input files are split into records (MWO: Line)"
    )
    assemble_with: Annotated[Literal["Line", "None"], Stripped] = Field(
        "Line", description="how output records are joined in the output files (MWO: Line)"
    )
    instance_count: IntRange(1, 100) = Field(1, description="instances of the transform job (MWO: 1)")

    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ("batch_inference_data", "batch_job_output_location")

    def stage_api_reason(self) -> str | None:
        return "its batch transform job runs in each stage's account"


class BatchBuiltinConfig(BuiltinImageFields, BatchConfig):
    """byom_batch_builtin: a batch transform with a builtin-algorithm model."""

    pipeline_type: Literal["byom_batch_builtin"]

    MODEL_FIELDS: ClassVar[tuple[str, ...]] = (
        "model_artifact_location",
        "model_framework",
        "model_framework_version",
    )
    STACK_SUFFIX: ClassVar[str] = "BYOMPipelineBatchBuiltIn"


class BatchCustomConfig(CustomImageFields, BatchConfig):
    """byom_batch_custom: a batch transform with a model served by a custom ECR image."""

    pipeline_type: Literal["byom_batch_custom"]

    MODEL_FIELDS: ClassVar[tuple[str, ...]] = ("model_artifact_location", "custom_image_uri")
    STACK_SUFFIX: ClassVar[str] = "BYOMPipelineBatchCustom"
