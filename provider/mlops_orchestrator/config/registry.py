"""pipeline_type -> model class, and the JSON Schema of a config (a union on pipeline_type)."""

from __future__ import annotations

import functools
import importlib
import operator
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from .base import PipelineConfig

__all__ = ["PIPELINE_MODELS", "PIPELINE_TYPES", "config_json_schema"]

#: pipeline_type -> (module of this package, model class); a family's module is imported when one
#: of its types is first looked up: every running task parses its DAG file, and importing all
#: twelve models (the monitors' and training's are the largest) cost it about a third of its parse.
_MODELS: dict[str, tuple[str, str]] = {
    "byom_realtime_builtin": ("realtime", "RealtimeBuiltinConfig"),
    "byom_realtime_custom": ("realtime", "RealtimeCustomConfig"),
    "byom_batch_builtin": ("batch", "BatchBuiltinConfig"),
    "byom_batch_custom": ("batch", "BatchCustomConfig"),
    "byom_data_quality_monitor": ("monitors", "DataQualityMonitorConfig"),
    "byom_model_quality_monitor": ("monitors", "ModelQualityMonitorConfig"),
    "byom_model_bias_monitor": ("monitors", "ModelBiasMonitorConfig"),
    "byom_model_explainability_monitor": ("monitors", "ModelExplainabilityMonitorConfig"),
    "byom_image_builder": ("image_builder", "ImageBuilderConfig"),
    "model_training_builtin": ("training", "TrainingBuiltinConfig"),
    "model_tuner_builtin": ("training", "TunerBuiltinConfig"),
    "model_autopilot_training": ("training", "AutopilotTrainingConfig"),
}


class _PipelineModels(Mapping[str, "type[PipelineConfig]"]):
    """pipeline_type -> model class, a read-only mapping that imports each family on first use."""

    def __getitem__(self, pipeline_type: str) -> type[PipelineConfig]:
        module, name = _MODELS[pipeline_type]
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)

    def __iter__(self) -> Iterator[str]:
        return iter(_MODELS)

    def __len__(self) -> int:
        return len(_MODELS)

    def __contains__(self, pipeline_type: object) -> bool:
        return pipeline_type in _MODELS


PIPELINE_MODELS: Mapping[str, type[PipelineConfig]] = _PipelineModels()

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
