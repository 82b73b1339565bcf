"""Rules beyond one field: pipeline_type, legacy spellings, stage maps, registry variants,
problem-type-dependent fields, and our own additions."""

from __future__ import annotations

import pytest
from config_helpers import ALL_TYPES, problem_lines, valid_payload
from mlops_orchestrator.config import PIPELINE_MODELS, ConfigError, load_config

# --------------------------------------------------------------------------------------------
# pipeline_type
# --------------------------------------------------------------------------------------------


def test_unknown_pipeline_type_suggests_the_closest(write):
    data = valid_payload("byom_realtime_builtin") | {"pipeline_type": "byom_realtime_bultin"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: pipeline_type: unknown pipeline type 'byom_realtime_bultin'; did you mean 'byom_realtime_builtin'?"
    ]


def test_unknown_pipeline_type_without_a_close_match_lists_all_twelve(write):
    path = write("bad.yaml", {"pipeline_type": "create_model_card", "name": "x"})
    (line,) = problem_lines(path)
    assert line.startswith(
        f"{path}: pipeline_type: unknown pipeline type 'create_model_card'; expected one of "
    )
    assert all(t in line for t in PIPELINE_MODELS)


def test_missing_pipeline_type(write):
    path = write("bad.yaml", {"model_name": "x"})
    (line,) = problem_lines(path)
    assert line.startswith(f"{path}: pipeline_type: field required; expected one of byom_realtime_builtin, ")


def test_pipeline_type_is_stripped_as_mwo_did(write):
    data = valid_payload("byom_image_builder") | {"pipeline_type": " byom_image_builder "}
    assert load_config(write("ok.yaml", data)).pipeline_type == "byom_image_builder"


def test_all_problems_are_reported_at_once_in_file_order(write):
    data = valid_payload("byom_realtime_builtin")
    del data["model_name"]
    data.update(inference_instance="m5", endpoint_name="bad_name", retries=20, colour="blue")
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: inference_instance: expected an instance type like ml.m5.large, got 'm5'",
        f"{path}: endpoint_name: SageMaker refuses '_' in names (letters, digits and hyphens only), got 'bad_name'; "
        "did you mean 'bad-name'?",
        f"{path}: retries: must be at most 10, got 20",
        f"{path}: colour: unknown field",
        f"{path}: model_name: field required",
    ]


def test_field_problems_know_their_line(write):
    path = write(
        "bad.yaml",
        "pipeline_type: byom_image_builder\ncustom_algorithm_docker: x.zip\n"
        "assets_bucket: assets-bucket\necr_repo_name: ok\nimage_tag: -bad\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, root=path.parent)
    (problem,) = info.value.problems
    assert (problem.field, problem.line) == ("image_tag", 5)
    assert problem.format() == (
        f"{path}: image_tag: expected a Docker tag: letters, digits, _ . -, not starting with . or -, "
        "at most 128 characters, got '-bad'"
    )


# --------------------------------------------------------------------------------------------
# legacy spellings
# --------------------------------------------------------------------------------------------


def test_both_spellings_of_the_legacy_keys_are_accepted(write):
    legacy = valid_payload("model_tuner_builtin")
    assert "algo_hyperparamaters" in legacy and "hyperparamaters_ranges" in legacy
    fixed = dict(legacy)
    fixed["algo_hyperparameters"] = fixed.pop("algo_hyperparamaters")
    fixed["hyperparameters_ranges"] = fixed.pop("hyperparamaters_ranges")
    a = load_config(write("legacy.yaml", legacy))
    b = load_config(write("fixed.yaml", fixed))
    assert (
        a.algo_hyperparameters
        == b.algo_hyperparameters
        == {
            "eval_metric": "auc",
            "objective": "binary:logistic",
            "num_round": 400,
        }
    )
    assert a.hyperparameters_ranges == b.hyperparameters_ranges


def test_giving_both_spellings_is_an_error(write):
    data = valid_payload("model_training_builtin")
    data["algo_hyperparameters"] = {"num_round": 10}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: algo_hyperparamaters: give either 'algo_hyperparameters' or its legacy spelling "
        "'algo_hyperparamaters', not both"
    ]


def test_missing_legacy_field_is_reported_under_its_name(write):
    data = valid_payload("model_training_builtin")
    del data["algo_hyperparamaters"]
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: algo_hyperparameters: field required"]


# --------------------------------------------------------------------------------------------
# per-stage values
# --------------------------------------------------------------------------------------------


