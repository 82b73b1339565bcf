"""Training pipelines: model_training_builtin, model_tuner_builtin, model_autopilot_training.

MWO's defaults are kept (ml.m4.xlarge, spot instances on, 86400 s per job, ...). MWO's
misspelt keys ``algo_hyperparamaters`` and ``hyperparamaters_ranges`` are accepted beside the
correct spelling; giving both spellings is an error.

Our additions turn training into one governed flow (MWO stopped at an artifact): the model is
registered in a model package group (``model_package_group_name``, or ``use_model_registry``),
approved by a person, automatically, or by a metric threshold, and optionally deployed by a
``deploy`` section (a realtime endpoint or a batch transform of the approved version).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    model_validator,
)

from mlops_orchestrator.model_cards.request import AdditionalInformation as _CardAdditionalInformation
from mlops_orchestrator.model_cards.request import IntendedUses as _CardIntendedUses

from .base import PipelineConfig, StagedInstanceType, StagedKmsKeyArn, given, lax_bool, raw_str
from .batch import MimeType
from .common import (
    STRICT,
    AssetsKey,
    AutoMLJobName,
    EmptyAsNone,
    EndpointName,
    FrameworkName,
    FrameworkVersion,
    InstanceType,
    IntRange,
    JsonObjectInput,
    LaxBool,
    NonEmptyStr,
    Number,
    ProblemType,
    S3Location,
    SageMakerName,
    Scalar,
    StackName,
    Staged,
    StageValues,
    Stripped,
)
from .errors import custom_error, did_you_mean, short

__all__ = [
    "ApprovalThreshold",
    "AutopilotTrainingConfig",
    "BatchDeployment",
    "HyperparameterRange",
    "MetricDefinition",
    "RealtimeDeployment",
    "TrainingBuiltinConfig",
    "TrainingJobConfig",
    "TrainingPipelineConfig",
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


# --------------------------------------------------------------------------------------------
# model registry, approval and deployment (our additions, shared by the three training types)
# --------------------------------------------------------------------------------------------


class ApprovalThreshold(BaseModel):
    """Approve the registered version when a metric of the job is within bounds, reject it otherwise.

    ``metric`` is a metric the job reports (``validation:auc``), or ``objective`` for the tuning
    or Autopilot objective. ``min`` suits scores (AUC, accuracy), ``max`` losses (RMSE).
    """

    model_config = STRICT

    metric: NonEmptyStr
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ApprovalThreshold:
        if self.min is None and self.max is None:
            raise ValueError("give min (for a score like validation:auc) or max (for a loss like validation:rmse)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not be greater than max ({self.max})")
        return self

    def describe(self) -> str:
        """``validation:auc >= 0.8`` (what the approval description quotes)."""
        bounds = [f">= {self.min}"] if self.min is not None else []
        bounds += [f"<= {self.max}"] if self.max is not None else []
        return f"{self.metric} {' and '.join(bounds)}"


class _Deployment(BaseModel):
    """What both deployments of a trained model take; the model source is the approved package."""

    model_config = STRICT

    type: str
    inference_instance: StagedInstanceType
    kms_key_arn: Annotated[StagedKmsKeyArn | None, EmptyAsNone] = Field(
        None, description="KMS key of the deployment; default: the training's kms_key_arn"
    )
    stack_name: StackName | None = Field(
        None, description="stack of the deployment; default: the training stack's name + -realtime/-batch"
    )


class RealtimeDeployment(_Deployment):
    """``deploy: {type: realtime, ...}``: the byom_realtime_* deploy-time fields."""

    type: Literal["realtime"]
    data_capture_location: Staged(S3Location, "S3Location")
    endpoint_name: Annotated[Staged(EndpointName, "EndpointName") | None, EmptyAsNone] = None

    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ("data_capture_location",)


class BatchDeployment(_Deployment):
    """``deploy: {type: batch, ...}``: the byom_batch_* deploy-time fields."""

    type: Literal["batch"]
    batch_inference_data: Staged(S3Location, "S3Location")
    batch_job_output_location: Staged(S3Location, "S3Location")
    content_type: MimeType = "text/csv"
    accept: Annotated[MimeType | None, EmptyAsNone] = None
    split_type: Annotated[Literal["Line", "RecordIO", "TFRecord", "None"], Stripped] = "Line"
    assemble_with: Annotated[Literal["Line", "None"], Stripped] = "Line"
    instance_count: IntRange(1, 100) = 1

    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ("batch_inference_data", "batch_job_output_location")


_DEPLOY_TYPES = ("realtime", "batch")
_DEPLOY_MODELS: dict[str, type[_Deployment]] = {"realtime": RealtimeDeployment, "batch": BatchDeployment}


def _deployment_type(value: Any) -> Any:
    """The deployment kind must be said (``type: realtime`` or ``type: batch``); say which is close."""
    if isinstance(value, _Deployment):
        return value
    if not isinstance(value, dict):
        raise custom_error(
            "deploy_type", f"expected a mapping like {{type: realtime, inference_instance: ...}}, got {short(value)}"
        )
    kind = value.get("type")
    if kind is None:
        raise custom_error("deploy_type", "needs type: realtime (an endpoint) or type: batch (a transform job)")
    if isinstance(kind, str) and kind.strip() in _DEPLOY_TYPES:
        kind = kind.strip()
        other = "batch" if kind == "realtime" else "realtime"
        misplaced = sorted(set(value) & (set(_DEPLOY_MODELS[other].model_fields) - set(_DEPLOY_MODELS[kind].model_fields)))
        if misplaced:
            raise custom_error(
                "deploy_type",
                f"{', '.join(misplaced)} {'is a field' if len(misplaced) == 1 else 'are fields'} of type: {other}, "
                f"not of type: {kind}",
            )
        return {**value, "type": kind}
    suggestion = did_you_mean(kind, _DEPLOY_TYPES)
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    raise custom_error("deploy_type", f"unknown deployment type {short(kind)}{hint} (expected realtime or batch)")


def _deployment_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"@{kind}"


Deployment = Annotated[
    Annotated[RealtimeDeployment, Tag("@realtime")] | Annotated[BatchDeployment, Tag("@batch")],
    Discriminator(_deployment_tag),
    BeforeValidator(_deployment_type),
]


def _card_switch(value: Any) -> Any:
    """``model_card: false`` turns the cards off; ``true`` keeps the defaults."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false")):
        return {"enabled": lax_bool(value)}
    return value


