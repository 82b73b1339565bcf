"""Training pipelines: model_training_builtin, model_tuner_builtin, model_autopilot_training.

MWO's defaults are kept (ml.m4.xlarge, spot instances on, 86400 s per job, ...). MWO's
misspelt keys ``algo_hyperparamaters`` and ``hyperparamaters_ranges`` are accepted beside the
correct spelling; giving both spellings is an error.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field, WithJsonSchema

from .base import PipelineConfig, StagedKmsKeyArn, given
from .common import (
    STRICT,
    AssetsKey,
    AutoMLJobName,
    EmptyAsNone,
    FrameworkName,
    FrameworkVersion,
    InstanceType,
    IntRange,
    JsonObjectInput,
    LaxBool,
    NonEmptyStr,
    ProblemType,
    SageMakerName,
    Scalar,
    Stripped,
)
from .errors import custom_error, did_you_mean, short

__all__ = [
    "AutopilotTrainingConfig",
    "HyperparameterRange",
    "MetricDefinition",
    "TrainingBuiltinConfig",
    "TrainingJobConfig",
    "TunerBuiltinConfig",
    "TunerConfig",
]


def _legacy_schema(canonical: str, legacy: str):
    """Show MWO's misspelt key in the JSON Schema too, so editors accept MWO payloads."""

    def extra(schema: dict[str, Any]) -> None:
        props = schema.get("properties", {})
        if canonical in props:
            props[legacy] = {
                **props[canonical],
                "deprecated": True,
                "description": f"MWO's spelling of {canonical}",
            }
            required = schema.get("required", [])
            if canonical in required:
                required.remove(canonical)
                schema.setdefault("allOf", []).append(
                    {"anyOf": [{"required": [canonical]}, {"required": [legacy]}]}
                )

    return extra


def _combine(*extras):
    def extra(schema: dict[str, Any]) -> None:
        for fn in extras:
            fn(schema)

    return extra


Hyperparameters = Annotated[
    dict[str, Scalar],
    WithJsonSchema(
        {"type": "object", "additionalProperties": {"type": ["string", "number", "integer", "boolean"]}}
    ),
    JsonObjectInput,
]


class TrainingJobConfig(PipelineConfig):
    """What one SageMaker training job with a builtin algorithm needs (training and tuner)."""

    model_name: SageMakerName
    training_data: AssetsKey
    job_output_location: AssetsKey
    model_framework: FrameworkName
    model_framework_version: FrameworkVersion
    algo_hyperparameters: Hyperparameters = Field(
        validation_alias=AliasChoices("algo_hyperparameters", "algo_hyperparamaters"),
        description="hyperparameters of the algorithm (MWO: algo_hyperparamaters)",
    )
    job_name: Annotated[SageMakerName | None, EmptyAsNone] = None
    instance_type: InstanceType = "ml.m4.xlarge"
    instance_count: IntRange(1) = 1
    instance_volume_size: IntRange(1, 16384) = 20
    validation_data: Annotated[AssetsKey | None, EmptyAsNone] = None
    encrypt_inner_traffic: LaxBool = True
    max_runtime_per_job: IntRange(600, 259200) = 86400
    use_spot_instances: LaxBool = True
    max_wait_time_spot_instances: IntRange(1, 259200) = 172800
    content_type: NonEmptyStr = "csv"
    s3_data_type: Annotated[Literal["S3Prefix", "ManifestFile", "AugmentedManifestFile"], Stripped] = (
        "S3Prefix"
    )
    data_distribution: Annotated[Literal["FullyReplicated", "ShardedByS3Key"], Stripped] = "FullyReplicated"
    compression_type: Annotated[Literal["Gzip"] | None, EmptyAsNone] = None
    data_input_mode: Annotated[Literal["File", "Pipe", "FastFile"], Stripped] = "File"
    data_record_wrapping: Annotated[Literal["RecordIO"] | None, EmptyAsNone] = None
    attribute_names: Annotated[list[NonEmptyStr] | None, EmptyAsNone, JsonObjectInput] = None
    kms_key_arn: Annotated[StagedKmsKeyArn | None, EmptyAsNone] = None

    ASSETS_KEY_FIELDS: ClassVar[tuple[str, ...]] = ("training_data", "validation_data", "job_output_location")
    LEGACY_ALIASES: ClassVar[dict[str, str]] = {"algo_hyperparameters": "algo_hyperparamaters"}

    def cross_field_problems(self) -> list[tuple[str, str]]:
        problems = super().cross_field_problems()
        if self.use_spot_instances and self.max_wait_time_spot_instances < self.max_runtime_per_job:
            problems.append(
                (
                    "max_wait_time_spot_instances",
                    f"must be at least max_runtime_per_job ({self.max_runtime_per_job}) when use_spot_instances "
                    f"is true, got {self.max_wait_time_spot_instances}",
                )
            )
        if self.attribute_names and self.s3_data_type != "AugmentedManifestFile":
            problems.append(("attribute_names", "only used when s3_data_type is AugmentedManifestFile"))
        return problems