def test_stage_maps_are_validated_per_stage_and_read_with_for_stage(write):
    config = load_config(write("ok.yaml", valid_payload("byom_realtime_custom")))
    assert config.stages_in_use() == ["dev", "staging", "prod"]
    assert config.for_stage("inference_instance", "prod") == "ml.c5.2xlarge"
    assert config.for_stage("inference_instance") == "ml.m5.large"  # the stage setting: dev
    assert config.for_stage("model_name", "prod") == "fraud-detector"  # shared by all stages
    assert config.s3_uri("data_capture_location", "staging") == "s3://mlops-staging-capture/fraud"
    assert config.for_stage("kms_key_arn", "prod") is None


def test_unknown_stage_key(write):
    data = valid_payload("byom_realtime_custom")
    data["inference_instance"] = {"dev": "ml.m5.large", "stagging": "ml.m5.large", "prod": "ml.m5.large"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: inference_instance.stagging: unknown stage 'stagging'; did you mean 'staging'? "
        "expected dev, staging or prod",
    ]


def test_a_stage_map_must_cover_the_stages_in_use(write):
    data = valid_payload("byom_realtime_custom")
    del data["inference_instance"]["staging"]
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: inference_instance: no value for stage staging (this map gives dev, prod; "
        "stages in use: dev, staging, prod)",
    ]


def test_bad_value_inside_a_stage_map(write):
    data = valid_payload("byom_realtime_custom")
    data["data_capture_location"]["prod"] = "https://example.com/x"
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: data_capture_location.prod: expected an S3 location like bucket/prefix or s3://bucket/prefix, "
        "got 'https://example.com/x'"
    ]


def test_an_empty_stage_map(write):
    data = valid_payload("byom_data_quality_monitor") | {"instance_type": {}}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: instance_type: give a value for at least one of dev, staging, prod"
    ]


def test_single_account_uses_the_stage_setting(write):
    data = valid_payload("byom_data_quality_monitor")
    data["endpoint_name"] = {"prod": "churn-prod"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: endpoint_name: no value for stage dev (this map gives prod; stages in use: dev)"
    ]
    config = load_config(write("ok.yaml", data | {"stage": "prod"}))
    assert config.for_stage("endpoint_name") == "churn-prod"
    with pytest.raises(ConfigError) as info:
        config.for_stage("endpoint_name", "staging")
    assert (
        str(info.value)
        == f"{path.parent / 'ok.yaml'}: endpoint_name: no value for stage staging (this map gives prod)"
    )


# --------------------------------------------------------------------------------------------
# model registry variants (realtime and batch)
# --------------------------------------------------------------------------------------------


def test_model_package_replaces_the_model_fields(write):
    data = valid_payload("byom_realtime_builtin")
    for key in ("model_artifact_location", "model_framework", "model_framework_version"):
        del data[key]
    data["model_package_name"] = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn/7"
    config = load_config(write("ok.yaml", data))
    assert config.uses_model_registry and config.model_package_group_name == "churn"


def test_model_package_with_model_fields_and_no_registry_setting_says_what_to_set(write):
    data = valid_payload("byom_realtime_custom")
    data["model_package_name"] = "arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/2"
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: use_model_registry: required: model_package_name and the model fields (model_artifact_location, "
        "custom_image_uri) are both given; true deploys the model package and ignores the model fields, false "
        "deploys the model fields and ignores the package (set it in this config or in defaults.yaml)",
    ]


def test_without_model_package_the_model_fields_are_required(write):
    data = valid_payload("byom_batch_builtin")
    del data["model_package_name"]
    del data["use_model_registry"]
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: model_artifact_location: field required (unless model_package_name is given)",
        f"{path}: model_framework: field required (unless model_package_name is given)",
        f"{path}: model_framework_version: field required (unless model_package_name is given)",
    ]


def test_use_model_registry_false_requires_the_model_fields(write):
    data = valid_payload("byom_batch_builtin") | {"use_model_registry": False}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: model_artifact_location: field required (use_model_registry is false)",
        f"{path}: model_framework: field required (use_model_registry is false)",
        f"{path}: model_framework_version: field required (use_model_registry is false)",
    ]


