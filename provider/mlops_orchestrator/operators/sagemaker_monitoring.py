"""
Model Monitor requests: names, the baselining job's request, and the violations summary.

Pure functions (no AWS calls but the image lookup, which only reads the SageMaker SDK's tables),
so the operators of the monitor pipelines and their tests share one definition of what is sent.
The baselining request is what the SageMaker SDK's ``DefaultModelMonitor.suggest_baseline`` /
``ModelQualityMonitor.suggest_baseline`` send: a processing job with the Model Monitor image,
the baseline CSV (with header) as input, and the analysis told through the container's environment.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ..images import sagemaker_image_uri
from .sagemaker import MAX_JOB_NAME, transform_job_name

__all__ = [
    "BASELINE_INPUT_PATH",
    "BASELINE_OUTPUT_PATH",
    "MONITORING_TYPES",
    "MONITOR_TYPES",
    "baseline_environment",
    "baseline_job_name",
    "baseline_processing_request",
    "model_monitor_baseline_request",
    "clarify_baseline_request",
    "clarify_image",
    "job_definition_name",
    "job_definition_request",
    "model_monitor_image",
    "monitoring_schedule_name",
    "schedule_config",
    "violation_subject",
    "violations_summary",
]

#: pipeline type -> the short type used in names, as MWO did
MONITOR_TYPES = {
    "byom_data_quality_monitor": "data-quality",
    "byom_model_quality_monitor": "model-quality",
    "byom_model_bias_monitor": "model-bias",
    "byom_model_explainability_monitor": "model-explainability",
}

#: pipeline type -> SageMaker's MonitoringType (also the prefix of its job definition API's fields)
MONITORING_TYPES = {
    "byom_data_quality_monitor": "DataQuality",
    "byom_model_quality_monitor": "ModelQuality",
    "byom_model_bias_monitor": "ModelBias",
    "byom_model_explainability_monitor": "ModelExplainability",
}
#: the monitors whose jobs run SageMaker Clarify (the others run the Model Monitor analyzer)
CLARIFY_TYPES = ("byom_model_bias_monitor", "byom_model_explainability_monitor")

#: where the Model Monitor container reads the baseline dataset and writes its suggestions
BASELINE_INPUT_PATH = "/opt/ml/processing/input/baseline_dataset_input"
BASELINE_OUTPUT_PATH = "/opt/ml/processing/output"
_NAME_BAD_CHARS = re.compile(r"[^A-Za-z0-9-]+")


def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer image of ``region`` (the SageMaker SDK's answer, see images.py)."""
    return sagemaker_image_uri("model-monitor", region)


def clarify_image(region: str) -> str:
    """The SageMaker Clarify processing image of ``region`` (the SageMaker SDK's answer, see images.py)."""
    return sagemaker_image_uri("clarify", region)


def _short_type(pipeline_type: str) -> str:
    try:
        return MONITOR_TYPES[pipeline_type]
    except KeyError:
        raise ValueError(f"not a monitor pipeline type: {pipeline_type!r}") from None


def baseline_job_name(endpoint_name: str, pipeline_type: str, dag_id: str, run_id: str) -> str:
    """``{endpoint}-{type}-{12 hex of the DAG run}``, ≤ 63 characters: the same for every try of a run."""
    return transform_job_name(f"{endpoint_name}-{_short_type(pipeline_type)}", dag_id, run_id)


def monitoring_schedule_name(endpoint_name: str, pipeline_type: str) -> str:
    """
    ``{endpoint}-{type}-schedule``: deterministic per pipeline (not per run), so a re-run updates it.

    A name that would be longer than 63 characters is cut and given 8 hex digits of the full
    name, so two long endpoint names sharing a start still get different schedules.
    """
    full = _NAME_BAD_CHARS.sub("-", f"{endpoint_name}-{_short_type(pipeline_type)}-schedule")
    if len(full) <= MAX_JOB_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: MAX_JOB_NAME - len(digest) - 1].strip('-')}-{digest}"


