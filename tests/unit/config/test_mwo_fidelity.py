"""Payloads MWO accepted are accepted here: keys of other pipeline types and the unused half of
registry-or-model fields are read past with a warning (and not validated), as MWO did; typos
and misplaced additions of ours stay errors."""

from __future__ import annotations

import json

import jsonschema
import pytest
from config_helpers import problem_lines, valid_payload
from mlops_orchestrator.config import (
    PIPELINE_MODELS,
    ConfigError,
    config_json_schema,
    load_config,
    validate_paths,
)
from mlops_orchestrator.config.mwo_fields import MWO_FIELDS, accepted_names, foreign_mwo_keys

PLACEHOLDER_ARN = "arn:aws:sagemaker:*:*:model-package/xgboost/1"  # what MWO's own tests posted


def mwo_deployment_payload(pipeline_type: str) -> dict:
    """A realtime/batch payload of the shape MWO's API tests posted: model fields AND a model package
    (a placeholder ARN), plus keys of training types from a shared template."""
    payload = {
        "pipeline_type": pipeline_type,
        "model_name": "testmodel",
        "model_artifact_location": "model.tar.gz",
        "model_package_name": PLACEHOLDER_ARN,
        "inference_instance": "ml.m5.large",
        "tuner_configs": {"max_jobs": 10, "max_parallel_jobs": 2},
        "hyperparamaters_ranges": {"eta": ["continuous", [0.1, 0.5]]},
        "assets_bucket": "testassetsbucket",
    }
    if "batch" in pipeline_type:
        payload |= {"batch_inference_data": "inference/data.csv", "batch_job_output_location": "bucket/output"}
    else:
        payload |= {"data_capture_location": "bucket/datacapture"}
    if pipeline_type.endswith("builtin"):
        payload |= {"model_framework": "xgboost", "model_framework_version": "0.90-1"}
    else:
        payload |= {"custom_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/custom:1"}
    return payload


DEPLOYMENT_TYPES = ["byom_realtime_builtin", "byom_realtime_custom", "byom_batch_builtin", "byom_batch_custom"]


def warning_lines(config) -> list[str]:
    return [p.format() for p in config.warnings]


# --------------------------------------------------------------------------------------------
# the table of MWO's keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline_type", PIPELINE_MODELS)
def test_every_mwo_key_of_a_type_is_read_by_its_model(pipeline_type):
    assert MWO_FIELDS[pipeline_type] <= accepted_names(PIPELINE_MODELS[pipeline_type])


def test_the_table_holds_the_reference_keys_of_each_type():
    assert {"tuner_configs", "hyperparamaters_ranges"} <= MWO_FIELDS["model_tuner_builtin"]
    assert "tuner_configs" not in MWO_FIELDS["model_training_builtin"]
    assert {"bias_config", "model_predicted_label_config"} <= MWO_FIELDS["byom_model_bias_monitor"]
    assert "baseline_inference_attribute" not in MWO_FIELDS["byom_model_bias_monitor"]
    assert MWO_FIELDS["byom_image_builder"] == {"pipeline_type", "custom_algorithm_docker", "ecr_repo_name", "image_tag"}
    assert foreign_mwo_keys(PIPELINE_MODELS["model_autopilot_training"])["algo_hyperparamaters"] == (
        "model_training_builtin",
        "model_tuner_builtin",
    )


# --------------------------------------------------------------------------------------------
# 1. keys of other MWO pipeline types
# --------------------------------------------------------------------------------------------


def test_a_training_payload_carrying_tuner_and_autopilot_keys_validates_with_warnings(write):
    data = valid_payload("model_training_builtin") | {
        "tuner_configs": {"objective_metric_name": "validation:auc", "max_jobs": 10},
        "hyperparamaters_ranges": {"eta": ["continuous", [0.1, 0.5]]},
        "target_attribute": "target",
    }
    config = load_config(write("training.yaml", data))
    path = config._source
    assert warning_lines(config) == [
        f"{path}: tuner_configs: warning: ignored: used by model_tuner_builtin",
        f"{path}: hyperparamaters_ranges: warning: ignored: used by model_tuner_builtin",
        f"{path}: target_attribute: warning: ignored: used by model_autopilot_training",
    ]
    assert "tuner_configs" not in config.model_dump()


