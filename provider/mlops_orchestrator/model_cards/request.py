"""MWO's model card request bodies, validated field by field like a pipeline config.

MWO (``solution_model_card.py``) took ``name``, ``status``, ``version`` and the card's sections
(``model_overview``, ``intended_uses``, ``training_details``, ``evaluation_details``,
``additional_information``) with the SageMaker SDK's field names, plus ``export_job_name`` and
``model_card_version`` for an export. The same bodies validate here; the enums, list lengths and
metric value types are the ones the SDK enforced, so a body the SDK refused is refused here with
the field named, instead of a SageMaker error after the fact. Unlike MWO, an unknown key is an
error with a "did you mean" (MWO dropped it silently, so a misspelt section vanished from the card).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, ValidationError, model_validator

from mlops_orchestrator.config.common import STRICT, IntRange, Number, SageMakerName
from mlops_orchestrator.config.errors import Problem, custom_error, problems_from_validation_error

#: pipeline_type -> what it does (MWO's six model card operations).
OPERATIONS: dict[str, str] = {
    "create_model_card": "create a model card",
    "update_model_card": "update a model card (only the fields given change)",
    "describe_model_card": "describe a model card",
    "delete_model_card": "delete a model card",
    "export_model_card": "export a model card as a PDF to the assets bucket",
    "list_model_cards": "list the model cards",
}
CardStatus = Literal["Draft", "PendingReview", "Approved", "Archived"]
RiskRating = Literal["High", "Medium", "Low", "Unknown"]
MetricType = Literal["number", "linear_graph", "string", "boolean", "matrix", "bar_chart"]
#: MWO's names of the evaluation metric file formats (the SDK's EvaluationMetricTypeEnum).
MetricFileType = Literal[
    "model_card_metric_schema",
    "clarify_bias",
    "clarify_explainability",
    "regression",
    "binary_classification",
    "multiclass_classification",
]
Text = Annotated[str, StringConstraints(max_length=4096)]
Uri = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1024)]
Images = Annotated[list[Uri], Field(max_length=15)]


class _Section(BaseModel):
    model_config = STRICT


class ModelOverview(_Section):
    """``model_name`` (a SageMaker model) fills model_id, artifacts and image from DescribeModel."""

    model_id: Uri | None = None
    model_name: SageMakerName | None = None
    model_description: Text | None = None
    model_version: Number | None = None
    problem_type: Text | None = None
    algorithm_type: Text | None = None
    model_creator: Text | None = None
    model_owner: Text | None = None
    model_artifact: Images | None = None
    #: MWO's form: a list of image URIs (the SDK's Environment.container_image)
    inference_environment: Images | None = None


class IntendedUses(_Section):
    purpose_of_model: Text | None = None
    intended_uses: Text | None = None
    factors_affecting_model_efficiency: Text | None = None
    risk_rating: RiskRating = "Unknown"
    explanations_for_risk_rating: Text | None = None


class ObjectiveFunction(_Section):
    function: Literal["Maximize", "Minimize"] | None = None
    facet: Literal["Loss", "Accuracy", "RMSE", "MAE", "AUC"] | None = None
    condition: Text | None = None
    notes: Text | None = None


class TrainingMetric(_Section):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    value: Number
    notes: Text | None = None


class TrainingJobDetails(_Section):
    training_arn: Uri | None = None
    training_datasets: Images | None = None
    #: MWO's form: a list of image URIs
    training_environment: Images | None = None
    training_metrics: Annotated[list[TrainingMetric], Field(max_length=50)] | None = None
    user_provided_training_metrics: Annotated[list[TrainingMetric], Field(max_length=50)] | None = None


class TrainingDetails(_Section):
    """``model_name`` or ``training_job_name`` fill ``training_job_details`` from SageMaker."""

    model_name: SageMakerName | None = None
    training_job_name: SageMakerName | None = None
    objective_function: ObjectiveFunction | None = None
    training_observations: Text | None = None
    training_job_details: TrainingJobDetails | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TrainingDetails:
        given = [name for name in ("model_name", "training_job_name", "training_job_details") if getattr(self, name)]
        if len(given) > 1:
            raise custom_error(
                "one_source",
                f"give one of model_name, training_job_name or training_job_details, not {' and '.join(given)}",
            )
        return self


class Metric(_Section):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    type: MetricType
    value: Any
    notes: Text | None = None
    x_axis_name: str | list[Any] | None = None
    y_axis_name: str | list[Any] | None = None

    @model_validator(mode="after")
    def _value_fits_type(self) -> Metric:
        expected = {
            "number": (int, float),
            "string": (str,),
            "boolean": (bool,),
            "linear_graph": (list,),
            "matrix": (list,),
            "bar_chart": (list,),
        }[self.type]
        value = self.value
        fits = isinstance(value, expected) and not (self.type == "number" and isinstance(value, bool))
        if not fits:
            raise custom_error(
                "metric_value", f"value {value!r} does not fit type {self.type} (expected {_type_words(self.type)})"
            )
        return self


def _type_words(metric_type: str) -> str:
    return {"number": "a number", "string": "a string", "boolean": "true or false"}.get(metric_type, "a list")


class MetricGroup(_Section):
    name: Annotated[str, StringConstraints(min_length=1, max_length=63)]
    metric_data: list[Metric] | None = None


class EvaluationJob(_Section):
    """With ``metric_file_s3_url`` (and ``metric_type``), the metrics are read from that JSON file."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=63)]
    metric_file_s3_url: Uri | None = None
    metric_type: MetricFileType | None = None
    evaluation_observation: Text | None = None
    evaluation_job_arn: Uri | None = None
    datasets: Annotated[list[Uri], Field(max_length=10)] | None = None
    metadata: dict[str, Any] | None = None
    metric_groups: list[MetricGroup] | None = None

    @model_validator(mode="after")
    def _file_needs_type(self) -> EvaluationJob:
        if self.metric_file_s3_url and not self.metric_type:
            raise custom_error(
                "metric_type",
                "metric_type is required with metric_file_s3_url: one of "
                "model_card_metric_schema, clarify_bias, clarify_explainability, regression, "
                "binary_classification, multiclass_classification",
            )
        return self