def baseline_environment(config: Any) -> dict[str, str]:
    """The Model Monitor container's environment for baselining ``config`` (a monitor config)."""
    env = {
        "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
        "dataset_source": BASELINE_INPUT_PATH,
        "output_path": BASELINE_OUTPUT_PATH,
        "publish_cloudwatch_metrics": "Disabled",
    }
    if config.pipeline_type == "byom_model_quality_monitor":
        env["analysis_type"] = "MODEL_QUALITY"
        env["problem_type"] = config.problem_type
        env["inference_attribute"] = config.baseline_inference_attribute
        env["ground_truth_attribute"] = config.baseline_ground_truth_attribute
        if config.baseline_probability_attribute is not None:
            env["probability_attribute"] = config.baseline_probability_attribute
        if config.probability_threshold_attribute is not None:
            env["probability_threshold_attribute"] = str(config.probability_threshold_attribute)
    elif config.pipeline_type != "byom_data_quality_monitor":
        raise ValueError(f"no Model Monitor baselining for {config.pipeline_type} (Clarify does that)")
    return env


def baseline_processing_request(
    config: Any,
    *,
    job_name: str,
    image_uri: str,
    role_arn: str,
    baseline_data_uri: str,
    output_uri: str,
    instance_type: str,
    volume_size_gb: int,
    kms_key_arn: str | None = None,
) -> dict[str, Any]:
    """The CreateProcessingJob request of ``config``'s Model Monitor baselining job."""
    runtime = config.for_stage("baseline_max_runtime_seconds")
    return model_monitor_baseline_request(
        job_name=job_name,
        image_uri=image_uri,
        role_arn=role_arn,
        environment=baseline_environment(config),
        baseline_data_uri=baseline_data_uri,
        output_uri=output_uri,
        instance_type=instance_type,
        volume_size_gb=volume_size_gb,
        max_runtime_seconds=runtime,
        kms_key_arn=kms_key_arn,
    )