def test_an_autopilot_payload_carrying_training_keys_validates_with_warnings(write):
    data = valid_payload("model_autopilot_training") | {
        "algo_hyperparamaters": {"num_round": 400},
        "model_framework": "xgboost",
        "instance_type": "ml.m5.xlarge",
    }
    config = load_config(write("autopilot.json", data))
    path = config._source
    assert warning_lines(config) == [
        f"{path}: algo_hyperparamaters: warning: ignored: used by model_training_builtin, model_tuner_builtin",
        f"{path}: model_framework: warning: ignored: used by byom_realtime_builtin, byom_batch_builtin, "
        "model_training_builtin, model_tuner_builtin",
        f"{path}: instance_type: warning: ignored: used by byom_data_quality_monitor, byom_model_quality_monitor, "
        "byom_model_bias_monitor, byom_model_explainability_monitor, model_training_builtin, model_tuner_builtin",
    ]


def test_monitor_payloads_built_from_one_template_as_mwo_tests_did(write):
    """MWO's tests made the bias payload from the model quality one and the explainability payload
    from the bias one, so each carries the other's keys."""
    quality = valid_payload("byom_model_quality_monitor")
    bias = quality | {
        "pipeline_type": "byom_model_bias_monitor",
        "bias_config": json.dumps({"label_values_or_threshold": [1], "facet_name": "age"}),
        "model_predicted_label_config": json.dumps({"probability": 0}),
    }
    config = load_config(write("bias.yaml", bias))
    assert [p.field for p in config.warnings] == [
        "baseline_inference_attribute",
        "baseline_probability_attribute",
        "baseline_ground_truth_attribute",
    ]
    assert config.warnings[0].message == "ignored: used by byom_model_quality_monitor"
    assert config.bias_config.facet_name == ["age"]

    explainability = bias | {
        "pipeline_type": "byom_model_explainability_monitor",
        "problem_type": "Regression",
        "shap_config": {"num_clusters": 1},
    }
    config = load_config(write("explainability.yaml", explainability))
    assert [p.field for p in config.warnings] == [
        "baseline_inference_attribute",
        "baseline_probability_attribute",
        "baseline_ground_truth_attribute",
        "monitor_ground_truth_input",
        "bias_config",
        "model_predicted_label_config",
    ]
    assert config.warnings[3].message == "ignored: used by byom_model_quality_monitor, byom_model_bias_monitor"


def test_an_ignored_value_is_not_validated(write):
    data = valid_payload("model_training_builtin") | {"tuner_configs": "not json at all", "bias_config": [1, 2]}
    config = load_config(write("ok.yaml", data))
    assert [p.field for p in config.warnings] == ["tuner_configs", "bias_config"]


def test_an_ignored_key_left_empty_gives_no_warning(write):
    data = valid_payload("byom_image_builder") | {"model_name": "", "tuner_configs": {}, "endpoint_name": None}
    assert load_config(write("ok.yaml", data)).warnings == []


def test_a_typo_stays_an_error_with_its_suggestion(write):
    data = valid_payload("model_tuner_builtin") | {"tuner_config": {}, "target_atribute": "y"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: tuner_config: unknown field; did you mean 'tuner_configs'?",
        f"{path}: target_atribute: unknown field; did you mean 'target_attribute'? "
        "(a field of model_autopilot_training, which this pipeline type ignores)",
    ]


def test_a_key_of_no_mwo_type_stays_an_error(write):
    data = valid_payload("byom_realtime_builtin") | {"monitoring_type": "dataquality", "colour": "blue"}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: monitoring_type: unknown field", f"{path}: colour: unknown field"]


@pytest.mark.parametrize(
    ("pipeline_type", "key", "value", "message"),
    [
        (
            "byom_realtime_builtin",
            "split_type",
            "Line",
            "not a setting of byom_realtime_builtin (only of byom_batch_builtin, byom_batch_custom); remove it",
        ),
        (
            "model_training_builtin",
            "fail_on_violations",
            True,
            "not a setting of model_training_builtin (only of byom_data_quality_monitor, byom_model_quality_monitor, "
            "byom_model_bias_monitor, byom_model_explainability_monitor); remove it",
        ),
        (
            "byom_realtime_custom",
            "deploy",
            {"type": "realtime"},
            "not a setting of byom_realtime_custom (only of model_training_builtin, model_tuner_builtin, "
            "model_autopilot_training); remove it",
        ),
        (
            "byom_data_quality_monitor",
            "deploy_on_new_image",
            True,
            "not a setting of byom_data_quality_monitor (only of byom_realtime_custom, byom_batch_custom); remove it",
        ),
    ],
)
def test_our_own_addition_on_a_type_that_does_not_read_it_is_an_error(write, pipeline_type, key, value, message):
    path = write("bad.yaml", valid_payload(pipeline_type) | {key: value})
    assert problem_lines(path) == [f"{path}: {key}: {message}"]


