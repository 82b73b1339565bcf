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

from .sagemaker import MAX_JOB_NAME, transform_job_name

__all__ = [
    "BASELINE_INPUT_PATH",
    "BASELINE_OUTPUT_PATH",
    "MONITOR_TYPES",
    "baseline_environment",
    "baseline_job_name",
    "baseline_processing_request",
    "model_monitor_image",
    "monitoring_schedule_name",
    "violations_summary",
]

#: pipeline type -> the short type used in names, as MWO did
MONITOR_TYPES = {
    "byom_data_quality_monitor": "data-quality",
    "byom_model_quality_monitor": "model-quality",
    "byom_model_bias_monitor": "model-bias",
    "byom_model_explainability_monitor": "model-explainability",
}

#: where the Model Monitor container reads the baseline dataset and writes its suggestions
BASELINE_INPUT_PATH = "/opt/ml/processing/input/baseline_dataset_input"
BASELINE_OUTPUT_PATH = "/opt/ml/processing/output"
_NAME_BAD_CHARS = re.compile(r"[^A-Za-z0-9-]+")


def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer image of ``region`` (looked up in the SageMaker SDK's tables)."""
    from sagemaker.core import image_uris  # the SDK is heavy: import it only when needed

    return image_uris.retrieve("model-monitor", region)


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
    """The CreateProcessingJob request of the baselining job (what ``suggest_baseline`` sends)."""
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
        "Environment": baseline_environment(config),
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
    if config.baseline_max_runtime_seconds is not None:
        request["StoppingCondition"] = {"MaxRuntimeInSeconds": int(config.baseline_max_runtime_seconds)}
    return request


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
        "features": sorted({str(item["feature_name"]) for item in items if item.get("feature_name")}),
    }