class TrainingBuiltinConfig(TrainingJobConfig):
    """model_training_builtin: one training job with a builtin algorithm."""

    model_config = {
        **STRICT,
        "json_schema_extra": _legacy_schema("algo_hyperparameters", "algo_hyperparamaters"),
    }

    pipeline_type: Literal["model_training_builtin"]

    STACK_SUFFIX: ClassVar[str] = "ModelTraining"


# --------------------------------------------------------------------------------------------
# hyperparameter tuning
# --------------------------------------------------------------------------------------------

_KINDS = ("continuous", "integer", "categorical")
_SCALING = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
_RANGE_EXAMPLE = 'expected [KIND, VALUES] like ["continuous", [0.1, 0.5]], ["integer", [1, 15]] or ["categorical", ["a", "b"]]'


def _number(value: Any, integer: bool) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        if integer:
            return int(value) if float(value).is_integer() else None
        return value
    return None


def _parse_range(value: Any) -> Any:
    """MWO's ``[kind, values]`` list -> a HyperparameterRange mapping, with messages per mistake."""
    if isinstance(value, dict | HyperparameterRange):
        return value
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise custom_error("hyperparameter_range", f"{_RANGE_EXAMPLE}, got {short(value)}")
    kind, values = value
    if kind not in _KINDS:
        suggestion = did_you_mean(kind, _KINDS)
        hint = f"; did you mean '{suggestion}'?" if suggestion else f" (expected {', '.join(_KINDS)})"
        raise custom_error("hyperparameter_range", f"unknown range kind {short(kind)}{hint}")
    if not isinstance(values, list | tuple) or not values:
        raise custom_error("hyperparameter_range", f"{_RANGE_EXAMPLE}, got {short(value)}")
    if kind == "categorical":
        if len(values) > 30:
            raise custom_error(
                "hyperparameter_range", f"categorical ranges take at most 30 values, got {len(values)}"
            )
        if not all(isinstance(v, str | int | float) for v in values):
            raise custom_error(
                "hyperparameter_range", f"categorical values must be strings or numbers, got {short(values)}"
            )
        return {"kind": kind, "values": list(values)}
    integer = kind == "integer"
    word = "whole numbers" if integer else "numbers"
    if len(values) not in (2, 3):
        raise custom_error(
            "hyperparameter_range",
            f"{kind} range expects [min, max] or [min, max, scaling], got {short(values)}",
        )
    low, high = _number(values[0], integer), _number(values[1], integer)
    if low is None or high is None:
        raise custom_error(
            "hyperparameter_range", f"{kind} range expects min and max as {word}, got {short(values)}"
        )
    if low >= high:
        raise custom_error(
            "hyperparameter_range", f"{kind} range min must be less than max, got {short(values)}"
        )
    scaling = values[2] if len(values) == 3 else None
    if scaling is not None and scaling not in _SCALING:
        raise custom_error(
            "hyperparameter_range", f"scaling must be one of {', '.join(_SCALING)}, got {short(scaling)}"
        )
    if scaling in ("Logarithmic", "ReverseLogarithmic") and low <= 0:
        raise custom_error("hyperparameter_range", f"{scaling} scaling needs min > 0, got {low}")
    return {"kind": kind, "min_value": low, "max_value": high, "scaling_type": scaling}


