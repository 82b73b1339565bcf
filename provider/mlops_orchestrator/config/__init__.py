"""Typed pipeline configs: the 12 MWO pipeline types, loading from YAML/JSON, defaults, problems.

A config file's top level is an MWO request payload (it validates unchanged) plus our optional
additions (DAG settings, orchestrator settings, VPC). Nothing here imports Airflow, boto3 or the
SageMaker SDK: this runs at every DAG-folder parse.

Entry points: :func:`load_config` (one file -> model, or ConfigError with every problem),
:func:`validate_paths` (files/folders -> problems), :func:`iter_config_files`,
:func:`config_json_schema`, :data:`PIPELINE_MODELS`.
"""

from __future__ import annotations

from .base import PipelineConfig, dag_id_for
from .defaults import (
    ENV_PREFIX,
    OrchestratorDefaults,
    clear_defaults_cache,
    find_defaults_files,
    load_defaults,
    settings_environ,
)
from .errors import ConfigError, Problem
from .files import DEFAULTS_FILE_NAMES, iter_config_files, read_config_file
from .loading import load_config, validate_paths
from .registry import PIPELINE_MODELS, PIPELINE_TYPES, config_json_schema

__all__ = [
    "DEFAULTS_FILE_NAMES",
    "ENV_PREFIX",
    "PIPELINE_MODELS",
    "PIPELINE_TYPES",
    "ConfigError",
    "OrchestratorDefaults",
    "PipelineConfig",
    "Problem",
    "clear_defaults_cache",
    "config_json_schema",
    "dag_id_for",
    "find_defaults_files",
    "iter_config_files",
    "load_config",
    "load_defaults",
    "read_config_file",
    "settings_environ",
    "validate_paths",
]
