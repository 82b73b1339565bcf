"""Every MWO field of the reference, in the value forms MWO accepted: JSON objects as JSON strings,
numbers and booleans as strings, ``s3://`` or ``bucket/prefix``, "" for "not given", per-stage
maps, surrounding whitespace. Each accepted form is read into the value the pipeline uses. Each
form refused is one MWO let through to a failing deployment; its message says why."""

from __future__ import annotations

import json
from typing import Any

import pytest
from config_helpers import problem_lines, put, valid_payload
from mlops_orchestrator.config import load_config
from mlops_orchestrator.config.common import StageValues
from mlops_orchestrator.config.mwo_fields import MWO_FIELDS

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3"
KMS = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/custom:1"
BIAS = {"label_values_or_threshold": [1], "facet_name": "age", "facet_values_or_threshold": [40], "group_name": "sex"}
RANGES = {"eta": ["continuous", ["0.1", "0.5"]], "max_depth": ["integer", [1, "15"]], "opt": ["categorical", ["sgd"]]}
THREE_STAGES = {  # jobs of batch and monitor pipelines run in each stage's account, through its connection
    "stages": {
        "dev": {"account_id": "111111111111", "aws_conn_id": "aws_dev"},
        "staging": {"account_id": "222222222222", "aws_conn_id": "aws_staging"},
        "prod": {"account_id": "333333333333", "aws_conn_id": "aws_prod"},
    }
}


def read(value: Any) -> Any:
    """A validated value as plain data (models and stage maps as dicts)."""
    if isinstance(value, StageValues):
        return {stage: read(value.get(stage)) for stage in value.given()}
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_defaults=True)
    if isinstance(value, dict):
        return {key: read(item) for key, item in value.items()}
    return value


DROP = object()  # a change that removes the key


def loaded(write, pipeline_type: str, changes: dict[str, Any]):
    data = valid_payload(pipeline_type)
    for dotted, value in changes.items():
        if value is DROP:
            data.pop(dotted)
        else:
            put(data, dotted, value)
    return load_config(write(f"{pipeline_type}.json", data))


def attribute(config, dotted: str) -> Any:
    value: Any = config
    for part in dotted.replace("paramaters", "parameters").split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return read(value)