def test_use_model_registry_requires_a_model_package(write):
    data = valid_payload("byom_realtime_builtin") | {"use_model_registry": "True"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: model_package_name: required when use_model_registry is true"]


# --------------------------------------------------------------------------------------------
# monitors: fields that depend on problem_type
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pipeline_type", "problem_type", "removed", "expected"),
    [
        (
            "byom_model_quality_monitor",
            "Regression",
            "monitor_inference_attribute",
            "monitor_inference_attribute",
        ),
        (
            "byom_model_quality_monitor",
            "MulticlassClassification",
            "monitor_inference_attribute",
            "monitor_inference_attribute",
        ),
        (
            "byom_model_quality_monitor",
            "BinaryClassification",
            "baseline_probability_attribute",
            "baseline_probability_attribute",
        ),
        (
            "byom_model_bias_monitor",
            "Regression",
            "monitor_inference_attribute",
            "monitor_inference_attribute",
        ),
        (
            "byom_model_bias_monitor",
            "BinaryClassification",
            "model_predicted_label_config",
            "model_predicted_label_config",
        ),
        (
            "byom_model_bias_monitor",
            "MulticlassClassification",
            "model_predicted_label_config",
            "model_predicted_label_config",
        ),
        (
            "byom_model_explainability_monitor",
            "MulticlassClassification",
            "monitor_inference_attribute",
            "monitor_inference_attribute",
        ),
        (
            "byom_model_explainability_monitor",
            "Regression",
            "monitor_inference_attribute",
            "monitor_inference_attribute",
        ),
    ],
)
def test_problem_type_dependent_fields(write, pipeline_type, problem_type, removed, expected):
    data = valid_payload(pipeline_type) | {"problem_type": problem_type}
    data.setdefault("monitor_inference_attribute", "0")
    data.pop(removed, None)
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: {expected}: required when problem_type is {problem_type}"]


def test_fields_not_needed_for_a_problem_type_may_be_left_out(write):
    data = valid_payload("byom_model_explainability_monitor") | {"problem_type": "BinaryClassification"}
    del data["monitor_inference_attribute"]
    assert load_config(write("ok.yaml", data)).monitor_inference_attribute is None
    data = valid_payload("byom_model_bias_monitor") | {"problem_type": "Regression"}
    del data["model_predicted_label_config"]
    assert load_config(write("ok2.yaml", data)).model_predicted_label_config is None


def test_unsupported_problem_type_and_missing_one(write):
    data = valid_payload("byom_model_quality_monitor") | {"problem_type": "Regresion"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: problem_type: unknown value 'Regresion'; did you mean 'Regression'? "
        "(expected one of Regression, BinaryClassification, MulticlassClassification)"
    ]
    data = valid_payload("byom_model_bias_monitor")
    del data["problem_type"]
    path = write("bad2.yaml", data)
    assert problem_lines(path) == [f"{path}: problem_type: field required"]


def test_bias_config_is_checked_as_clarify_would(write):
    data = valid_payload("byom_model_bias_monitor")
    data["bias_config"] = {"facet_name": "age", "group": "x"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: bias_config.label_values_or_threshold: field required",
        f"{path}: bias_config.group: unknown field; did you mean 'group_name'?",
    ]


def test_shap_baseline_key_needs_the_assets_bucket(write):
    data = valid_payload("byom_model_explainability_monitor")
    del data["assets_bucket"]
    data["baseline_data"] = "s3://data-bucket/baseline.csv"
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: assets_bucket: required because shap_config.baseline is a key in the assets bucket (set "
        "assets_bucket in the config or defaults.yaml, or MLOPS_ORCHESTRATOR_ASSETS_BUCKET, or give a full s3:// URI)"
    ]
    data["shap_config"]["baseline"] = [[1, 2, 3]]
    config = load_config(write("ok.yaml", data))
    assert config.shap_config.baseline == [[1, 2, 3]]


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


def test_autopilot_problem_type_without_job_objective(write):
    data = valid_payload("model_autopilot_training")
    del data["job_objective"]
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: job_objective: required when problem_type is given (give both or neither)"
    ]
    data = valid_payload("model_autopilot_training")
    del data["problem_type"]
    path = write("bad2.yaml", data)
    assert problem_lines(path) == [
        f"{path}: problem_type: required when job_objective is given (give both or neither)"
    ]


def test_autopilot_job_objective_must_fit_the_problem_type(write):
    data = valid_payload("model_autopilot_training") | {"job_objective": "MSE"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: job_objective: MSE does not fit problem_type BinaryClassification "
        "(use one of Accuracy, AUC, BalancedAccuracy, F1, LogLoss, Precision, Recall, InferenceLatency)"
    ]


