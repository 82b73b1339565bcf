"""For each of the 12 pipeline types: the line a user sees for each kind of mistake.

Each case starts from the type's valid example, makes one mistake, and asserts that exactly the
expected line is reported: ``FILE: field.path: message``.
"""

from __future__ import annotations

import pytest
from config_helpers import ALL_TYPES, drop, problem_lines, put, valid_payload

KMS = "expected a KMS key ARN like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (or .../alias/NAME)"
SM_CRON = "expected a SageMaker cron expression with 6 fields in parentheses, like cron(0 * ? * * *)"

# pipeline_type -> the required field removed, and the problem reported for it
MISSING = {
    "byom_realtime_builtin": ("model_name", "model_name: field required"),
    "byom_realtime_custom": ("inference_instance", "inference_instance: field required"),
    "byom_batch_builtin": ("batch_inference_data", "batch_inference_data: field required"),
    "byom_batch_custom": ("batch_job_output_location", "batch_job_output_location: field required"),
    "byom_data_quality_monitor": ("endpoint_name", "endpoint_name: field required"),
    "byom_model_quality_monitor": (
        "baseline_ground_truth_attribute",
        "baseline_ground_truth_attribute: field required",
    ),
    "byom_model_bias_monitor": ("bias_config", "bias_config: field required"),
    "byom_model_explainability_monitor": ("shap_config", "shap_config: field required"),
    "byom_image_builder": ("ecr_repo_name", "ecr_repo_name: field required"),
    "model_training_builtin": ("training_data", "training_data: field required"),
    "model_tuner_builtin": ("tuner_configs", "tuner_configs: field required"),
    "model_autopilot_training": ("target_attribute", "target_attribute: field required"),
}

# pipeline_type -> (field, value of the wrong type, problem)
WRONG_TYPE = {
    "byom_realtime_builtin": ("model_name", ["a", "b"], "model_name: expected a string, got ['a', 'b']"),
    "byom_realtime_custom": (
        "endpoint_name",
        42,
        "endpoint_name: expected a string, got 42 (quote it in YAML)",
    ),
    "byom_batch_builtin": (
        "use_model_registry",
        "maybe",
        "use_model_registry: expected true or false, got 'maybe'",
    ),
    "byom_batch_custom": (
        "batch_inference_data",
        12,
        "batch_inference_data: expected an S3 location like bucket/prefix or s3://bucket/prefix, got 12",
    ),
    "byom_data_quality_monitor": (
        "instance_volume_size",
        "big",
        "instance_volume_size: expected a whole number, got 'big'",
    ),
    "byom_model_quality_monitor": (
        "probability_threshold_attribute",
        "half",
        "probability_threshold_attribute: expected a number, got 'half'",
    ),
    "byom_model_bias_monitor": ("bias_config", "age", "bias_config: expected a mapping, got 'age'"),
    "byom_model_explainability_monitor": (
        "shap_config.num_samples",
        "many",
        "shap_config.num_samples: expected a whole number, got 'many'",
    ),
    "byom_image_builder": ("image_tag", 1.5, "image_tag: expected a string, got 1.5 (quote it in YAML)"),
    "model_training_builtin": (
        "algo_hyperparamaters",
        [1, 2],
        "algo_hyperparamaters: expected a mapping, got [1, 2]",
    ),
    "model_tuner_builtin": (
        "hyperparamaters_ranges.eta",
        "continuous",
        'hyperparamaters_ranges.eta: expected [KIND, VALUES] like ["continuous", [0.1, 0.5]], '
        '["integer", [1, 15]] or ["categorical", ["a", "b"]], got \'continuous\'',
    ),
    "model_autopilot_training": (
        "generate_definition_only",
        "perhaps",
        "generate_definition_only: expected true or false, got 'perhaps'",
    ),
}