# (pipeline_type, field, value given, value the pipeline uses, other changes the case needs)
ACCEPTED = [
    # --- realtime and batch -------------------------------------------------------------------
    ("byom_realtime_builtin", "model_name", " churn-xgboost ", "churn-xgboost", {}),
    ("byom_realtime_builtin", "inference_instance", " ml.m5.large ", "ml.m5.large", {}),
    ("byom_realtime_builtin", "model_artifact_location", "model.tar.gz", "model.tar.gz", {}),
    ("byom_realtime_builtin", "model_artifact_location", "s3://other-bucket/m/model.tar.gz",
     "s3://other-bucket/m/model.tar.gz", {}),
    ("byom_realtime_builtin", "model_artifact_location", "models/churn/", "models/churn", {}),
    ("byom_realtime_builtin", "data_capture_location", "bucket/datacapture", "bucket/datacapture", {}),
    ("byom_realtime_builtin", "data_capture_location", "s3://bucket/datacapture/", "bucket/datacapture", {}),
    ("byom_realtime_builtin", "model_framework", "xgboost", "xgboost", {}),
    ("byom_realtime_builtin", "model_framework_version", "0.90-1", "0.90-1", {}),
    ("byom_realtime_builtin", "model_framework_version", 1, "1", {}),
    ("byom_realtime_builtin", "endpoint_name", "Churn-XGBoost-Endpoint", "churn-xgboost-endpoint", {}),
    ("byom_realtime_builtin", "endpoint_name", "", None, {}),
    ("byom_realtime_builtin", "kms_key_arn", "", None, {}),
    ("byom_realtime_builtin", "kms_key_arn", "arn:aws:kms:me-south-1:111122223333:alias/mlops",
     "arn:aws:kms:me-south-1:111122223333:alias/mlops", {}),
    ("byom_realtime_builtin", "model_package_name", "", None, {}),
    ("byom_realtime_custom", "custom_image_uri", ECR, ECR, {}),
    ("byom_realtime_custom", "model_package_name", ARN, ARN,
     {"use_model_registry": "Yes", "custom_image_uri": DROP, "model_artifact_location": DROP}),
    ("byom_batch_builtin", "batch_inference_data", "inference/data.csv", "inference/data.csv", {}),
    ("byom_batch_builtin", "batch_inference_data", "s3://bucket/in/", "bucket/in", {}),
    ("byom_batch_builtin", "batch_job_output_location", "bucket/output/", "bucket/output", {}),
    ("byom_batch_builtin", "use_model_registry", "Yes", True, {}),
    ("byom_batch_custom", "use_model_registry", "No", False, {}),
    # --- monitors -----------------------------------------------------------------------------
    ("byom_data_quality_monitor", "endpoint_name", "XGB-Churn-Endpoint", "xgb-churn-endpoint", {}),
    ("byom_data_quality_monitor", "baseline_data", "model_monitor/training-dataset-with-header.csv",
     "model_monitor/training-dataset-with-header.csv", {}),
    ("byom_data_quality_monitor", "baseline_data", "s3://other-bucket/baseline.csv", "s3://other-bucket/baseline.csv", {}),
    ("byom_data_quality_monitor", "baseline_job_output_location", "s3://testbucket/baseline_output2/",
     "testbucket/baseline_output2", {}),
    ("byom_data_quality_monitor", "monitoring_output_location", "testbucket/model_monitor/monitor_output",
     "testbucket/model_monitor/monitor_output", {}),
    ("byom_data_quality_monitor", "schedule_expression", " cron(0 * ? * * *) ", "cron(0 * ? * * *)", {}),
    ("byom_data_quality_monitor", "monitor_max_runtime_seconds", "1800", 1800, {}),
    ("byom_data_quality_monitor", "instance_volume_size", "20", 20, {}),
    ("byom_data_quality_monitor", "instance_volume_size", 20.0, 20, {}),
    ("byom_data_quality_monitor", "baseline_max_runtime_seconds", "3600", 3600, {}),
    ("byom_data_quality_monitor", "baseline_max_runtime_seconds", "", None, {}),
    ("byom_data_quality_monitor", "kms_key_arn", "", None, {}),
    ("byom_model_quality_monitor", "problem_type", " Regression ", "Regression", {}),
    ("byom_model_quality_monitor", "baseline_inference_attribute", 0, "0", {}),
    ("byom_model_quality_monitor", "baseline_ground_truth_attribute", " label ", "label", {}),
    ("byom_model_quality_monitor", "baseline_probability_attribute", "", None, {"problem_type": "Regression"}),
    ("byom_model_quality_monitor", "monitor_inference_attribute", 0, "0", {}),
    ("byom_model_quality_monitor", "monitor_probability_attribute", "0", "0", {}),
    ("byom_model_quality_monitor", "probability_threshold_attribute", "0.5", 0.5, {}),
    ("byom_model_quality_monitor", "probability_threshold_attribute", "", None, {}),
    ("byom_model_quality_monitor", "monitor_ground_truth_input", "s3://test-bucket/groundtruth",
     "test-bucket/groundtruth", {}),
    ("byom_model_bias_monitor", "bias_config", json.dumps(BIAS),
     {"label_values_or_threshold": [1], "facet_name": ["age"], "facet_values_or_threshold": [40], "group_name": "sex"},
     {}),
    ("byom_model_bias_monitor", "bias_config", f"  {json.dumps(BIAS)}\n", {**BIAS, "facet_name": ["age"]}, {}),
    ("byom_model_bias_monitor", "bias_config", {**BIAS, "facet_name": ["age", 3]}, {**BIAS, "facet_name": ["age", 3]}, {}),
    ("byom_model_bias_monitor", "model_predicted_label_config", '{"probability": 0}', {"probability": 0}, {}),
    ("byom_model_bias_monitor", "model_predicted_label_config", {"label": 0, "probability_threshold": "0.5"},
     {"label": 0, "probability_threshold": 0.5}, {}),
    ("byom_model_bias_monitor", "model_predicted_label_config", "", None, {"problem_type": "Regression"}),
    ("byom_model_bias_monitor", "features_attribute", "", None, {}),
    ("byom_model_explainability_monitor", "shap_config",
     json.dumps({"baseline": "model_monitor/shap.csv", "num_samples": "100", "agg_method": "mean_abs",
                 "use_logit": "False", "save_local_shap_values": "True"}),
     {"baseline": "model_monitor/shap.csv", "num_samples": 100, "agg_method": "mean_abs"}, {}),
    ("byom_model_explainability_monitor", "shap_config.baseline", "s3://other-bucket/shap.csv",
     "s3://other-bucket/shap.csv", {}),
    ("byom_model_explainability_monitor", "model_scores", 0, 0, {}),
    ("byom_model_explainability_monitor", "model_scores", "score", "score", {}),
    ("byom_model_explainability_monitor", "model_scores", "", None, {}),
    # --- image builder ------------------------------------------------------------------------
    ("byom_image_builder", "custom_algorithm_docker", "s3://bucket/custom/image.zip", "s3://bucket/custom/image.zip", {}),
    ("byom_image_builder", "custom_algorithm_docker", "custom/IMAGE.ZIP", "custom/IMAGE.ZIP", {}),
    ("byom_image_builder", "ecr_repo_name", "mlops-ecrrep", "mlops-ecrrep", {}),
    ("byom_image_builder", "image_tag", "1.0", "1.0", {}),
    # --- training -----------------------------------------------------------------------------
    ("model_training_builtin", "training_data", "s3://bucket/train/data.csv", "s3://bucket/train/data.csv", {}),
    ("model_training_builtin", "job_output_location", "training-output/", "training-output", {}),
    ("model_training_builtin", "algo_hyperparamaters", json.dumps({"num_round": 400, "eta": "0.2", "silent": True}),
     {"num_round": 400, "eta": "0.2", "silent": True}, {}),
    ("model_training_builtin", "job_name", "test-job", "test-job", {}),
    ("model_training_builtin", "job_name", "", None, {}),
    ("model_training_builtin", "instance_count", "1", 1, {}),
    ("model_training_builtin", "instance_count", "2.0", 2, {}),
    ("model_training_builtin", "instance_volume_size", "20", 20, {}),
    ("model_training_builtin", "validation_data", "", None, {}),
    ("model_training_builtin", "encrypt_inner_traffic", "True", True, {}),
    ("model_training_builtin", "encrypt_inner_traffic", " False ", False, {}),
    ("model_training_builtin", "use_spot_instances", "False", False, {}),
    ("model_training_builtin", "max_runtime_per_job", "86400", 86400, {"max_wait_time_spot_instances": "172800"}),
    ("model_training_builtin", "max_wait_time_spot_instances", "172800", 172800, {}),
    ("model_training_builtin", "content_type", "csv", "csv", {}),
    ("model_training_builtin", "content_type", "text/csv", "text/csv", {}),
    ("model_training_builtin", "s3_data_type", " ManifestFile ", "ManifestFile", {}),
    ("model_training_builtin", "data_distribution", "ShardedByS3Key", "ShardedByS3Key", {}),
    ("model_training_builtin", "compression_type", "", None, {}),
    ("model_training_builtin", "compression_type", "Gzip", "Gzip", {}),
    ("model_training_builtin", "data_input_mode", "FastFile", "FastFile", {}),
    ("model_training_builtin", "data_record_wrapping", "", None, {}),
    ("model_training_builtin", "data_record_wrapping", "RecordIO", "RecordIO", {}),
    ("model_training_builtin", "attribute_names", "", None, {}),
    ("model_training_builtin", "attribute_names", '["source-ref", "class"]', ["source-ref", "class"],
     {"s3_data_type": "AugmentedManifestFile"}),
    ("model_training_builtin", "kms_key_arn", KMS, KMS, {}),
    ("model_tuner_builtin", "tuner_configs",
     json.dumps({"early_stopping_type": "Auto", "objective_metric_name": "validation:auc", "strategy": "Bayesian",
                 "objective_type": "Maximize", "max_jobs": "10", "max_parallel_jobs": "2"}),
     {"early_stopping_type": "Auto", "objective_metric_name": "validation:auc", "max_jobs": 10, "max_parallel_jobs": 2},
     {}),
    ("model_tuner_builtin", "hyperparamaters_ranges", json.dumps(RANGES),
     {"eta": {"kind": "continuous", "min_value": 0.1, "max_value": 0.5},
      "max_depth": {"kind": "integer", "min_value": 1.0, "max_value": 15.0},
      "opt": {"kind": "categorical", "values": ["sgd"]}},
     {}),
    # --- Autopilot ----------------------------------------------------------------------------
    ("model_autopilot_training", "target_attribute", "churn", "churn", {}),
    ("model_autopilot_training", "problem_type", "", None, {"job_objective": ""}),
    ("model_autopilot_training", "job_objective", " AUC ", "AUC", {}),
    ("model_autopilot_training", "compression_type", "Gzip", "Gzip", {}),
    ("model_autopilot_training", "job_max_candidates", "10", 10, {}),
    ("model_autopilot_training", "encrypt_inner_traffic", "False", False, {}),
    ("model_autopilot_training", "max_runtime_per_job", "86400", 86400, {}),
    ("model_autopilot_training", "total_max_runtime", "2592000", 2592000, {}),
    ("model_autopilot_training", "generate_definition_only", "True", True, {}),
    ("model_autopilot_training", "job_name", "", None, {}),
    ("model_autopilot_training", "kms_key_arn", "", None, {}),
]