def test_autopilot_without_problem_type_and_objective(write):
    data = valid_payload("model_autopilot_training")
    del data["job_objective"], data["problem_type"]
    config = load_config(write("ok.json", data))
    assert config.problem_type is None and config.job_objective is None


def test_spot_wait_must_cover_the_runtime(write):
    data = valid_payload("model_training_builtin") | {"max_wait_time_spot_instances": 3600}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: max_wait_time_spot_instances: must be at least max_runtime_per_job (7200) when "
        "use_spot_instances is true, got 3600"
    ]
    assert load_config(write("ok.yaml", data | {"use_spot_instances": "False"})).use_spot_instances is False


def test_training_enums(write):
    data = valid_payload("model_training_builtin") | {"s3_data_type": "S3prefix", "data_input_mode": "Stream"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: s3_data_type: unknown value 'S3prefix'; did you mean 'S3Prefix'? "
        "(expected one of S3Prefix, ManifestFile, AugmentedManifestFile)",
        f"{path}: data_input_mode: expected one of File, Pipe, FastFile, got 'Stream'",
    ]


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        (
            {"eta": ["continous", [0.1, 0.5]]},
            "eta: unknown range kind 'continous'; did you mean 'continuous'?",
        ),
        (
            {"eta": ["continuous", [0.5, 0.1]]},
            "eta: continuous range min must be less than max, got [0.5, 0.1]",
        ),
        ({"d": ["integer", [1.5, 4]]}, "d: integer range expects min and max as whole numbers, got [1.5, 4]"),
        (
            {"d": ["integer", [1, 4, "Log"]]},
            "d: scaling must be one of Auto, Linear, Logarithmic, ReverseLogarithmic, got 'Log'",
        ),
        ({"e": ["continuous", [0, 1, "Logarithmic"]]}, "e: Logarithmic scaling needs min > 0, got 0"),
        (
            {"o": ["categorical", []]},
            'o: expected [KIND, VALUES] like ["continuous", [0.1, 0.5]], '
            '["integer", [1, 15]] or ["categorical", ["a", "b"]], got [\'categorical\', []]',
        ),
    ],
)
def test_hyperparameter_ranges(write, ranges, expected):
    data = valid_payload("model_tuner_builtin") | {"hyperparamaters_ranges": ranges}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: hyperparamaters_ranges.{expected}"]


def test_tuner_rules(write):
    data = valid_payload("model_tuner_builtin")
    data["tuner_configs"] |= {
        "max_jobs": 2,
        "max_parallel_jobs": 4,
        "strategy": "Hyperband",
        "objective_type": "Maximise",
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: tuner_configs.objective_type: unknown value 'Maximise'; did you mean 'Maximize'? "
        "(expected one of Maximize, Minimize)"
    ]
    data["tuner_configs"]["objective_type"] = "Maximize"
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: tuner_configs.max_parallel_jobs: must not exceed max_jobs (2), got 4",
        f"{path}: tuner_configs.early_stopping_type: must be Off with the Hyperband strategy",
    ]
    data["tuner_configs"] |= {"strategy": "Grid", "max_parallel_jobs": 1}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: hyperparameters_ranges.{name}: the Grid strategy takes only categorical ranges"
        for name in ("eta", "gamma", "min_child_weight", "max_depth")
    ]


def test_tuner_configs_unknown_key(write):
    data = valid_payload("model_tuner_builtin")
    data["tuner_configs"]["max_paralel_jobs"] = 2
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: tuner_configs.max_paralel_jobs: unknown field; did you mean 'max_parallel_jobs'?"
    ]


def test_framework_version_given_as_a_yaml_number(write):
    path = write(
        "bad.yaml",
        "pipeline_type: byom_realtime_builtin\nmodel_name: m\nmodel_framework: xgboost\n"
        "model_framework_version: 0.90\nmodel_artifact_location: s3://b-1/model.tar.gz\n"
        "inference_instance: ml.m5.large\ndata_capture_location: b-1/capture\n",
    )
    assert problem_lines(path) == [
        f"{path}: model_framework_version: expected a version string like '1.7-1', got the number 0.9 (quote it in YAML)"
    ]


def test_image_builder_needs_a_zip(write):
    data = valid_payload("byom_image_builder") | {"custom_algorithm_docker": "custom/Dockerfile"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: custom_algorithm_docker: expected a .zip file holding a Dockerfile and its context, "
        "like custom/image.zip, got 'custom/Dockerfile'"
    ]


# --------------------------------------------------------------------------------------------
# our additions
# --------------------------------------------------------------------------------------------