def test_an_invalid_config_carries_its_warnings_too(write):
    data = valid_payload("model_training_builtin") | {"tuner_configs": {"max_jobs": 2}, "instance_count": 0}
    path = write("bad.yaml", data)
    with pytest.raises(ConfigError) as info:
        load_config(path, root=path.parent)
    assert str(info.value) == f"{path}: instance_count: must be at least 1, got 0"
    assert [p.format() for p in info.value.warnings] == [
        f"{path}: tuner_configs: warning: ignored: used by model_tuner_builtin"
    ]


def test_validate_paths_reports_warnings_after_the_errors_of_their_file(write, tmp_path):
    write("ok.yaml", valid_payload("model_training_builtin") | {"tuner_configs": "{}"})
    write("zz_bad.yaml", valid_payload("model_training_builtin") | {"tuner_configs": "{}", "retries": 99})
    lines = [(p.format(), p.is_warning) for p in validate_paths([tmp_path], root=tmp_path)]
    assert lines == [
        (f"{tmp_path / 'ok.yaml'}: tuner_configs: warning: ignored: used by model_tuner_builtin", True),
        (f"{tmp_path / 'zz_bad.yaml'}: retries: must be at most 10, got 99", False),
        (f"{tmp_path / 'zz_bad.yaml'}: tuner_configs: warning: ignored: used by model_tuner_builtin", True),
    ]


# --------------------------------------------------------------------------------------------
# 2. registry or model fields, by use_model_registry
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline_type", DEPLOYMENT_TYPES)
@pytest.mark.parametrize("setting", [False, "False", "No", "no"])
def test_use_model_registry_false_deploys_the_model_fields_and_ignores_the_package(write, pipeline_type, setting):
    config = load_config(write("mwo.yaml", mwo_deployment_payload(pipeline_type) | {"use_model_registry": setting}))
    model_fields = type(config).MODEL_FIELDS
    assert not config.uses_model_registry and config.model_package_name is None
    assert all(getattr(config, name) for name in model_fields)
    assert warning_lines(config) == [
        f"{config._source}: model_package_name: warning: ignored: use_model_registry is false, so the model fields "
        f"({', '.join(model_fields)}) are deployed",
        f"{config._source}: tuner_configs: warning: ignored: used by model_tuner_builtin",
        f"{config._source}: hyperparamaters_ranges: warning: ignored: used by model_tuner_builtin",
    ]


@pytest.mark.parametrize("pipeline_type", DEPLOYMENT_TYPES)
@pytest.mark.parametrize("setting", [True, "True", "Yes", "yes"])
def test_use_model_registry_true_deploys_the_package_and_ignores_the_model_fields(write, pipeline_type, setting):
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost/1"
    payload = mwo_deployment_payload(pipeline_type) | {"use_model_registry": setting, "model_package_name": arn}
    payload["custom_image_uri" if "custom" in pipeline_type else "model_framework_version"] = "placeholder"
    config = load_config(write("mwo.yaml", payload))
    model_fields = type(config).MODEL_FIELDS
    assert config.uses_model_registry and config.model_package_group_name == "xgboost"
    assert all(getattr(config, name) is None for name in model_fields)
    why = "warning: ignored: use_model_registry is true, so the model package (model_package_name) is deployed"
    assert sorted(warning_lines(config)) == sorted(
        [f"{config._source}: {name}: {why}" for name in model_fields]
        + [
            f"{config._source}: tuner_configs: warning: ignored: used by model_tuner_builtin",
            f"{config._source}: hyperparamaters_ranges: warning: ignored: used by model_tuner_builtin",
        ]
    )


def test_use_model_registry_from_the_defaults_file_decides_and_the_warning_says_where(write, tmp_path):
    write("defaults.yaml", {"use_model_registry": "No", "assets_bucket": "testassetsbucket"})
    payload = mwo_deployment_payload("byom_realtime_builtin")
    del payload["assets_bucket"], payload["tuner_configs"], payload["hyperparamaters_ranges"]
    path = write("mwo.yaml", payload)
    config = load_config(path, root=tmp_path)
    assert warning_lines(config) == [
        f"{path}: model_package_name: warning: ignored: use_model_registry is false, so the model fields "
        "(model_artifact_location, model_framework, model_framework_version) are deployed "
        "(use_model_registry from defaults.yaml)"
    ]
    # the config overrides its defaults file
    config = load_config(write("registry.yaml", payload | {"use_model_registry": True, "model_package_name":
                                                          "arn:aws:sagemaker:us-east-1:123456789012:model-package/a/1"}),
                         root=tmp_path)
    assert config.uses_model_registry