def model_monitor_baseline_request(
    *,
    job_name: str,
    image_uri: str,
    role_arn: str,
    environment: dict[str, str],
    baseline_data_uri: str,
    output_uri: str,
    instance_type: str,
    volume_size_gb: int,
    max_runtime_seconds: int | None = None,
    kms_key_arn: str | None = None,
) -> dict[str, Any]:
    """The CreateProcessingJob request of a Model Monitor baselining job (what ``suggest_baseline`` sends)."""
    cluster: dict[str, Any] = {
        "InstanceCount": 1,
        "InstanceType": instance_type,
        "VolumeSizeInGB": volume_size_gb,
    }
    output: dict[str, Any] = {
        "Outputs": [
            {
                "OutputName": "monitoring_output",
                "S3Output": {
                    "S3Uri": output_uri,
                    "LocalPath": BASELINE_OUTPUT_PATH,
                    "S3UploadMode": "EndOfJob",
                },
            }
        ]
    }
    if kms_key_arn:
        cluster["VolumeKmsKeyId"] = kms_key_arn
        output["KmsKeyId"] = kms_key_arn
    request: dict[str, Any] = {
        "ProcessingJobName": job_name,
        "AppSpecification": {"ImageUri": image_uri},
        "RoleArn": role_arn,
        "Environment": dict(environment),
        "ProcessingInputs": [
            {
                "InputName": "baseline_dataset_input",
                "S3Input": {
                    "S3Uri": baseline_data_uri,
                    "LocalPath": BASELINE_INPUT_PATH,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        ],
        "ProcessingOutputConfig": output,
        "ProcessingResources": {"ClusterConfig": cluster},
    }
    if max_runtime_seconds is not None:
        request["StoppingCondition"] = {"MaxRuntimeInSeconds": int(max_runtime_seconds)}
    return request


def violation_subject(item: dict[str, Any]) -> str:
    """What a violation is about: a feature (data quality, SHAP), a metric (model quality), a facet (bias)."""
    for key in ("feature_name", "feature", "facet", "metric_name"):
        if item.get(key) not in (None, ""):
            return str(item[key])
    return "?"


def violations_summary(execution: dict[str, Any] | None, violations: dict[str, Any] | None) -> dict[str, Any]:
    """
    A short, JSON-safe summary of a monitoring execution and its ``constraint_violations.json``.

    ``execution`` is an item of ListMonitoringExecutions (None when there is none yet);
    ``violations`` the parsed file (None when the execution wrote none).
    """
    items = list((violations or {}).get("violations") or [])
    by_check: dict[str, int] = {}
    for item in items:
        check = str(item.get("constraint_check_type", "unknown"))
        by_check[check] = by_check.get(check, 0) + 1
    execution = execution or {}
    scheduled = execution.get("ScheduledTime")
    return {
        "status": execution.get("MonitoringExecutionStatus", "NoExecution"),
        "scheduled_time": scheduled.isoformat() if hasattr(scheduled, "isoformat") else scheduled,
        "failure_reason": execution.get("FailureReason"),
        "violations": len(items),
        "by_check": dict(sorted(by_check.items())),
        "features": sorted({violation_subject(item) for item in items} - {"?"}),
    }


# --- Clarify baselining (bias and explainability) --------------------------------------------

#: where the Clarify container reads its inputs and writes ``analysis.json``
CLARIFY_CONFIG_INPUT_PATH = "/opt/ml/processing/input/config"
CLARIFY_DATA_INPUT_PATH = "/opt/ml/processing/input/data"


def clarify_baseline_request(
    *,
    job_name: str,
    image_uri: str,
    role_arn: str,
    baseline_data_uri: str,
    analysis_config_uri: str,
    output_uri: str,
    instance_type: str,
    volume_size_gb: int,
    max_runtime_seconds: int | None = None,
    kms_key_arn: str | None = None,
) -> dict[str, Any]:
    """The CreateProcessingJob request of a Clarify baselining job (what ``SageMakerClarifyProcessor`` sends)."""
    cluster: dict[str, Any] = {"InstanceCount": 1, "InstanceType": instance_type, "VolumeSizeInGB": volume_size_gb}
    output: dict[str, Any] = {
        "Outputs": [
            {
                "OutputName": "analysis_result",
                "S3Output": {"S3Uri": output_uri, "LocalPath": BASELINE_OUTPUT_PATH, "S3UploadMode": "EndOfJob"},
            }
        ]
    }
    if kms_key_arn:
        cluster["VolumeKmsKeyId"] = kms_key_arn
        output["KmsKeyId"] = kms_key_arn

    def s3_input(name: str, uri: str, path: str) -> dict[str, Any]:
        return {
            "InputName": name,
            "S3Input": {
                "S3Uri": uri,
                "LocalPath": path,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
                "S3CompressionType": "None",
            },
        }

    request: dict[str, Any] = {
        "ProcessingJobName": job_name,
        "AppSpecification": {"ImageUri": image_uri},
        "RoleArn": role_arn,
        "ProcessingInputs": [
            s3_input("dataset", baseline_data_uri, CLARIFY_DATA_INPUT_PATH),
            s3_input("analysis_config", analysis_config_uri, CLARIFY_CONFIG_INPUT_PATH),
        ],
        "ProcessingOutputConfig": output,
        "ProcessingResources": {"ClusterConfig": cluster},
    }
    if max_runtime_seconds is not None:
        request["StoppingCondition"] = {"MaxRuntimeInSeconds": int(max_runtime_seconds)}
    return request


# --- job definition and schedule -------------------------------------------------------------

#: where a monitoring job finds the captured data and writes its reports (the SDK's paths)
ENDPOINT_INPUT_PATH = "/opt/ml/processing/input/endpoint"
MONITORING_OUTPUT_PATH = "/opt/ml/processing/output"


def job_definition_request(
    pipeline_type: str,
    *,
    role_arn: str,
    image_uri: str,
    endpoint_name: str,
    baseline: dict[str, Any],
    output_uri: str,
    instance_type: str,
    volume_size_gb: int,
    max_runtime_seconds: int,
    attributes: dict[str, Any] | None = None,
    ground_truth_uri: str | None = None,
    problem_type: str | None = None,
    kms_key_arn: str | None = None,
    subnet_ids: list[str] | None = None,
    security_group_ids: list[str] | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """
    The Create{Type}JobDefinition request (without ``JobDefinitionName``) for one monitor.

    ``baseline`` is what the baselining task returned: its job name and the URIs of its
    ``constraints_uri`` (and ``statistics_uri`` for data quality, ``analysis_config_uri`` for
    Clarify). ``attributes`` are the endpoint input's InferenceAttribute, ProbabilityAttribute,
    ProbabilityThresholdAttribute and FeaturesAttribute, where the monitor uses them.
    """
    kind = MONITORING_TYPES[pipeline_type]
    endpoint_input: dict[str, Any] = {
        "EndpointName": endpoint_name,
        "LocalPath": ENDPOINT_INPUT_PATH,
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
    }
    endpoint_input.update({key: value for key, value in (attributes or {}).items() if value is not None})
    job_input: dict[str, Any] = {"EndpointInput": endpoint_input}
    if ground_truth_uri:
        job_input["GroundTruthS3Input"] = {"S3Uri": ground_truth_uri}
    app: dict[str, Any] = {"ImageUri": image_uri}
    baseline_config: dict[str, Any] = {
        "BaseliningJobName": baseline["job_name"],
        "ConstraintsResource": {"S3Uri": baseline["constraints_uri"]},
    }
    if kind == "DataQuality":
        baseline_config["StatisticsResource"] = {"S3Uri": baseline["statistics_uri"]}
    elif kind == "ModelQuality":
        app["ProblemType"] = problem_type
    else:
        app["ConfigUri"] = baseline["analysis_config_uri"]
    output: dict[str, Any] = {
        "MonitoringOutputs": [
            {"S3Output": {"S3Uri": output_uri, "LocalPath": MONITORING_OUTPUT_PATH, "S3UploadMode": "Continuous"}}
        ]
    }
    cluster: dict[str, Any] = {"InstanceCount": 1, "InstanceType": instance_type, "VolumeSizeInGB": volume_size_gb}
    if kms_key_arn:
        output["KmsKeyId"] = kms_key_arn
        cluster["VolumeKmsKeyId"] = kms_key_arn
    request: dict[str, Any] = {
        f"{kind}BaselineConfig": baseline_config,
        f"{kind}AppSpecification": app,
        f"{kind}JobInput": job_input,
        f"{kind}JobOutputConfig": output,
        "JobResources": {"ClusterConfig": cluster},
        "RoleArn": role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": int(max_runtime_seconds)},
    }
    if subnet_ids:
        request["NetworkConfig"] = {
            "EnableInterContainerTrafficEncryption": True,
            "VpcConfig": {"Subnets": list(subnet_ids), "SecurityGroupIds": list(security_group_ids or [])},
        }
    if tags:
        request["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    return request


def job_definition_name(schedule_name: str, request: dict[str, Any]) -> str:
    """
    ``{schedule}-{8 hex of the request}``, ≤ 63 characters.

    Job definitions cannot be changed, so a schedule whose monitoring changed points to a new
    definition; naming it by its content makes a re-run with nothing changed find the one it
    made (no new definition, no update), and a changed config make exactly one new one.
    """
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{schedule_name[: MAX_JOB_NAME - len(digest) - 1].rstrip('-')}-{digest}"


def schedule_config(pipeline_type: str, definition_name: str, schedule_expression: str) -> dict[str, Any]:
    """The MonitoringScheduleConfig of a schedule running ``definition_name`` on ``schedule_expression``."""
    return {
        "ScheduleConfig": {"ScheduleExpression": schedule_expression},
        "MonitoringJobDefinitionName": definition_name,
        "MonitoringType": MONITORING_TYPES[pipeline_type],
    }
