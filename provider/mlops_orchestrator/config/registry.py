"""pipeline_type -> model class, and the JSON Schema of a config (a union on pipeline_type)."""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from .base import PipelineConfig
from .batch import BatchBuiltinConfig, BatchCustomConfig
from .image_builder import ImageBuilderConfig
from .monitors import (
    DataQualityMonitorConfig,
    ModelBiasMonitorConfig,
    ModelExplainabilityMonitorConfig,
    ModelQualityMonitorConfig,
)
from .realtime import RealtimeBuiltinConfig, RealtimeCustomConfig
from .training import AutopilotTrainingConfig, TrainingBuiltinConfig, TunerBuiltinConfig

__all__ = ["PIPELINE_MODELS", "PIPELINE_TYPES", "config_json_schema"]

PIPELINE_MODELS: dict[str, type[PipelineConfig]] = {
    "byom_realtime_builtin": RealtimeBuiltinConfig,
    "byom_realtime_custom": RealtimeCustomConfig,
    "byom_batch_builtin": BatchBuiltinConfig,
    "byom_batch_custom": BatchCustomConfig,
    "byom_data_quality_monitor": DataQualityMonitorConfig,
    "byom_model_quality_monitor": ModelQualityMonitorConfig,
    "byom_model_bias_monitor": ModelBiasMonitorConfig,
    "byom_model_explainability_monitor": ModelExplainabilityMonitorConfig,
    "byom_image_builder": ImageBuilderConfig,
    "model_training_builtin": TrainingBuiltinConfig,
    "model_tuner_builtin": TunerBuiltinConfig,
    "model_autopilot_training": AutopilotTrainingConfig,
}

PIPELINE_TYPES: tuple[str, ...] = tuple(PIPELINE_MODELS)


@functools.cache
def _union_adapter() -> TypeAdapter:
    # Built on first use: only `mlops-orchestrator schema` and editors need it, not DAG parsing.
    models = tuple(PIPELINE_MODELS.values())
    union = Annotated[functools.reduce(operator.or_, models), Field(discriminator="pipeline_type")]
    return TypeAdapter(union)


def config_json_schema() -> dict[str, Any]:
    """JSON Schema of a pipeline config: one schema per pipeline type, chosen by ``pipeline_type``."""
    schema = _union_adapter().json_schema()
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema.setdefault("title", "MLOps Orchestrator pipeline config")
    return schema
