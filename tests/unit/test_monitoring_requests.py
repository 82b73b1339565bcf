"""Model Monitor requests: names, the baselining job's request and environment, the violations summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from mlops_orchestrator.config import PIPELINE_MODELS
from mlops_orchestrator.operators.sagemaker_monitoring import (
    BASELINE_INPUT_PATH,
    baseline_environment,
    baseline_job_name,
    baseline_processing_request,
    model_monitor_image,
    monitoring_schedule_name,
    violations_summary,
)

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "valid"


def _config(pipeline_type: str, **extra):
    data = yaml.safe_load((VALID / f"{pipeline_type}.yaml").read_text()) | {"assets_bucket": "b-1"} | extra
    return PIPELINE_MODELS[pipeline_type].model_validate(data)


def test_the_model_monitor_image_is_looked_up_per_region():
    assert model_monitor_image("us-east-1") == (
        "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    assert model_monitor_image("eu-west-1").startswith("468650794304.dkr.ecr.eu-west-1.")


def test_baseline_job_names_are_per_run_and_short():
    one = baseline_job_name("churn-xgboost", "byom_data_quality_monitor", "dag", "run-1")
    assert one == baseline_job_name("churn-xgboost", "byom_data_quality_monitor", "dag", "run-1")
    assert one != baseline_job_name("churn-xgboost", "byom_data_quality_monitor", "dag", "run-2")
    assert one.startswith("churn-xgboost-data-quality-")
    long = baseline_job_name("e" * 63, "byom_model_quality_monitor", "dag", "run-1")
    assert len(long) <= 63


def test_schedule_names_are_per_pipeline_and_at_most_63_characters():
    assert monitoring_schedule_name("churn-xgboost", "byom_model_quality_monitor") == (
        "churn-xgboost-model-quality-schedule"
    )
    a = monitoring_schedule_name("e" * 60 + "a", "byom_model_explainability_monitor")
    b = monitoring_schedule_name("e" * 60 + "b", "byom_model_explainability_monitor")
    assert len(a) <= 63 and len(b) <= 63 and a != b
    with pytest.raises(ValueError, match="not a monitor"):
        monitoring_schedule_name("x", "byom_batch_builtin")


def test_data_quality_baselining_sends_what_the_sdk_sends():
    env = baseline_environment(_config("byom_data_quality_monitor"))
    assert json.loads(env.pop("dataset_format")) == {
        "csv": {"header": True, "output_columns_position": "START"}
    }
    assert env == {
        "dataset_source": BASELINE_INPUT_PATH,
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }


def test_model_quality_baselining_tells_the_problem_type_and_attributes():
    env = baseline_environment(_config("byom_model_quality_monitor"))
    assert {k: env[k] for k in env if k not in ("dataset_format", "dataset_source", "output_path")} == {
        "publish_cloudwatch_metrics": "Disabled",
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "BinaryClassification",
        "inference_attribute": "prediction",
        "ground_truth_attribute": "label",
        "probability_attribute": "probability",
        "probability_threshold_attribute": "0.5",
    }


def test_the_baselining_request_uses_kms_and_the_runtime_limit():
    config = _config("byom_data_quality_monitor", baseline_max_runtime_seconds=600)
    request = baseline_processing_request(
        config,
        job_name="job-1",
        image_uri="img",
        role_arn="arn:aws:iam::111122223333:role/r",
        baseline_data_uri="s3://b-1/base.csv",
        output_uri="s3://out/baseline",
        instance_type="ml.m5.large",
        volume_size_gb=20,
        kms_key_arn="arn:aws:kms:us-east-1:111122223333:key/k",
    )
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert request["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"].endswith("key/k")
    assert request["ProcessingOutputConfig"]["KmsKeyId"].endswith("key/k")
    assert request["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://b-1/base.csv"
    assert request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == "s3://out/baseline"


def test_the_violations_summary_counts_per_check_and_feature():
    when = datetime(2026, 1, 2, tzinfo=UTC)
    summary = violations_summary(
        {"MonitoringExecutionStatus": "CompletedWithViolations", "ScheduledTime": when},
        {
            "violations": [
                {"feature_name": "age", "constraint_check_type": "data_type_check"},
                {"feature_name": "income", "constraint_check_type": "baseline_drift_check"},
                {"feature_name": "age", "constraint_check_type": "baseline_drift_check"},
            ]
        },
    )
    assert summary == {
        "status": "CompletedWithViolations",
        "scheduled_time": "2026-01-02T00:00:00+00:00",
        "failure_reason": None,
        "violations": 3,
        "by_check": {"baseline_drift_check": 2, "data_type_check": 1},
        "features": ["age", "income"],
    }
    assert violations_summary(None, None)["status"] == "NoExecution"
    json.dumps(summary)


def test_violations_of_every_monitor_type_name_what_they_are_about():
    from mlops_orchestrator.operators.sagemaker_monitoring import violation_subject

    summary = violations_summary(
        {"MonitoringExecutionStatus": "CompletedWithViolations"},
        {
            "violations": [
                {"metric_name": "f1", "constraint_check_type": "LessThanThreshold"},
                {"facet": "gender", "metric_name": "DPPL", "constraint_check_type": "bias_drift_check"},
                {"feature": "day_mins", "constraint_check_type": "feature_attribution_drift_check"},
                {"constraint_check_type": "missing_column_check"},
            ]
        },
    )
    assert summary["violations"] == 4
    assert summary["features"] == ["day_mins", "f1", "gender"]
    assert violation_subject({}) == "?"