class VersionModelCard(BaseModel):
    """
    The model card each registered version gets (on unless ``enabled: false``): what a person
    knows about the model and SageMaker does not. The rest (the version, its approval, the
    training job and its metrics) is filled in by the DAG. The sections take MWO's model card
    fields (``intended_uses``, ``additional_information``).
    """

    model_config = STRICT

    enabled: LaxBool = True
    model_owner: NonEmptyStr | None = None
    intended_uses: _CardIntendedUses | None = None
    additional_information: _CardAdditionalInformation | None = None


class TrainingPipelineConfig(PipelineConfig):
    """What the three training types add to MWO's fields: registry, approval, deployment.

    Registration happens when ``model_package_group_name`` is given, when the orchestrator runs
    with ``use_model_registry`` (the group then defaults to ``model_name``), or when a ``deploy``
    section needs a package version to deploy.
    """

    model_package_group_name: Annotated[SageMakerName | None, EmptyAsNone] = Field(
        None, description="register the trained model as a new version of this model package group"
    )
    model_approval: Annotated[Literal["manual", "automatic"], Stripped] = Field(
        "manual",
        description="manual: a person approves or rejects the version in the Airflow UI (PendingManualApproval "
        "until then); automatic: Approved at registration, or decided by approval_threshold",
    )
    approval_threshold: ApprovalThreshold | None = Field(
        None, description="approve when the metric is within min/max, reject otherwise (implies automatic)"
    )
    approval_timeout_hours: IntRange(1, 8760) | None = Field(
        None,
        description="with manual approval: reject the version when nobody answers within this many hours "
        "(default: wait until someone does)",
    )
    deploy: Deployment | None = Field(
        None, description="deploy the approved version: {type: realtime, ...} or {type: batch, ...}"
    )
    model_card: Annotated[VersionModelCard, BeforeValidator(_card_switch)] = Field(
        default_factory=VersionModelCard,
        description="the model card of each registered version: {intended_uses: {...}, additional_information: "
        "{...}, model_owner}, or false for none",
    )

    @classmethod
    def input_problems(cls, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = super().input_problems(data)
        if given(data, "approval_threshold") and raw_str(data, "model_approval") == "manual":
            problems.append(
                (
                    "model_approval",
                    "must be automatic (or left out) with approval_threshold: the threshold decides, not a person",
                )
            )
        if given(data, "approval_timeout_hours") and (
            given(data, "approval_threshold") or raw_str(data, "model_approval") == "automatic"
        ):
            problems.append(("approval_timeout_hours", "only used with manual approval (a person answers in time)"))
        registers = given(data, "model_package_group_name", "deploy") or lax_bool(data.get("use_model_registry"))
        if not registers and not cls._definition_only(data):
            for name in ("model_approval", "approval_threshold", "approval_timeout_hours", "model_card"):
                if given(data, name):
                    problems.append(
                        (
                            name,
                            "only used when the model is registered: set model_package_group_name "
                            "(or use_model_registry: true, or a deploy section)",
                        )
                    )
        return problems

    @classmethod
    def _definition_only(cls, data: Mapping[str, Any]) -> bool:
        """Whether the job trains no model (a definition-only Autopilot job)."""
        return False

    def cross_field_problems(self) -> list[tuple[str, str]]:
        problems = super().cross_field_problems()
        if self.deploy is not None:
            stages = self.stages_in_use()
            for name in type(self.deploy).model_fields:
                value = getattr(self.deploy, name)
                if isinstance(value, StageValues):
                    missing = [s for s in stages if value.get(s) is None]
                    if missing:
                        problems.append(
                            (
                                f"deploy.{name}",
                                f"no value for stage {', '.join(missing)} (this map gives "
                                f"{', '.join(value.given())}; stages in use: {', '.join(stages)})",
                            )
                        )
        return problems

    def promotes_across_stages(self) -> bool:
        """Training runs here, in the orchestrator account; only a ``deploy`` section is promoted."""
        return self.deploy is not None

    def stage_api_reason(self) -> str | None:
        if self.deploy is not None and self.deploy.type == "batch":
            return "its batch transform job runs in each stage's account"
        return None

    # -- helpers for the factory -------------------------------------------------------------

    @property
    def registers_model(self) -> bool:
        """Whether a run registers the trained model as a model package version."""
        return bool(self.model_package_group_name or self.use_model_registry or self.deploy)

    def model_card_settings(self) -> dict[str, Any] | None:
        """What the registry tasks put on each version's model card (None: no cards)."""
        if not self.registers_model or not self.model_card.enabled:
            return None
        settings = self.model_card.model_dump(mode="json", exclude_none=True, exclude={"enabled"})
        framework = getattr(self, "model_framework", None)
        settings["algorithm_type"] = f"{framework} {getattr(self, 'model_framework_version', '')}".strip() if framework else "Autopilot"
        problem_type = getattr(self, "problem_type", None)
        if problem_type:
            settings["problem_type"] = problem_type
        return settings

    @property
    def package_group(self) -> str | None:
        """The model package group versions are registered in (None when not registering)."""
        if not self.registers_model:
            return None
        return self.model_package_group_name or self.model_name

    @property
    def approval_mode(self) -> Literal["manual", "automatic", "threshold"]:
        """How a registered version gets approved: by a person, at once, or by the threshold."""
        if self.approval_threshold is not None:
            return "threshold"
        return self.model_approval


class TrainingJobConfig(TrainingPipelineConfig):
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


class AutopilotTrainingConfig(TrainingPipelineConfig):
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
    def _definition_only(cls, data: Mapping[str, Any]) -> bool:
        return bool(lax_bool(data.get("generate_definition_only")))

    @classmethod
    def input_problems(cls, data):
        problems = super().input_problems(data)
        if cls._definition_only(data):
            why = "a definition-only Autopilot job (generate_definition_only: true) trains no model"
            for name, what in (
                ("model_package_group_name", "to register"),
                ("deploy", "to deploy"),
                ("approval_threshold", "to approve"),
                ("model_approval", "to approve"),
                ("approval_timeout_hours", "to approve"),
            ):
                if given(data, name):
                    problems.append((name, f"not possible: {why} {what}"))
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

    @property
    def registers_model(self) -> bool:
        """A definition-only job has no model: nothing to register, even with use_model_registry."""
        return not self.generate_definition_only and super().registers_model