@pytest.mark.parametrize(
    ("pipeline_type", "field", "given", "expected", "changes"),
    ACCEPTED,
    ids=[f"{case[0]}-{case[1]}-{case[2]!r}"[:90] for case in ACCEPTED],
)
def test_accepted_value_form(write, pipeline_type, field, given, expected, changes):
    config = loaded(write, pipeline_type, {**changes, field: given})
    assert attribute(config, field) == expected
    assert config.warnings == []


def test_every_mwo_field_has_an_accepted_form_tested():
    tested = {(ptype, field.split(".")[0]) for ptype, field, *_ in ACCEPTED}
    tested_fields = {field for _, field in tested} | {field for _, field in STAGED_CASES}
    every = set().union(*MWO_FIELDS.values()) - {"pipeline_type", "algo_hyperparameters", "hyperparameters_ranges"}
    assert sorted(every - tested_fields) == []


# --------------------------------------------------------------------------------------------
# per-stage maps: every field MWO's multi-account mode took as {dev, staging, prod}
# --------------------------------------------------------------------------------------------

STAGED_VALUES = {
    "kms_key_arn": (KMS, KMS),
    "inference_instance": ("ml.m5.large", "ml.m5.large"),
    "data_capture_location": ("s3://capture-bucket/x/", "capture-bucket/x"),
    "endpoint_name": ("Churn-Endpoint", "churn-endpoint"),
    "batch_inference_data": ("s3://input-bucket/in", "input-bucket/in"),
    "batch_job_output_location": ("output-bucket/out/", "output-bucket/out"),
    "baseline_job_output_location": ("s3://baseline-bucket/b", "baseline-bucket/b"),
    "instance_type": ("ml.m5.xlarge", "ml.m5.xlarge"),
    "instance_volume_size": ("30", 30),
    "baseline_max_runtime_seconds": ("3600", 3600),
    "monitor_max_runtime_seconds": ("1800", 1800),
    "monitoring_output_location": ("s3://monitor-bucket/m/", "monitor-bucket/m"),
    "schedule_expression": ("cron(0 * ? * * *)", "cron(0 * ? * * *)"),
    "monitor_ground_truth_input": ("s3://truth-bucket/g", "truth-bucket/g"),
}
MULTI_ACCOUNT_TYPES = [t for t in MWO_FIELDS if not t.startswith(("model_", "byom_image"))]
STAGED_CASES = [
    (pipeline_type, field)
    for pipeline_type in MULTI_ACCOUNT_TYPES
    for field in STAGED_VALUES
    if field in MWO_FIELDS[pipeline_type]
]


