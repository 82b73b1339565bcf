"""Realtime inference pipelines: byom_realtime_builtin and byom_realtime_custom.

A SageMaker model behind an endpoint with data capture (what the monitors read). MWO's fields,
with per-stage values allowed where MWO's multi-account mode allowed them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from .base import BuiltinImageFields, CustomImageFields, ModelDeploymentConfig
from .common import EmptyAsNone, EndpointName, S3Location, Staged

__all__ = ["RealtimeBuiltinConfig", "RealtimeCustomConfig", "RealtimeConfig"]


class RealtimeConfig(ModelDeploymentConfig):
    """Fields shared by the two realtime types."""

    data_capture_location: Staged(S3Location, "S3Location")
    endpoint_name: Annotated[Staged(EndpointName, "EndpointName") | None, EmptyAsNone] = None

    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ("data_capture_location",)


class RealtimeBuiltinConfig(BuiltinImageFields, RealtimeConfig):
    """byom_realtime_builtin: a builtin-algorithm model (e.g. xgboost 1.7-1) on a realtime endpoint."""

    pipeline_type: Literal["byom_realtime_builtin"]

    MODEL_FIELDS: ClassVar[tuple[str, ...]] = (
        "model_artifact_location",
        "model_framework",
        "model_framework_version",
    )
    STACK_SUFFIX: ClassVar[str] = "BYOMPipelineRealtimeBuiltIn"


class RealtimeCustomConfig(CustomImageFields, RealtimeConfig):
    """byom_realtime_custom: a model served by a custom ECR image on a realtime endpoint."""

    pipeline_type: Literal["byom_realtime_custom"]

    MODEL_FIELDS: ClassVar[tuple[str, ...]] = ("model_artifact_location", "custom_image_uri")
    STACK_SUFFIX: ClassVar[str] = "BYOMPipelineRealtimeCustom"