# pipeline_type -> (field, number out of its range, problem)
OUT_OF_RANGE = {
    "byom_realtime_builtin": ("retries", 11, "retries: must be at most 10, got 11"),
    "byom_realtime_custom": ("retry_delay_seconds", -5, "retry_delay_seconds: must be at least 0, got -5"),
    "byom_batch_builtin": ("retries", -1, "retries: must be at least 0, got -1"),
    "byom_batch_custom": ("retries", "12", "retries: must be at most 10, got '12'"),
    "byom_data_quality_monitor": (
        "monitor_max_runtime_seconds",
        90000,
        "monitor_max_runtime_seconds: must be at most 86400, got 90000",
    ),
    "byom_model_quality_monitor": (
        "instance_volume_size",
        0,
        "instance_volume_size: must be at least 1, got 0",
    ),
    "byom_model_bias_monitor": (
        "monitor_max_runtime_seconds",
        {"dev": 0},
        "monitor_max_runtime_seconds.dev: must be at least 1, got 0",
    ),
    "byom_model_explainability_monitor": (
        "baseline_max_runtime_seconds",
        "0",
        "baseline_max_runtime_seconds: must be at least 1, got '0'",
    ),
    "byom_image_builder": ("retries", 99, "retries: must be at most 10, got 99"),
    "model_training_builtin": (
        "max_runtime_per_job",
        "100",
        "max_runtime_per_job: must be at least 600, got '100'",
    ),
    "model_tuner_builtin": ("tuner_configs.max_jobs", 0, "tuner_configs.max_jobs: must be at least 1, got 0"),
    "model_autopilot_training": ("total_max_runtime", 10, "total_max_runtime: must be at least 3600, got 10"),
}

BAD_KMS = "arn:aws:kms:us-east-1:1234:key/abc"

# pipeline_type -> (field, malformed ARN/identifier, problem)
MALFORMED = {
    "byom_realtime_builtin": ("kms_key_arn", BAD_KMS, f"kms_key_arn: {KMS}, got '{BAD_KMS}'"),
    "byom_realtime_custom": (
        "custom_image_uri",
        "fraud-images:v3",
        "custom_image_uri: expected an ECR image URI like 111122223333.dkr.ecr.us-east-1.amazonaws.com/repo:tag,"
        " got 'fraud-images:v3'",
    ),
    "byom_batch_builtin": (
        "model_package_name",
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/demand-forecast",
        "model_package_name: expected a model package version ARN like "
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/GROUP/1, "
        "got 'arn:aws:sagemaker:us-east-1:111122223333:model-package/demand-forecast'",
    ),
    "byom_batch_custom": (
        "kms_key_arn",
        "arn:aws:kms:us-east-1:111122223333:secret/x",
        f"kms_key_arn: {KMS}, got 'arn:aws:kms:us-east-1:111122223333:secret/x'",
    ),
    "byom_data_quality_monitor": ("kms_key_arn", {"prod": "key-1"}, f"kms_key_arn.prod: {KMS}, got 'key-1'"),
    "byom_model_quality_monitor": ("kms_key_arn", BAD_KMS, f"kms_key_arn: {KMS}, got '{BAD_KMS}'"),
    "byom_model_bias_monitor": ("kms_key_arn", BAD_KMS, f"kms_key_arn: {KMS}, got '{BAD_KMS}'"),
    "byom_model_explainability_monitor": ("kms_key_arn", BAD_KMS, f"kms_key_arn: {KMS}, got '{BAD_KMS}'"),
    "byom_image_builder": (
        "ecr_repo_name",
        "My_Repo",
        "ecr_repo_name: ECR repository names are lower case, got 'My_Repo'; did you mean 'my_repo'?",
    ),
    "model_training_builtin": ("kms_key_arn", BAD_KMS, f"kms_key_arn: {KMS}, got '{BAD_KMS}'"),
    "model_tuner_builtin": ("kms_key_arn", BAD_KMS, f"kms_key_arn: {KMS}, got '{BAD_KMS}'"),
    "model_autopilot_training": ("kms_key_arn", BAD_KMS, f"kms_key_arn: {KMS}, got '{BAD_KMS}'"),
}