@pytest.mark.parametrize(("pipeline_type", "field"), STAGED_CASES, ids=[f"{t}-{f}" for t, f in STAGED_CASES])
def test_a_per_stage_map_of_a_multi_account_field(write, pipeline_type, field):
    given, used = STAGED_VALUES[field]
    config = loaded(write, pipeline_type, {**THREE_STAGES, field: {"dev": given, "staging": given, "prod": given}})
    assert attribute(config, field) == {"dev": used, "staging": used, "prod": used}
    assert config.for_stage(field, "prod") == used


def test_the_reference_names_fourteen_per_stage_fields_and_each_is_tested():
    assert len(STAGED_VALUES) == 14
    assert {field for _, field in STAGED_CASES} == set(STAGED_VALUES)


# --------------------------------------------------------------------------------------------
# refused: what SageMaker or CloudFormation refused after MWO let it through, and why
# --------------------------------------------------------------------------------------------

NAME = "SageMaker refuses '_' in names (letters, digits and hyphens only)"

# (pipeline_type, field, value, the line after "FILE: ", other changes)
REFUSED = [
    ("byom_data_quality_monitor", "endpoint_name", "test_endpoint",
     f"endpoint_name: {NAME}, got 'test_endpoint'; did you mean 'test-endpoint'?", {}),
    ("byom_data_quality_monitor", "endpoint_name", {"dev": "dev_endpoint"},
     f"endpoint_name.dev: {NAME}, got 'dev_endpoint'; did you mean 'dev-endpoint'?", {}),
    ("byom_realtime_builtin", "model_name", "test_model",
     f"model_name: {NAME}, got 'test_model'; did you mean 'test-model'?", {}),
    ("model_training_builtin", "job_name", "test_job", f"job_name: {NAME}, got 'test_job'; did you mean 'test-job'?", {}),
    ("model_autopilot_training", "job_name", "churn_job",
     f"job_name: {NAME}, got 'churn_job'; did you mean 'churn-job'?", {}),
    ("byom_realtime_builtin", "inference_instance", "ML.M5.LARGE",
     "inference_instance: SageMaker instance types are lower case, got 'ML.M5.LARGE'; did you mean 'ml.m5.large'?", {}),
    ("model_training_builtin", "model_framework", "XGBoost",
     "model_framework: SageMaker framework names are lower case (its image lookup is), got 'XGBoost'; "
     "did you mean 'xgboost'?", {}),
    ("byom_image_builder", "ecr_repo_name", "MLOps-Repo",
     "ecr_repo_name: ECR repository names are lower case, got 'MLOps-Repo'; did you mean 'mlops-repo'?", {}),
    ("byom_model_quality_monitor", "problem_type", "regression",
     "problem_type: unknown value 'regression'; did you mean 'Regression'? (expected one of Regression, "
     "BinaryClassification, MulticlassClassification)", {}),
    ("model_autopilot_training", "job_objective", "f1",
     "job_objective: unknown value 'f1'; did you mean 'F1'? (expected one of Accuracy, MSE, F1, F1macro, AUC, "
     "BalancedAccuracy, LogLoss, Precision, PrecisionMacro, Recall, RecallMacro, RMSE, MAE, R2, InferenceLatency)", {}),
    ("model_training_builtin", "compression_type", "gzip",
     "compression_type: unknown value 'gzip'; did you mean 'Gzip'? (expected one of Gzip)", {}),
    ("model_training_builtin", "s3_data_type", "s3prefix",
     "s3_data_type: unknown value 's3prefix'; did you mean 'S3Prefix'? (expected one of S3Prefix, ManifestFile, "
     "AugmentedManifestFile)", {}),
    ("model_tuner_builtin", "tuner_configs.strategy", "bayesian",
     "tuner_configs.strategy: unknown value 'bayesian'; did you mean 'Bayesian'? (expected one of Bayesian, Random, "
     "Hyperband, Grid)", {}),
    ("model_training_builtin", "encrypt_inner_traffic", "maybe", "encrypt_inner_traffic: expected true or false, got 'maybe'",
     {}),
    ("byom_data_quality_monitor", "schedule_expression", "0 * * * *",
     "schedule_expression: expected a SageMaker cron expression with 6 fields in parentheses, like cron(0 * ? * * *), "
     "got '0 * * * *'", {}),
    ("byom_realtime_custom", "custom_image_uri", "custom-image-uri",
     "custom_image_uri: expected an ECR image URI like 111122223333.dkr.ecr.us-east-1.amazonaws.com/repo:tag, "
     "got 'custom-image-uri'", {}),
    ("byom_realtime_builtin", "model_package_name", "arn:aws:sagemaker:*:*:model-package/xgboost/1",
     "model_package_name: expected a model package version ARN like "
     "arn:aws:sagemaker:us-east-1:111122223333:model-package/GROUP/1, got 'arn:aws:sagemaker:*:*:model-package/xgboost/1'",
     {"use_model_registry": "Yes"}),
    ("byom_realtime_builtin", "model_framework_version", 1.7,
     "model_framework_version: expected a version string like '1.7-1', got the number 1.7 (quote it in YAML)", {}),
    ("model_training_builtin", "instance_type", {"dev": "ml.m5.large"},
     "instance_type: takes one value shared by every stage, not a per-stage map, got {'dev': 'ml.m5.large'}", {}),
    ("byom_model_bias_monitor", "bias_config", '{"facet_name": "age",}',
     "bias_config: expected a mapping or a JSON string, got invalid JSON: Expecting property name enclosed in double "
     "quotes: line 1 column 22 (char 21)", {}),
    ("byom_data_quality_monitor", "monitor_max_runtime_seconds", "90000",
     "monitor_max_runtime_seconds: must be at most 86400, got '90000'", {}),
]


@pytest.mark.parametrize(
    ("pipeline_type", "field", "value", "line", "changes"),
    REFUSED,
    ids=[f"{case[0]}-{case[1]}-{case[2]!r}"[:90] for case in REFUSED],
)
def test_refused_value_form_says_why(write, pipeline_type, field, value, line, changes):
    data = valid_payload(pipeline_type)
    for dotted, change in {**changes, field: value}.items():
        put(data, dotted, change)
    if "model_package_name" in changes or field == "model_package_name":
        for name in ("model_artifact_location", "model_framework", "model_framework_version"):
            data.pop(name, None)
    path = write("bad.json", data)
    assert problem_lines(path) == [f"{path}: {line}"]
