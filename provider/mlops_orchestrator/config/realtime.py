"""Realtime inference pipelines: byom_realtime_builtin and byom_realtime_custom.

A SageMaker model behind an endpoint with data capture (what the monitors read). MWO's fields,
with per-stage values allowed where MWO's multi-account mode allowed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from .base import BuiltinImageFields, CustomImageFields, ModelDeploymentConfig, given, lax_bool
from .common import DagId, EmptyAsNone, EndpointName, LaxBool, S3Location, Staged

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
    custom_image_from: Annotated[DagId | None, EmptyAsNone] = Field(
        None,
        description="DAG id of a byom_image_builder pipeline: deploy the image it published last "
        "(instead of custom_image_uri)",
    )
    deploy_on_new_image: LaxBool = Field(
        False,
        description="with custom_image_from: run this DAG (deploy) each time that image builder publishes "
        "an image (an Airflow asset schedule; schedule must then be null)",
    )

    MODEL_FIELDS: ClassVar[tuple[str, ...]] = ("model_artifact_location", "custom_image_uri")
    STACK_SUFFIX: ClassVar[str] = "BYOMPipelineRealtimeCustom"

    @classmethod
    def input_problems(cls, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The image comes from exactly one of custom_image_uri, custom_image_from, model_package_name."""
        problems = super().input_problems(data)
        uri_required = ("custom_image_uri", "field required (unless model_package_name is given)")
        if uri_required in problems:
            message = "field required (unless custom_image_from or model_package_name is given)"
            problems[problems.index(uri_required)] = ("custom_image_uri", message)
        if given(data, "custom_image_from"):
            problems = [p for p in problems if p[0] != "custom_image_uri" or not p[1].startswith("field required")]
            if given(data, "custom_image_uri"):
                problems.append(("custom_image_from", "give either custom_image_uri or custom_image_from, not both"))
            if given(data, "model_package_name"):
                problems.append(
                    ("custom_image_from", "not allowed together with model_package_name (the model package supplies it)")
                )
        if lax_bool(data.get("deploy_on_new_image")):
            if not given(data, "custom_image_from"):
                problems.append(
                    ("deploy_on_new_image", "needs custom_image_from (the image builder whose images to deploy)")
                )
            if given(data, "schedule"):
                problems.append(
                    ("schedule", "must be null with deploy_on_new_image (new images of custom_image_from start the DAG)")
                )
        return problems