class HyperparameterRange(BaseModel):
    """One tunable hyperparameter; written in a config as MWO did: ``["continuous", [0.1, 0.5]]``."""

    model_config = STRICT

    kind: Literal["continuous", "integer", "categorical"]
    min_value: float | None = None
    max_value: float | None = None
    scaling_type: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] | None = None
    values: list[Scalar] | None = None

    def as_mwo(self) -> list[Any]:
        """Back to MWO's list form (what SageMaker SDK parameter classes take as arguments)."""
        if self.kind == "categorical":
            return [self.kind, list(self.values or [])]
        low, high = self.min_value, self.max_value
        if self.kind == "integer":
            low, high = int(low), int(high)  # type: ignore[arg-type]
        bounds: list[Any] = [low, high] + ([self.scaling_type] if self.scaling_type else [])
        return [self.kind, bounds]


RangeInput = Annotated[
    HyperparameterRange,
    BeforeValidator(_parse_range),
    WithJsonSchema(
        {
            "type": "array",
            "description": '["continuous"|"integer", [min, max(, scaling)]] or ["categorical", [values...]]',
            "prefixItems": [{"enum": list(_KINDS)}, {"type": "array"}],
            "minItems": 2,
            "maxItems": 2,
        }
    ),
]


class MetricDefinition(BaseModel):
    """A metric the tuner reads from the training logs (custom algorithms)."""

    model_config = STRICT

    Name: NonEmptyStr
    Regex: NonEmptyStr


class TunerConfig(BaseModel):
    """Arguments of the SageMaker SDK's HyperparameterTuner, as MWO passed them through."""

    model_config = STRICT

    objective_metric_name: NonEmptyStr
    objective_type: Annotated[Literal["Maximize", "Minimize"], Stripped] = "Maximize"
    strategy: Annotated[Literal["Bayesian", "Random", "Hyperband", "Grid"], Stripped] = "Bayesian"
    max_jobs: IntRange(1) = 1
    max_parallel_jobs: IntRange(1) = 1
    early_stopping_type: Annotated[Literal["Off", "Auto"], Stripped] = "Off"
    metric_definitions: list[MetricDefinition] | None = None
    base_tuning_job_name: NonEmptyStr | None = None
    max_runtime_in_seconds: IntRange(120) | None = None
    random_seed: int | None = None


class TunerBuiltinConfig(TrainingJobConfig):
    """model_tuner_builtin: a hyperparameter tuning job over a builtin algorithm."""

    model_config = {
        **STRICT,
        "json_schema_extra": _combine(
            _legacy_schema("algo_hyperparameters", "algo_hyperparamaters"),
            _legacy_schema("hyperparameters_ranges", "hyperparamaters_ranges"),
        ),
    }

    pipeline_type: Literal["model_tuner_builtin"]
    tuner_configs: Annotated[TunerConfig, JsonObjectInput]
    hyperparameters_ranges: Annotated[dict[str, RangeInput], JsonObjectInput, Field(min_length=1)] = Field(
        validation_alias=AliasChoices("hyperparameters_ranges", "hyperparamaters_ranges"),
        description="ranges to search (MWO: hyperparamaters_ranges)",
    )

    LEGACY_ALIASES: ClassVar[dict[str, str]] = {
        "algo_hyperparameters": "algo_hyperparamaters",
        "hyperparameters_ranges": "hyperparamaters_ranges",
    }
    STACK_SUFFIX: ClassVar[str] = "TunerTraining"

    def cross_field_problems(self) -> list[tuple[str, str]]:
        problems = super().cross_field_problems()
        tuner = self.tuner_configs
        if tuner.max_parallel_jobs > tuner.max_jobs:
            problems.append(
                (
                    "tuner_configs.max_parallel_jobs",
                    f"must not exceed max_jobs ({tuner.max_jobs}), got {tuner.max_parallel_jobs}",
                )
            )
        if tuner.strategy == "Grid":
            for name, rng in self.hyperparameters_ranges.items():
                if rng.kind != "categorical":
                    problems.append(
                        (f"hyperparameters_ranges.{name}", "the Grid strategy takes only categorical ranges")
                    )
        if tuner.strategy == "Hyperband" and tuner.early_stopping_type != "Off":
            problems.append(("tuner_configs.early_stopping_type", "must be Off with the Hyperband strategy"))
        return problems