def test_plain_keys_need_the_assets_bucket_and_full_uris_do_not(write):
    data = valid_payload("byom_image_builder")
    del data["assets_bucket"]
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: assets_bucket: required because custom_algorithm_docker is a key in the assets bucket (set "
        "assets_bucket in the config or defaults.yaml, or MLOPS_ORCHESTRATOR_ASSETS_BUCKET, or give a full s3:// URI)"
    ]
    config = load_config(write("ok.yaml", data | {"custom_algorithm_docker": "s3://my-builds/image.zip"}))
    assert config.s3_uri("custom_algorithm_docker") == "s3://my-builds/image.zip"


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("@daily", "@daily"),
        ("@once", "@once"),
        (None, None),
        ("*/15 2-4 * * MON-FRI", "*/15 2-4 * * MON-FRI"),
    ],
)
def test_good_schedules(write, schedule, expected):
    data = valid_payload("byom_image_builder") | {"schedule": schedule}
    assert load_config(write("ok.yaml", data)).schedule == expected


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("@dayly", "unknown schedule preset '@dayly'; did you mean '@daily'?"),
        (
            "0 3 * *",
            "expected a cron expression with 5 fields (minute hour day-of-month month day-of-week) "
            "like '0 3 * * *', got '0 3 * *'",
        ),
        (
            "0 3 * * * *",
            "expected a cron expression with 5 fields (minute hour day-of-month month day-of-week) "
            "like '0 3 * * *', got '0 3 * * * *'",
        ),
        (
            "0 3 * * FUNDAY",
            "invalid cron expression '0 3 * * FUNDAY' (a field is not valid; "
            "fields: minute hour day month weekday)",
        ),
        (3, "expected null, a preset like @daily, or a 5-field cron expression like '0 3 * * *', got 3"),
    ],
)
def test_bad_schedules(write, schedule, expected):
    data = valid_payload("byom_image_builder") | {"schedule": schedule}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: schedule: {expected}"]


def test_dag_settings(write, tmp_path):
    text = (
        "pipeline_type: byom_image_builder\ncustom_algorithm_docker: s3://b-1/img.zip\necr_repo_name: team/algo\n"
        "image_tag: v1\ndag_id: build.algo-v1\nstart_date: 2025-03-01\ncatchup: 'true'\ntags: [images]\n"
        "retries: '3'\nretry_delay_seconds: 30\nstack_name: Algo-Images\nregion_name: af-south-1\n"
        "subnet_ids: [subnet-0123456789abcdef0]\nsecurity_group_ids: [sg-0123abcd]\n"
    )
    config = load_config(write("build.yaml", text))
    assert config.effective_dag_id() == "build.algo-v1"
    assert config.start_date.isoformat() == "2025-03-01T00:00:00+00:00"
    assert (config.catchup, config.retries, config.retry_delay_seconds) == (True, 3, 30)
    assert config.stack_name_or_default("ignored") == "Algo-Images"
    assert config.region_name == "af-south-1"


def test_bad_dag_settings(write):
    data = valid_payload("byom_image_builder") | {
        "dag_id": "my dag",
        "stack_name": "1-stack",
        "region_name": "Europe",
        "stage": "qa",
        "tags": ["ok", ""],
        "aws_conn_id": "",
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: dag_id: expected a DAG id: letters, digits, _ . - only, at most 250 characters, got 'my dag'",
        f"{path}: stack_name: expected a CloudFormation stack name: a letter, then letters, digits and hyphens, "
        "at most 128 characters, got '1-stack'",
        f"{path}: region_name: expected an AWS region like us-east-1, got 'Europe'",
        f"{path}: stage: expected one of dev, staging, prod, got 'qa'",
        f"{path}: tags[1]: must not be empty",
        f"{path}: aws_conn_id: must not be empty",
    ]


def test_vpc_needs_subnets_and_security_groups(write):
    data = valid_payload("byom_realtime_builtin") | {"subnet_ids": ["subnet-0123456789abcdef0"]}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: security_group_ids: required when subnet_ids is given (a VPC needs both)"
    ]
    data = valid_payload("byom_realtime_builtin") | {
        "subnet_ids": ["subnet-1"],
        "security_group_ids": ["sg-1"],
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: subnet_ids[0]: expected a subnet id like subnet-0123456789abcdef0, got 'subnet-1'",
        f"{path}: security_group_ids[0]: expected a security group id like sg-0123456789abcdef0, got 'sg-1'",
    ]


