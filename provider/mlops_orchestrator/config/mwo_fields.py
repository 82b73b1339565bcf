"""Which top-level keys MWO read for which pipeline type, and what a config's foreign keys are.

MWO read the keys of the request's own pipeline type and ignored the rest, so teams kept one
payload template for several pipelines (a training payload carrying ``tuner_configs``, a bias
monitor payload carrying ``baseline_inference_attribute``). Such a key is accepted here with a
warning and not validated. A key that is no MWO field of any type stays an error (a typo must be
caught), and so does one of our own additions that belongs to another type: no MWO payload
carries it, and a setting that silently does nothing hides a mistake.

The table is MWO v2.2.3's, read from its request handling (see
``shared/reference/mwo-pipeline-reference.md``); MWO's misspelt keys are listed with our
spelling of them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import PipelineConfig

__all__ = ["MWO_FIELDS", "foreign_keys", "foreign_mwo_keys", "mwo_types_using"]

_DEPLOYMENT = ("pipeline_type", "model_name", "inference_instance", "model_artifact_location",
               "model_package_name", "kms_key_arn")
_BUILTIN = ("model_framework", "model_framework_version")
_REALTIME = ("data_capture_location", "endpoint_name")
_BATCH = ("batch_inference_data", "batch_job_output_location")
_MONITOR = ("pipeline_type", "model_name", "endpoint_name", "baseline_data", "baseline_job_output_location",
            "data_capture_location", "monitoring_output_location", "schedule_expression",
            "monitor_max_runtime_seconds", "instance_type", "instance_volume_size",
            "baseline_max_runtime_seconds", "kms_key_arn")
# MWO passed these four to all three model monitors' templates
_MODEL_MONITOR = ("problem_type", "monitor_inference_attribute", "monitor_probability_attribute",
                  "probability_threshold_attribute")
_TRAINING = ("pipeline_type", "model_name", "training_data", "job_output_location", "model_framework",
             "model_framework_version", "algo_hyperparamaters", "algo_hyperparameters", "job_name",
             "instance_type", "instance_count", "instance_volume_size", "validation_data",
             "encrypt_inner_traffic", "max_runtime_per_job", "use_spot_instances",
             "max_wait_time_spot_instances", "content_type", "s3_data_type", "data_distribution",
             "compression_type", "data_input_mode", "data_record_wrapping", "attribute_names", "kms_key_arn")

#: pipeline_type -> the top-level keys MWO read for it
MWO_FIELDS: dict[str, frozenset[str]] = {
    "byom_realtime_builtin": frozenset((*_DEPLOYMENT, *_BUILTIN, *_REALTIME)),
    "byom_realtime_custom": frozenset((*_DEPLOYMENT, "custom_image_uri", *_REALTIME)),
    "byom_batch_builtin": frozenset((*_DEPLOYMENT, *_BUILTIN, *_BATCH)),
    "byom_batch_custom": frozenset((*_DEPLOYMENT, "custom_image_uri", *_BATCH)),
    "byom_data_quality_monitor": frozenset(_MONITOR),
    "byom_model_quality_monitor": frozenset((
        *_MONITOR, *_MODEL_MONITOR, "baseline_inference_attribute", "baseline_ground_truth_attribute",
        "baseline_probability_attribute", "monitor_ground_truth_input",
    )),
    "byom_model_bias_monitor": frozenset((
        *_MONITOR, *_MODEL_MONITOR, "monitor_ground_truth_input", "bias_config", "model_predicted_label_config",
        "features_attribute",
    )),
    "byom_model_explainability_monitor": frozenset((
        *_MONITOR, *_MODEL_MONITOR, "shap_config", "model_scores", "features_attribute",
    )),
    "byom_image_builder": frozenset(("pipeline_type", "custom_algorithm_docker", "ecr_repo_name", "image_tag")),
    "model_training_builtin": frozenset(_TRAINING),
    "model_tuner_builtin": frozenset((
        *_TRAINING, "tuner_configs", "hyperparamaters_ranges", "hyperparameters_ranges",
    )),
    "model_autopilot_training": frozenset((
        "pipeline_type", "model_name", "training_data", "job_output_location", "target_attribute",
        "problem_type", "job_objective", "compression_type", "job_max_candidates", "encrypt_inner_traffic",
        "max_runtime_per_job", "total_max_runtime", "generate_definition_only", "job_name", "kms_key_arn",
    )),
}


def mwo_types_using(key: str) -> list[str]:
    """The pipeline types whose MWO payload has ``key``, in the usual order."""
    return [pipeline_type for pipeline_type, keys in MWO_FIELDS.items() if key in keys]


def accepted_names(model: type[PipelineConfig]) -> frozenset[str]:
    """Every top-level key ``model`` reads: its field names and their aliases (legacy spellings)."""
    return _accepted_names(model)


@functools.cache
def _accepted_names(model: type[PipelineConfig]) -> frozenset[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif alias is not None and hasattr(alias, "choices"):
            names.update(c for c in alias.choices if isinstance(c, str))
    return frozenset(names)


@functools.cache
def foreign_mwo_keys(model: type[PipelineConfig]) -> dict[str, tuple[str, ...]]:
    """MWO keys of other pipeline types that ``model`` does not read -> the types that read them."""
    own = accepted_names(model)
    every = sorted(set().union(*MWO_FIELDS.values()) - own)
    return {key: tuple(mwo_types_using(key)) for key in every}


@functools.cache
def _our_keys_elsewhere(model: type[PipelineConfig]) -> dict[str, tuple[str, ...]]:
    """Our own additions that other pipeline types read and ``model`` does not -> those types."""
    from .registry import PIPELINE_MODELS  # the registry imports the models, so not at import time

    own = accepted_names(model)
    mwo = set().union(*MWO_FIELDS.values())
    users: dict[str, list[str]] = {}
    for pipeline_type, other in PIPELINE_MODELS.items():
        for key in accepted_names(other) - own - mwo:
            users.setdefault(key, []).append(pipeline_type)
    return {key: tuple(types) for key, types in users.items()}


def foreign_keys(model: type[PipelineConfig], keys: Iterable[str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Sort the keys ``model`` does not read into ignored MWO keys and misplaced additions of ours.

    Returns {key: warning message} for MWO keys of other types and [(key, error message)] for
    our additions that belong to other types. Keys that are neither are left to pydantic
    (unknown field, with a "did you mean").
    """
    own = accepted_names(model)
    unread = [key for key in keys if key not in own]
    if not unread:
        return {}, []
    mwo = foreign_mwo_keys(model)
    ours = None
    ignored: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    for key in unread:
        if key in mwo:
            ignored[key] = f"ignored: used by {', '.join(mwo[key])}"
            continue
        if ours is None:
            ours = _our_keys_elsewhere(model)
        if key in ours:
            errors.append((key, f"not a setting of {_type_of(model)} (only of {', '.join(ours[key])}); remove it"))
    return ignored, errors


def _type_of(model: type[PipelineConfig]) -> str:
    annotation = model.model_fields["pipeline_type"].annotation
    args = getattr(annotation, "__args__", ())
    return args[0] if args else model.__name__