# pipeline_type -> (misspelt key, problem)
UNKNOWN_KEY = {
    "byom_realtime_builtin": ("model_nmae", "model_nmae: unknown field; did you mean 'model_name'?"),
    "byom_realtime_custom": (
        "custom_image_url",
        "custom_image_url: unknown field; did you mean 'custom_image_uri'?",
    ),
    "byom_batch_builtin": (
        "batch_inference_dat",
        "batch_inference_dat: unknown field; did you mean 'batch_inference_data'?",
    ),
    "byom_batch_custom": (
        "batch_job_output_loc",
        "batch_job_output_loc: unknown field; did you mean 'batch_job_output_location'?",
    ),
    "byom_data_quality_monitor": (
        "shedule_expression",
        "shedule_expression: unknown field; did you mean 'schedule_expression'?",
    ),
    "byom_model_quality_monitor": (
        "baseline_ground_truth_atribute",
        "baseline_ground_truth_atribute: unknown field; did you mean 'baseline_ground_truth_attribute'?",
    ),
    "byom_model_bias_monitor": ("bias_confg", "bias_confg: unknown field; did you mean 'bias_config'?"),
    "byom_model_explainability_monitor": (
        "shap_confg",
        "shap_confg: unknown field; did you mean 'shap_config'?",
    ),
    "byom_image_builder": ("image_tags", "image_tags: unknown field; did you mean 'image_tag'?"),
    "model_training_builtin": (
        "instance_cont",
        "instance_cont: unknown field; did you mean 'instance_count'?",
    ),
    "model_tuner_builtin": ("tuner_config", "tuner_config: unknown field; did you mean 'tuner_configs'?"),
    "model_autopilot_training": (
        "target_atribute",
        "target_atribute: unknown field; did you mean 'target_attribute'?",
    ),
}

MONITORS = [t for t in ALL_TYPES if t.endswith("_monitor")]


def _lines_for(write, data) -> tuple[str, list[str]]:
    path = write("bad.yaml", data)
    return str(path), problem_lines(path)


def test_every_type_has_every_case():
    for table in (MISSING, WRONG_TYPE, OUT_OF_RANGE, MALFORMED, UNKNOWN_KEY):
        assert set(table) == set(ALL_TYPES)


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_missing_required_field(pipeline_type, write):
    field, expected = MISSING[pipeline_type]
    data = valid_payload(pipeline_type)
    drop(data, field)
    path, lines = _lines_for(write, data)
    assert lines == [f"{path}: {expected}"]


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_wrong_type(pipeline_type, write):
    field, value, expected = WRONG_TYPE[pipeline_type]
    data = valid_payload(pipeline_type)
    put(data, field, value)
    path, lines = _lines_for(write, data)
    assert lines == [f"{path}: {expected}"]


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_number_out_of_range(pipeline_type, write):
    field, value, expected = OUT_OF_RANGE[pipeline_type]
    data = valid_payload(pipeline_type)
    put(data, field, value)
    path, lines = _lines_for(write, data)
    assert lines == [f"{path}: {expected}"]


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_malformed_arn_or_identifier(pipeline_type, write):
    field, value, expected = MALFORMED[pipeline_type]
    data = valid_payload(pipeline_type)
    put(data, field, value)
    path, lines = _lines_for(write, data)
    assert lines == [f"{path}: {expected}"]


@pytest.mark.parametrize("pipeline_type", MONITORS)
def test_bad_sagemaker_cron_in_schedule_expression(pipeline_type, write):
    data = valid_payload(pipeline_type)
    data["schedule_expression"] = "cron(0 * * *)"
    path, lines = _lines_for(write, data)
    assert lines == [f"{path}: schedule_expression: {SM_CRON}, got 'cron(0 * * *)'"]


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_bad_cron_in_schedule(pipeline_type, write):
    data = valid_payload(pipeline_type)
    data["schedule"] = "0 25 * * *"
    path, lines = _lines_for(write, data)
    assert lines == [
        f"{path}: schedule: invalid cron expression '0 25 * * *' "
        "(a value is out of range; fields: minute hour day month weekday)"
    ]


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_unknown_key_gets_a_suggestion(pipeline_type, write):
    key, expected = UNKNOWN_KEY[pipeline_type]
    data = valid_payload(pipeline_type)
    data[key] = "x"
    path, lines = _lines_for(write, data)
    assert lines == [f"{path}: {expected}"]