# --------------------------------------------------------------------------------------------
# Autopilot
# --------------------------------------------------------------------------------------------

#: objective metric -> problem types it fits (SageMaker AutoML objective metrics)
OBJECTIVES: dict[str, tuple[str, ...]] = {
    "Accuracy": ("BinaryClassification", "MulticlassClassification"),
    "AUC": ("BinaryClassification",),
    "BalancedAccuracy": ("BinaryClassification", "MulticlassClassification"),
    "F1": ("BinaryClassification",),
    "F1macro": ("MulticlassClassification",),
    "LogLoss": ("BinaryClassification", "MulticlassClassification"),
    "Precision": ("BinaryClassification",),
    "PrecisionMacro": ("MulticlassClassification",),
    "Recall": ("BinaryClassification",),
    "RecallMacro": ("MulticlassClassification",),
    "MSE": ("Regression",),
    "RMSE": ("Regression",),
    "MAE": ("Regression",),
    "R2": ("Regression",),
    "InferenceLatency": ("Regression", "BinaryClassification", "MulticlassClassification"),
}

JobObjective = Literal[
    "Accuracy",
    "MSE",
    "F1",
    "F1macro",
    "AUC",
    "BalancedAccuracy",
    "LogLoss",
    "Precision",
    "PrecisionMacro",
    "Recall",
    "RecallMacro",
    "RMSE",
    "MAE",
    "R2",
    "InferenceLatency",
]


class AutopilotTrainingConfig(PipelineConfig):
    """model_autopilot_training: a SageMaker Autopilot (AutoML) job on a CSV dataset."""

    pipeline_type: Literal["model_autopilot_training"]
    model_name: SageMakerName
    training_data: AssetsKey
    job_output_location: AssetsKey
    target_attribute: NonEmptyStr
    problem_type: Annotated[ProblemType | None, EmptyAsNone, Stripped] = None
    job_objective: Annotated[JobObjective | None, EmptyAsNone, Stripped] = None
    compression_type: Annotated[Literal["Gzip"] | None, EmptyAsNone] = None
    job_max_candidates: IntRange(1) = 10
    encrypt_inner_traffic: LaxBool = True
    max_runtime_per_job: IntRange(600, 259200) = 86400
    total_max_runtime: IntRange(3600, 2592000) = 2592000
    generate_definition_only: LaxBool = False
    job_name: Annotated[AutoMLJobName | None, EmptyAsNone] = None
    kms_key_arn: Annotated[StagedKmsKeyArn | None, EmptyAsNone] = None

    ASSETS_KEY_FIELDS: ClassVar[tuple[str, ...]] = ("training_data", "job_output_location")
    STACK_SUFFIX: ClassVar[str] = "AutopilotTraining"

    @classmethod
    def input_problems(cls, data):
        problems = super().input_problems(data)
        if given(data, "problem_type") and not given(data, "job_objective"):
            problems.append(("job_objective", "required when problem_type is given (give both or neither)"))
        if given(data, "job_objective") and not given(data, "problem_type"):
            problems.append(("problem_type", "required when job_objective is given (give both or neither)"))
        return problems

    def cross_field_problems(self) -> list[tuple[str, str]]:
        problems = super().cross_field_problems()
        if (
            self.problem_type
            and self.job_objective
            and self.problem_type not in OBJECTIVES[self.job_objective]
        ):
            fits = [name for name, types in OBJECTIVES.items() if self.problem_type in types]
            problems.append(
                (
                    "job_objective",
                    f"{self.job_objective} does not fit problem_type {self.problem_type} "
                    f"(use one of {', '.join(fits)})",
                )
            )
        if self.max_runtime_per_job > self.total_max_runtime:
            problems.append(
                ("max_runtime_per_job", f"must not exceed total_max_runtime ({self.total_max_runtime})")
            )
        return problems
