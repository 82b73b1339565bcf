"""A model card's ``Content`` (SageMaker's model card JSON schema) from a validated request.

What the SageMaker SDK's ``ModelCard`` sent for MWO, built without the SDK: the sections with the
SDK's field names, ``inference_environment`` / ``training_environment`` as ``{"container_image": [...]}``,
and the auto-discovery MWO relied on:

- ``model_overview.model_name``: DescribeModel gives ``model_id`` (the model's ARN), the artifacts
  and the image (the SDK's ``ModelOverview.from_model_name``);
- ``training_details.training_job_name``: DescribeTrainingJob gives the job's ARN, image, final
  metrics, hyperparameters and datasets (``TrainingDetails.from_training_job_name``);
- ``training_details.model_name``: the model's training job. The SDK found it with SageMaker Search
  on the model's artifact; here the job is read from where SageMaker puts every artifact,
  ``{output path}/{job name}/output/model.tar.gz``, and accepted only when that job's
  ``ModelArtifacts`` is the model's artifact (no Search permission needed);
- ``evaluation_details[].metric_file_s3_url``: the file is read from S3 and turned into metric
  groups (``metrics.py``).

Problems with what the request names (a model, job or metric file that does not exist or cannot
be read) are raised as :class:`DiscoveryError` naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from mlops_orchestrator.model_cards.metrics import MetricFileError, metric_groups
from mlops_orchestrator.model_cards.request import ModelCardRequest


class DiscoveryError(Exception):
    """A field names something SageMaker or S3 does not have (``field`` is its dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _aws_reason(err: ClientError) -> str:
    error = err.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', err)}"


def build_content(request: ModelCardRequest, sagemaker: Any, s3: Any) -> dict[str, Any]:
    """The card's content from the request's sections (only those it gives)."""
    content: dict[str, Any] = {}
    if request.model_overview is not None:
        content["model_overview"] = model_overview(request, sagemaker)
    if request.intended_uses is not None:
        content["intended_uses"] = request.intended_uses.model_dump(exclude_none=True)
    if request.training_details is not None:
        content["training_details"] = training_details(request, sagemaker)
    if request.evaluation_details is not None:
        content["evaluation_details"] = [
            evaluation_job(request, index, s3) for index in range(len(request.evaluation_details))
        ]
    if request.additional_information is not None:
        content["additional_information"] = request.additional_information.model_dump(exclude_none=True)
    return _drop_none(content)


def model_overview(request: ModelCardRequest, sagemaker: Any) -> dict[str, Any]:
    overview = request.model_overview
    assert overview is not None
    section = overview.model_dump(exclude_none=True)
    if section.get("inference_environment"):
        section["inference_environment"] = {"container_image": section["inference_environment"]}
    if overview.model_name:
        model = _describe_model(sagemaker, overview.model_name, "model_overview.model_name")
        section["model_id"] = model["ModelArn"]
        section["model_artifact"] = model_artifacts(model)
        images = [c["Image"] for c in _containers(model) if c.get("Image")]
        if images:
            section["inference_environment"] = {"container_image": images[:15]}
    return section


def _containers(model: dict[str, Any]) -> list[dict[str, Any]]:
    if model.get("Containers"):
        return list(model["Containers"])
    return [model["PrimaryContainer"]] if model.get("PrimaryContainer") else []


def model_artifacts(model: dict[str, Any]) -> list[str]:
    return [c["ModelDataUrl"] for c in _containers(model) if c.get("ModelDataUrl")][:15]


def _describe_model(sagemaker: Any, name: str, field: str) -> dict[str, Any]:
    try:
        return sagemaker.describe_model(ModelName=name)
    except ClientError as err:
        if "Could not find model" in str(err) or "ValidationException" in str(err):
            raise DiscoveryError(field, f"no SageMaker model named {name!r} ({_aws_reason(err)})") from None
        raise


def training_details(request: ModelCardRequest, sagemaker: Any) -> dict[str, Any]:
    details = request.training_details
    assert details is not None
    section = details.model_dump(exclude_none=True, exclude={"model_name", "training_job_name"})
    job_details = section.get("training_job_details")
    if job_details and job_details.get("training_environment"):
        job_details["training_environment"] = {"container_image": job_details["training_environment"]}
    if details.training_job_name:
        job = _describe_training_job(sagemaker, details.training_job_name, "training_details.training_job_name")
        section["training_job_details"] = training_job_details(job)
    elif details.model_name:
        model = _describe_model(sagemaker, details.model_name, "training_details.model_name")
        job = training_job_of_model(sagemaker, model)
        if job is None:
            raise DiscoveryError(
                "training_details.model_name",
                f"no training job found for model {details.model_name!r}: its artifact "
                f"{', '.join(model_artifacts(model)) or '(none)'} is not the output of a SageMaker training job "
                "(give training_job_name or training_job_details instead)",
            )
        section["training_job_details"] = training_job_details(job)
    return section


def _describe_training_job(sagemaker: Any, name: str, field: str) -> dict[str, Any]:
    try:
        return sagemaker.describe_training_job(TrainingJobName=name)
    except ClientError as err:
        if "not found" in str(err).lower() or "ValidationException" in str(err):
            raise DiscoveryError(field, f"no training job named {name!r} ({_aws_reason(err)})") from None
        raise


def training_job_details(job: dict[str, Any]) -> dict[str, Any]:
    """What the SDK's ``TrainingDetails.from_training_job_name`` took from DescribeTrainingJob."""
    datasets = [
        channel["DataSource"]["S3DataSource"]["S3Uri"]
        for channel in job.get("InputDataConfig") or []
        if (channel.get("DataSource") or {}).get("S3DataSource", {}).get("S3Uri")
    ]
    image = (job.get("AlgorithmSpecification") or {}).get("TrainingImage")
    return _drop_none(
        {
            "training_arn": job.get("TrainingJobArn"),
            "training_datasets": datasets[:15] or None,
            "training_environment": {"container_image": [image]} if image else None,
            "training_metrics": [
                {"name": metric["MetricName"], "value": metric["Value"]}
                for metric in (job.get("FinalMetricDataList") or [])[:50]
            ],
            "hyper_parameters": [
                {"name": name, "value": str(value)} for name, value in sorted((job.get("HyperParameters") or {}).items())
            ][:100],
        }
    )


def training_job_of_model(sagemaker: Any, model: dict[str, Any]) -> dict[str, Any] | None:
    """The training job whose output is the model's (only) artifact, or None."""
    artifacts = model_artifacts(model)
    if len(artifacts) != 1:
        return None
    parts = artifacts[0].removeprefix("s3://").split("/")
    if len(parts) < 4 or parts[-2] != "output":
        return None
    try:
        job = sagemaker.describe_training_job(TrainingJobName=parts[-3])
    except ClientError:
        return None
    if (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts") != artifacts[0]:
        return None
    return job


def evaluation_job(request: ModelCardRequest, index: int, s3: Any) -> dict[str, Any]:
    job = (request.evaluation_details or [])[index]
    section = job.model_dump(exclude_none=True, exclude={"metric_file_s3_url", "metric_type"})
    if job.metric_file_s3_url:
        field = f"evaluation_details[{index}].metric_file_s3_url"
        document = _read_json(s3, job.metric_file_s3_url, field)
        try:
            groups = metric_groups(document, job.metric_type or "")
        except MetricFileError as exc:
            raise DiscoveryError(field, f"{job.metric_file_s3_url} is not a {job.metric_type} file: {exc}") from None
        section["metric_groups"] = [*section.get("metric_groups", []), *groups]
    return section


def _read_json(s3: Any, uri: str, field: str) -> Any:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise DiscoveryError(field, f"expected an s3://bucket/key URI, got {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        raise DiscoveryError(field, f"cannot read {uri} ({_aws_reason(err)})") from None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise DiscoveryError(field, f"{uri} is not JSON: {exc}") from None
