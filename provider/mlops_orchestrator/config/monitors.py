"""Model Monitor pipelines: data quality, model quality, model bias, model explainability.

Each baselines a dataset, then schedules monitoring of an endpoint's captured data. Which
attributes are required depends on ``problem_type``, as in MWO; those rules are reported on the
missing field ("monitor_inference_attribute: required when problem_type is Regression").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, Discriminator, Field, Tag, WithJsonSchema, model_validator

from .base import PipelineConfig, StagedInstanceType, StagedKmsKeyArn, given, raw_str
from .common import (
    STRICT,
    AssetsKey,
    Attribute,
    EmptyAsNone,
    EndpointName,
    IntRange,
    JsonObjectInput,
    LaxBool,
    LaxFloat,
    NameOrIndex,
    OneOrMany,
    ProblemType,
    S3Location,
    SageMakerCron,
    SageMakerName,
    Scalar,
    Staged,
    Stripped,
    is_plain_key,
)
from .errors import custom_error, short

__all__ = [
    "BiasConfig",
    "DataQualityMonitorConfig",
    "ModelBiasMonitorConfig",
    "ModelExplainabilityMonitorConfig",
    "ModelMonitorConfig",
    "ModelPredictedLabelConfig",
    "ModelQualityMonitorConfig",
    "MonitorConfig",
    "ShapConfig",
]

StagedLocation = Staged(S3Location, "S3Location")


class MonitorConfig(PipelineConfig):
    """Fields every monitor has (MWO required all but the runtimes and the KMS key)."""

    model_name: SageMakerName
    endpoint_name: Staged(EndpointName, "EndpointName")
    baseline_data: AssetsKey
    baseline_job_output_location: StagedLocation
    data_capture_location: StagedLocation
    monitoring_output_location: StagedLocation
    schedule_expression: Staged(SageMakerCron, "SageMakerCron")
    monitor_max_runtime_seconds: Staged(IntRange(1, 86400), "MonitorMaxRuntimeSeconds") = 1800
    instance_type: StagedInstanceType
    instance_volume_size: Staged(IntRange(1, 16384), "InstanceVolumeSize")
    baseline_max_runtime_seconds: Annotated[
        Staged(IntRange(1, 777600), "BaselineMaxRuntimeSeconds") | None, EmptyAsNone
    ] = None
    kms_key_arn: Annotated[StagedKmsKeyArn | None, EmptyAsNone] = None
    #: our addition (not in MWO): whether violations found by the latest monitoring execution
    #: fail the results task (true) or are only logged as a warning (false)
    fail_on_violations: LaxBool = False

    ASSETS_KEY_FIELDS: ClassVar[tuple[str, ...]] = ("baseline_data",)
    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = (
        "baseline_job_output_location",
        "data_capture_location",
        "monitoring_output_location",
    )

    def promotes_across_stages(self) -> bool:
        return True

    def stage_api_reason(self) -> str | None:
        return "its baseline job and monitoring schedule are created in each stage's account"


class DataQualityMonitorConfig(MonitorConfig):
    """byom_data_quality_monitor: drift of the input data against a baseline."""

    pipeline_type: Literal["byom_data_quality_monitor"]

    STACK_SUFFIX: ClassVar[str] = "BYOMDataQualityMonitor"


OptionalAttribute = Annotated[Attribute | None, EmptyAsNone]


class ModelMonitorConfig(MonitorConfig):
    """Monitors of the model's output (quality, bias, explainability): they need ``problem_type``."""

    problem_type: Annotated[ProblemType, Stripped]
    monitor_inference_attribute: OptionalAttribute = None
    monitor_probability_attribute: OptionalAttribute = None
    probability_threshold_attribute: Annotated[LaxFloat | None, EmptyAsNone] = None

    #: field -> the problem types that require it
    REQUIRED_FOR: ClassVar[dict[str, tuple[str, ...]]] = {
        "monitor_inference_attribute": ("Regression", "MulticlassClassification"),
    }

    @classmethod
    def input_problems(cls, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = super().input_problems(data)
        problem_type = raw_str(data, "problem_type")
        for name, problem_types in cls.REQUIRED_FOR.items():
            if problem_type in problem_types and not given(data, name):
                problems.append((name, f"required when problem_type is {problem_type}"))
        return problems


class ModelQualityMonitorConfig(ModelMonitorConfig):
    """byom_model_quality_monitor: prediction quality against ground truth labels."""

    pipeline_type: Literal["byom_model_quality_monitor"]
    baseline_inference_attribute: Attribute
    baseline_ground_truth_attribute: Attribute
    baseline_probability_attribute: OptionalAttribute = None
    monitor_ground_truth_input: StagedLocation

    REQUIRED_FOR: ClassVar[dict[str, tuple[str, ...]]] = {
        "monitor_inference_attribute": ("Regression", "MulticlassClassification"),
        "baseline_probability_attribute": ("BinaryClassification",),
    }
    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = (
        *MonitorConfig.LOCATION_FIELDS,
        "monitor_ground_truth_input",
    )
    STACK_SUFFIX: ClassVar[str] = "BYOMModelQualityMonitor"


class BiasConfig(BaseModel):
    """Clarify BiasConfig: the label values that count as positive and the sensitive facet."""

    model_config = STRICT

    label_values_or_threshold: Annotated[
        list[Scalar], OneOrMany({"type": ["string", "number", "integer", "boolean"]}), Field(min_length=1)
    ]
    facet_name: Annotated[list[NameOrIndex], OneOrMany({"type": ["string", "integer"]}), Field(min_length=1)]
    facet_values_or_threshold: list[Any] | None = None
    group_name: str | None = None


class ModelPredictedLabelConfig(BaseModel):
    """Clarify ModelPredictedLabelConfig: where the predicted label/probability is in the output."""

    model_config = STRICT

    label: NameOrIndex | None = None
    probability: NameOrIndex | None = None
    probability_threshold: LaxFloat | None = None
    label_headers: list[str] | None = None


class ModelBiasMonitorConfig(ModelMonitorConfig):
    """byom_model_bias_monitor: bias of predictions for a sensitive facet (Clarify)."""

    pipeline_type: Literal["byom_model_bias_monitor"]
    monitor_ground_truth_input: StagedLocation
    bias_config: Annotated[BiasConfig, JsonObjectInput]
    model_predicted_label_config: Annotated[
        ModelPredictedLabelConfig | None, JsonObjectInput, EmptyAsNone
    ] = None
    features_attribute: OptionalAttribute = None

    REQUIRED_FOR: ClassVar[dict[str, tuple[str, ...]]] = {
        "monitor_inference_attribute": ("Regression", "MulticlassClassification"),
        "model_predicted_label_config": ("BinaryClassification", "MulticlassClassification"),
    }
    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = (
        *MonitorConfig.LOCATION_FIELDS,
        "monitor_ground_truth_input",
    )
    STACK_SUFFIX: ClassVar[str] = "BYOMModelBiasMonitor"


def _baseline_tag(value: Any) -> str:
    return "@rows" if isinstance(value, list) else "@key"


def _rows(value: Any) -> Any:
    if not isinstance(value, list) or not value or not all(isinstance(row, list) and row for row in value):
        raise custom_error(
            "shap_baseline",
            f"expected a key in the assets bucket, an s3:// URI, or a list of rows (lists of values), got {short(value)}",
        )
    return value


ShapBaseline = Annotated[
    Annotated[AssetsKey, Tag("@key")] | Annotated[list[list[Any]], BeforeValidator(_rows), Tag("@rows")],
    Discriminator(_baseline_tag),
]


class ShapConfig(BaseModel):
    """Clarify SHAPConfig. ``baseline`` may be a key in the assets bucket, as in MWO."""

    model_config = STRICT

    baseline: ShapBaseline | None = None
    num_samples: IntRange(1) | None = None
    agg_method: Literal["mean_abs", "median", "mean_sq"] | None = None
    use_logit: LaxBool = False
    save_local_shap_values: LaxBool = True
    seed: int | None = None
    num_clusters: IntRange(1) | None = None
    text_config: dict[str, Any] | None = None
    image_config: dict[str, Any] | None = None
    features_to_explain: list[NameOrIndex] | None = None

    @model_validator(mode="after")
    def _baseline_or_clusters(self) -> ShapConfig:
        if self.baseline is not None and self.num_clusters is not None:
            raise ValueError("give baseline or num_clusters, not both")
        return self


class ModelExplainabilityMonitorConfig(ModelMonitorConfig):
    """byom_model_explainability_monitor: drift of feature attributions (SHAP, Clarify)."""

    pipeline_type: Literal["byom_model_explainability_monitor"]
    shap_config: Annotated[ShapConfig, JsonObjectInput]
    model_scores: Annotated[
        NameOrIndex | None, EmptyAsNone, WithJsonSchema({"type": ["string", "integer", "null"]})
    ] = None
    features_attribute: OptionalAttribute = None

    STACK_SUFFIX: ClassVar[str] = "BYOMModelExplainabilityMonitor"

    def assets_key_fields_in_use(self) -> list[str]:
        names = super().assets_key_fields_in_use()
        if is_plain_key(self.shap_config.baseline):
            names.append("shap_config.baseline")
        return names