def test_use_model_registry_from_the_environment(write, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_USE_MODEL_REGISTRY", "Yes")
    payload = mwo_deployment_payload("byom_batch_custom")
    del payload["model_package_name"]
    path = write("mwo.yaml", payload)
    assert problem_lines(path) == [
        f"{path}: model_package_name: required when use_model_registry is true "
        "(use_model_registry from MLOPS_ORCHESTRATOR_USE_MODEL_REGISTRY)",
    ]


def test_errors_that_follow_from_a_defaults_setting_say_where_it_was_set(write, tmp_path):
    write("defaults.yaml", {"use_model_registry": False, "assets_bucket": "testassetsbucket"})
    path = write("registry.yaml", {
        "pipeline_type": "byom_realtime_builtin", "model_name": "m", "inference_instance": "ml.m5.large",
        "data_capture_location": "bucket/capture",
        "model_package_name": "arn:aws:sagemaker:us-east-1:123456789012:model-package/a/1",
    })
    lines = problem_lines(path, root=tmp_path)
    assert lines == [
        f"{path}: model_artifact_location: field required (use_model_registry is false) "
        "(use_model_registry from defaults.yaml)",
        f"{path}: model_framework: field required (use_model_registry is false) (use_model_registry from defaults.yaml)",
        f"{path}: model_framework_version: field required (use_model_registry is false) "
        "(use_model_registry from defaults.yaml)",
    ]


@pytest.mark.parametrize("pipeline_type", DEPLOYMENT_TYPES)
def test_unset_use_model_registry_with_both_says_what_to_set(write, pipeline_type):
    payload = mwo_deployment_payload(pipeline_type)
    payload["model_package_name"] = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost/1"
    path = write("mwo.yaml", payload)
    fields = ", ".join(PIPELINE_MODELS[pipeline_type].MODEL_FIELDS)
    assert problem_lines(path) == [
        f"{path}: use_model_registry: required: model_package_name and the model fields ({fields}) are both given; "
        "true deploys the model package and ignores the model fields, false deploys the model fields and ignores "
        "the package (set it in this config or in defaults.yaml)"
    ]


def test_a_package_given_empty_counts_as_not_given_and_warns_nothing(write):
    payload = mwo_deployment_payload("byom_realtime_builtin") | {"model_package_name": "", "use_model_registry": False}
    del payload["tuner_configs"], payload["hyperparamaters_ranges"]
    assert load_config(write("ok.yaml", payload)).warnings == []


def test_a_used_package_is_still_validated(write):
    payload = mwo_deployment_payload("byom_realtime_builtin") | {"use_model_registry": True}
    path = write("bad.yaml", payload)
    assert f"{path}: model_package_name: expected a model package version ARN like " in problem_lines(path)[0]


def test_training_types_ignore_the_deployment_keys_of_a_shared_template(write):
    data = valid_payload("model_training_builtin") | {
        "model_package_name": PLACEHOLDER_ARN,
        "model_artifact_location": "model.tar.gz",
        "inference_instance": "ml.m5.large",
        "use_model_registry": "No",
    }
    config = load_config(write("training.yaml", data))
    assert [p.field for p in config.warnings] == ["model_package_name", "model_artifact_location", "inference_instance"]
    assert not config.registers_model


# --------------------------------------------------------------------------------------------
# 5. the JSON Schema says the same
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    return config_json_schema()


def _definition(schema: dict, pipeline_type: str) -> dict:
    return schema["$defs"][PIPELINE_MODELS[pipeline_type].__name__]


@pytest.mark.parametrize("pipeline_type", PIPELINE_MODELS)
def test_schema_allows_other_types_mwo_keys_without_requiring_them(schema, pipeline_type):
    definition = _definition(schema, pipeline_type)
    foreign = foreign_mwo_keys(PIPELINE_MODELS[pipeline_type])
    assert foreign, pipeline_type
    for key, users in foreign.items():
        assert definition["properties"][key] == {
            "description": f"MWO field of {', '.join(users)}: ignored by this pipeline type"
        }
        assert key not in definition.get("required", [])
    assert definition["additionalProperties"] is False


def test_schema_accepts_the_mwo_payload_and_still_refuses_a_typo(schema):
    payload = mwo_deployment_payload("byom_realtime_builtin") | {"use_model_registry": "No"}
    # the schema checks a package ARN wherever it is given (it cannot know use_model_registry)
    payload["model_package_name"] = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost/1"
    jsonschema.validate(payload, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload | {"tuner_config": {}}, schema)
    with pytest.raises(jsonschema.ValidationError):  # our batch addition is not a realtime key
        jsonschema.validate(payload | {"split_type": "Line"}, schema)


def test_schema_of_training_allows_the_tuner_and_autopilot_keys(schema):
    training = _definition(schema, "model_training_builtin")["properties"]
    assert "tuner_configs" in training and "target_attribute" in training
    assert "use_model_registry" not in _definition(schema, "byom_realtime_builtin").get("required", [])