class AdditionalInformation(_Section):
    ethical_considerations: Text | None = None
    caveats_and_recommendations: Text | None = None
    custom_details: dict[str, Any] | None = None


class ModelCardRequest(BaseModel):
    """One MWO model card request body."""

    model_config = STRICT

    pipeline_type: Literal[
        "create_model_card",
        "update_model_card",
        "describe_model_card",
        "delete_model_card",
        "export_model_card",
        "list_model_cards",
    ]
    name: SageMakerName | None = None
    status: CardStatus | None = None
    version: IntRange(1) | None = None
    model_overview: ModelOverview | None = None
    intended_uses: IntendedUses | None = None
    training_details: TrainingDetails | None = None
    evaluation_details: list[EvaluationJob] | None = None
    additional_information: AdditionalInformation | None = None
    #: export_model_card
    export_job_name: SageMakerName | None = None
    model_card_version: IntRange(1) | None = None
    #: MWO read these too and passed them to the SDK, which sent none of them to SageMaker.
    arn: str | None = None
    created_by: dict[str, Any] | None = None
    last_modified_by: dict[str, Any] | None = None

    def sections(self) -> dict[str, Any]:
        """The content sections the body gives (for create and update)."""
        return {
            name: getattr(self, name)
            for name in (
                "model_overview",
                "intended_uses",
                "training_details",
                "evaluation_details",
                "additional_information",
            )
            if getattr(self, name) is not None
        }


def parse_request(body: Any, source: str = "request body") -> tuple[ModelCardRequest | None, list[Problem]]:
    """The validated request, or every problem of the body (``source`` is the Problem's file)."""
    if not isinstance(body, dict):
        return None, [Problem(source, "", f"expected a JSON object, got {type(body).__name__}")]
    problems = []
    operation = body.get("pipeline_type")
    if operation in OPERATIONS and operation != "list_model_cards" and body.get("name") in (None, ""):
        problems.append(Problem(source, "name", f"required for {operation} (the model card's name)"))
    try:
        request = ModelCardRequest.model_validate(body)
    except ValidationError as exc:
        return None, problems + problems_from_validation_error(exc, ModelCardRequest, source)
    return (None, problems) if problems else (request, [])
