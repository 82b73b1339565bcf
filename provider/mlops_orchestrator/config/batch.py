"""Batch inference pipelines: byom_batch_builtin and byom_batch_custom (one transform job)."""

from __future__ import annotations

from typing import ClassVar, Literal

from .base import BuiltinImageFields, CustomImageFields, ModelDeploymentConfig
from .common import S3Location, Staged

__all__ = ["BatchBuiltinConfig", "BatchCustomConfig", "BatchConfig"]


class BatchConfig(ModelDeploymentConfig):
    """Fields shared by the two batch types: where the input is and where the output goes."""

    batch_inference_data: Staged(S3Location, "S3Location")
    batch_job_output_location: Staged(S3Location, "S3Location")

    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ("batch_inference_data", "batch_job_output_location")


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