def test_params_for_the_trigger_form(write):
    params = {
        "note": "hello",
        "threshold": {"default": 0.5, "type": "number", "minimum": 0, "maximum": 1, "description": "cut-off"},
        "mode": {"default": "fast", "enum": ["fast", "full"]},
        "when": "2024-05-01",
    }
    config = load_config(write("ok.yaml", valid_payload("byom_image_builder") | {"params": params}))
    assert config.params["note"] == "hello"
    assert config.params["threshold"] == {
        "default": 0.5,
        "description": "cut-off",
        "type": "number",
        "minimum": 0,
        "maximum": 1,
    }
    assert config.params["mode"] == {"default": "fast", "enum": ["fast", "full"]}


def test_bad_params(write):
    params = {
        "my-param": 1,
        "threshold": {"defualt": 0.5, "type": "number"},
        "mode": {"default": "slow", "enum": ["fast", "full"]},
        "n": {"default": 3, "type": "int"},
        "r": {"default": 1, "minimum": 5, "maximum": 2},
    }
    path = write("bad.yaml", valid_payload("byom_image_builder") | {"params": params})
    assert problem_lines(path) == [
        f"{path}: params.my-param: 'my-param' is not a valid param name: use letters, digits and _, "
        "not starting with a digit",
        f"{path}: params.threshold.defualt: unknown field; did you mean 'default'?",
        f"{path}: params.mode: default 'slow' is not one of enum ['fast', 'full']",
        f"{path}: params.n.type: expected one of string, number, integer, boolean, array, object, null "
        "(or a list of them), got 'int'",
        f"{path}: params.r: minimum 5 is greater than maximum 2",
    ]


def test_stack_name_default_follows_mwo_naming(write):
    config = load_config(
        write("a.yaml", valid_payload("byom_realtime_builtin") | {"model_name": "Churn-XGBoost"})
    )
    assert config.stack_name_or_default("churn") == "mlops-pipeline-churn-xgboost-byompipelinerealtimebuiltin"
    # The image builder's stack owns the repository: it is named after the repository, not the tag
    # (MWO's tag-named stacks would create the same repository again for every new tag).
    image = load_config(
        write("b.yaml", valid_payload("byom_image_builder") | {"image_tag": "V1.2_rc", "ecr_repo_name": "team/algo.x"})
    )
    assert image.stack_name_or_default("build") == "mlops-pipeline-team-algo-x-byompipelineimagebuilder"
    assert PIPELINE_MODELS["byom_image_builder"].STACK_SUFFIX == "BYOMPipelineImageBuilder"


def test_effective_dag_id_defaults_to_the_file_stem(write):
    path = write("team churn.yaml", valid_payload("byom_image_builder"))
    config = load_config(path)
    assert config.effective_dag_id() == "team_churn"
    assert config.effective_dag_id("/x/other.json") == "other"


def test_models_validate_on_their_own_with_the_same_rules():
    """The factory (or a test) may build a model without a file: conditional rules still apply."""
    from pydantic import ValidationError

    model = PIPELINE_MODELS["model_autopilot_training"]
    with pytest.raises(ValidationError) as info:
        model.model_validate(
            {
                "pipeline_type": "model_autopilot_training",
                "model_name": "m",
                "training_data": "s3://b-1/train.csv",
                "job_output_location": "s3://b-1/out",
                "target_attribute": "y",
                "problem_type": "Regression",
            }
        )
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [
        (("job_objective",), "required when problem_type is given (give both or neither)")
    ]


# --------------------------------------------------------------------------------------------
# monitors: fail_on_violations (our addition)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline_type", [t for t in ALL_TYPES if t.endswith("_monitor")])
def test_monitors_only_warn_on_violations_by_default(write, pipeline_type):
    data = valid_payload(pipeline_type)
    data.pop("fail_on_violations", None)
    assert load_config(write("ok.yaml", data)).fail_on_violations is False


@pytest.mark.parametrize(("given", "expected"), [(True, True), ("True", True), ("no", False), (False, False)])
def test_fail_on_violations_accepts_mwo_style_booleans(write, given, expected):
    data = valid_payload("byom_model_quality_monitor") | {"fail_on_violations": given}
    assert load_config(write("ok.yaml", data)).fail_on_violations is expected


def test_fail_on_violations_must_be_a_boolean(write):
    data = valid_payload("byom_data_quality_monitor") | {"fail_on_violations": "sometimes"}
    path = write("bad.yaml", data)
    lines = problem_lines(path)
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: fail_on_violations: ")
