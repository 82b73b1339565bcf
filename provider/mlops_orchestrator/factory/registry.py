"""Which builder turns a pipeline type into a DAG.

A builder is a function ``build(config, context) -> DAG``. Builders are named here as import
paths and imported on first use, so parsing a folder of realtime configs never imports the
training builder. A new pipeline family plugs in by adding its module and a line here; the
loader does not change.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

Builder = Callable[["PipelineConfig", "BuildContext"], "DAG"]

#: pipeline_type -> "module:function" of its builder.
BUILDERS: dict[str, str] = {
    "byom_realtime_builtin": "mlops_orchestrator.factory.realtime:build_realtime_dag",
    "byom_realtime_custom": "mlops_orchestrator.factory.realtime:build_realtime_dag",
    "byom_batch_builtin": "mlops_orchestrator.factory.batch:build_batch_dag",
    "byom_batch_custom": "mlops_orchestrator.factory.batch:build_batch_dag",
    "byom_image_builder": "mlops_orchestrator.factory.image_builder:build_image_builder_dag",
    "model_training_builtin": "mlops_orchestrator.factory.training:build_training_dag",
    "model_tuner_builtin": "mlops_orchestrator.factory.training:build_training_dag",
    "model_autopilot_training": "mlops_orchestrator.factory.training:build_training_dag",
    "byom_data_quality_monitor": "mlops_orchestrator.factory.monitors:build_monitor_dag",
    "byom_model_quality_monitor": "mlops_orchestrator.factory.monitors:build_monitor_dag",
    "byom_model_bias_monitor": "mlops_orchestrator.factory.monitors:build_monitor_dag",
    "byom_model_explainability_monitor": "mlops_orchestrator.factory.monitors:build_monitor_dag",
}

#: Pipeline types that validate but whose builder is still to come, with where it is tracked.
PLANNED: dict[str, str] = {}

_loaded: dict[str, Builder] = {}


class NoBuilderError(LookupError):
    """A valid pipeline type that this version cannot build yet."""


def require_buildable(pipeline_type: str) -> str:
    """The builder's import path; NoBuilderError says why there is none (imports nothing)."""
    target = BUILDERS.get(pipeline_type)
    if target is None:
        planned = PLANNED.get(pipeline_type)
        detail = f" It is planned with {planned}." if planned else ""
        raise NoBuilderError(
            f"pipeline_type {pipeline_type!r} is valid, but this version of "
            f"airflow-provider-mlops-orchestrator has no DAG builder for it yet.{detail}"
        )
    return target


def builder_for(pipeline_type: str) -> Builder:
    """The builder of a pipeline type (imported on first use); NoBuilderError when there is none."""
    if pipeline_type in _loaded:
        return _loaded[pipeline_type]
    module_name, _, function_name = require_buildable(pipeline_type).partition(":")
    builder = getattr(importlib.import_module(module_name), function_name)
    _loaded[pipeline_type] = builder
    return builder


def buildable_types() -> list[str]:
    """Pipeline types this version turns into DAGs."""
    return sorted(BUILDERS)
