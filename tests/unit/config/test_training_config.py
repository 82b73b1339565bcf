"""The training types' registry, approval and deploy fields: valid forms, and what the user sees when wrong."""

from __future__ import annotations

import pytest
from config_helpers import problem_lines, valid_payload
from mlops_orchestrator.config import load_config

TRAINING_TYPES = ("model_training_builtin", "model_tuner_builtin", "model_autopilot_training")
REALTIME = {"type": "realtime", "inference_instance": "ml.m5.large", "data_capture_location": "capture-bucket/churn"}
BATCH = {
    "type": "batch",
    "inference_instance": "ml.m5.large",
    "batch_inference_data": "data-bucket/in",
    "batch_job_output_location": "s3://data-bucket/out/",
}
REGISTRY_HINT = "only used when the model is registered: set model_package_group_name (or use_model_registry: true, or a deploy section)"


@pytest.mark.parametrize("pipeline_type", TRAINING_TYPES)
def test_an_mwo_payload_registers_nothing_and_approves_manually(write, pipeline_type):
    config = load_config(write("ok.yaml", valid_payload(pipeline_type)))
    assert (config.registers_model, config.package_group, config.deploy) == (False, None, None)
    assert config.approval_mode == "manual"


@pytest.mark.parametrize("pipeline_type", TRAINING_TYPES)
def test_a_group_registers_the_model_and_a_threshold_decides(write, pipeline_type):
    data = valid_payload(pipeline_type) | {
        "model_package_group_name": "churn-models",
        "approval_threshold": {"metric": "validation:auc", "min": "0.8"},
    }
    config = load_config(write("ok.yaml", data))
    assert (config.registers_model, config.package_group, config.approval_mode) == (True, "churn-models", "threshold")
    assert config.approval_threshold.min == 0.8
    assert config.approval_threshold.describe() == "validation:auc >= 0.8"


def test_use_model_registry_registers_in_a_group_named_after_the_model(write):
    data = valid_payload("model_training_builtin") | {"use_model_registry": "True", "model_approval": "automatic"}
    config = load_config(write("ok.yaml", data))
    assert (config.package_group, config.approval_mode) == ("churn-xgboost", "automatic")


def test_use_model_registry_from_the_defaults_file_registers_too(write, tmp_path):
    write("defaults.yaml", {"use_model_registry": True, "assets_bucket": "assets-bucket"})
    data = valid_payload("model_tuner_builtin")
    config = load_config(write("tuner.yaml", data), root=tmp_path)
    assert config.package_group == "churn-xgboost"


def test_a_realtime_deploy_section_registers_and_keeps_the_byom_fields(write):
    data = valid_payload("model_training_builtin") | {
        "model_approval": "automatic",
        "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/abcd-1234",
        "deploy": REALTIME | {"endpoint_name": "Churn-Live", "inference_instance": {"dev": "ml.m5.large"}},
    }
    config = load_config(write("ok.yaml", data))
    assert config.package_group == "churn-xgboost"
    assert config.deploy.type == "realtime"
    assert config.deploy.endpoint_name == "churn-live"  # lower-cased as MWO did
    assert config.deploy.data_capture_location == "capture-bucket/churn"
    assert config.deploy.kms_key_arn is None  # the training's key is used when none is given


def test_a_batch_deploy_section_has_mwos_transform_defaults(write):
    data = valid_payload("model_autopilot_training") | {"deploy": BATCH}
    config = load_config(write("ok.json", data))
    deploy = config.deploy
    assert (deploy.type, deploy.batch_job_output_location) == ("batch", "data-bucket/out")
    assert (deploy.content_type, deploy.accept, deploy.split_type, deploy.assemble_with) == (
        "text/csv",
        None,
        "Line",
        "Line",
    )
    assert deploy.instance_count == 1


# --------------------------------------------------------------------------------------------
# what the user sees when it is wrong
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline_type", TRAINING_TYPES)
def test_approval_fields_without_registration(write, pipeline_type):
    data = valid_payload(pipeline_type) | {
        "model_approval": "automatic",
        "approval_threshold": {"metric": "objective", "max": 0.2},
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: model_approval: {REGISTRY_HINT}",
        f"{path}: approval_threshold: {REGISTRY_HINT}",
    ]


def test_a_threshold_needs_bounds_in_order_and_no_manual_approval(write):
    data = valid_payload("model_tuner_builtin") | {
        "model_package_group_name": "churn",
        "model_approval": "manual",
        "approval_threshold": {"metric": "validation:auc", "min": 0.9, "max": 0.1},
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: model_approval: must be automatic (or left out) with approval_threshold: the threshold "
        "decides, not a person",
        f"{path}: approval_threshold: min (0.9) must not be greater than max (0.1)",
    ]
    data["approval_threshold"] = {"metric": "validation:auc"}
    del data["model_approval"]
    path = write("bad2.yaml", data)
    assert problem_lines(path) == [
        f"{path}: approval_threshold: give min (for a score like validation:auc) or max (for a loss like "
        "validation:rmse)"
    ]


def test_bad_registry_values_name_the_field(write):
    data = valid_payload("model_training_builtin") | {
        "model_package_group_name": "churn_models",
        "model_approval": "automatc",
        "approval_threshold": {"metrc": "validation:auc", "min": "high"},
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: model_package_group_name: SageMaker refuses '_' in names (letters, digits and hyphens only), "
        "got 'churn_models'; did you mean 'churn-models'?",
        f"{path}: model_approval: unknown value 'automatc'; did you mean 'automatic'? (expected one of manual, "
        "automatic)",
        f"{path}: approval_threshold.metric: field required",
        f"{path}: approval_threshold.min: expected a number, got 'high'",
        f"{path}: approval_threshold.metrc: unknown field; did you mean 'metric'?",
    ]


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        ({"inference_instance": "ml.m5.large"}, "deploy: needs type: realtime (an endpoint) or type: batch (a transform job)"),
        (
            REALTIME | {"type": "realtme"},
            "deploy: unknown deployment type 'realtme'; did you mean 'realtime'? (expected realtime or batch)",
        ),
        ("realtime", "deploy: expected a mapping like {type: realtime, inference_instance: ...}, got 'realtime'"),
        (
            {k: v for k, v in REALTIME.items() if k != "data_capture_location"},
            "deploy.data_capture_location: field required",
        ),
        (REALTIME | {"endpoint_nme": "x"}, "deploy.endpoint_nme: unknown field; did you mean 'endpoint_name'?"),
        (
            BATCH | {"content_type": "csv"},
            "deploy.content_type: expected a MIME type, got 'csv'; did you mean 'text/csv'?",
        ),
        (BATCH | {"instance_count": 0}, "deploy.instance_count: must be at least 1, got 0"),
        (
            REALTIME | {"batch_inference_data": "data-bucket/in"},
            "deploy: batch_inference_data is a field of type: batch, not of type: realtime",
        ),
        (
            REALTIME | {"inference_instance": {"prod": "ml.m5.large"}},
            "deploy.inference_instance: no value for stage dev (this map gives prod; stages in use: dev)",
        ),
    ],
)
def test_a_bad_deploy_section_says_what_is_wrong(write, deploy, message):
    data = valid_payload("model_training_builtin") | {"deploy": deploy}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: {message}"]


def test_definition_only_autopilot_cannot_register_approve_or_deploy(write):
    data = valid_payload("model_autopilot_training") | {
        "generate_definition_only": "True",
        "model_package_group_name": "churn",
        "approval_threshold": {"metric": "objective", "min": 0.5},
        "deploy": REALTIME,
    }
    path = write("bad.json", data)
    why = "not possible: a definition-only Autopilot job (generate_definition_only: true) trains no model"
    assert problem_lines(path) == [
        f"{path}: model_package_group_name: {why} to register",
        f"{path}: approval_threshold: {why} to approve",
        f"{path}: deploy: {why} to deploy",
    ]


def test_definition_only_autopilot_ignores_use_model_registry(write):
    data = valid_payload("model_autopilot_training") | {"generate_definition_only": True, "use_model_registry": True}
    config = load_config(write("ok.json", data))
    assert (config.registers_model, config.package_group) == (False, None)


def test_a_manual_approval_may_time_out_into_a_rejection(write):
    data = valid_payload("model_training_builtin") | {"model_package_group_name": "churn", "approval_timeout_hours": "48"}
    assert load_config(write("ok.yaml", data)).approval_timeout_hours == 48
    data |= {"model_approval": "automatic", "approval_timeout_hours": 0}
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: approval_timeout_hours: must be at least 1, got 0",
        f"{path}: approval_timeout_hours: only used with manual approval (a person answers in time)",
    ]


@pytest.mark.parametrize("pipeline_type", TRAINING_TYPES)
def test_each_registered_version_gets_a_model_card_with_the_configs_intended_uses(write, pipeline_type):
    data = valid_payload(pipeline_type) | {
        "model_package_group_name": "churn-models",
        "model_card": {
            "model_owner": "growth team",
            "intended_uses": {"purpose_of_model": "churn", "risk_rating": "Low"},
            "additional_information": {"caveats_and_recommendations": "retrain monthly"},
        },
    }
    settings = load_config(write("ok.yaml", data)).model_card_settings()
    assert settings["intended_uses"] == {"purpose_of_model": "churn", "risk_rating": "Low"}
    assert settings["additional_information"] == {"caveats_and_recommendations": "retrain monthly"}
    assert settings["model_owner"] == "growth team"
    assert settings["algorithm_type"] == ("Autopilot" if pipeline_type == "model_autopilot_training" else "xgboost 1.7-1")
    bare = load_config(write("bare.yaml", valid_payload(pipeline_type) | {"model_package_group_name": "g"}))
    autopilot = {"problem_type"} if pipeline_type == "model_autopilot_training" else set()
    assert set(bare.model_card_settings()) == {"algorithm_type"} | autopilot  # without what only a person knows
    for off in (False, "false", {"enabled": False}):
        config = load_config(write("off.yaml", valid_payload(pipeline_type) | {"model_package_group_name": "g", "model_card": off}))
        assert config.model_card_settings() is None
    assert load_config(write("none.yaml", valid_payload(pipeline_type))).model_card_settings() is None


def test_a_bad_model_card_section_names_the_field(write):
    data = valid_payload("model_training_builtin") | {
        "model_package_group_name": "g",
        "model_card": {"intended_use": {"purpose_of_model": "x"}, "additional_information": {"custom_details": "x"}},
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: model_card.additional_information.custom_details: expected a mapping, got 'x'",
        f"{path}: model_card.intended_use: unknown field; did you mean 'intended_uses'?",
    ]
    unregistered = write("unregistered.yaml", valid_payload("model_training_builtin") | {"model_card": False})
    assert problem_lines(unregistered) == [f"{unregistered}: model_card: {REGISTRY_HINT}"]
    risk = write("risk.yaml", data | {"model_card": {"intended_uses": {"risk_rating": "Severe"}}})
    assert problem_lines(risk) == [
        f"{risk}: model_card.intended_uses.risk_rating: expected one of High, Medium, Low, Unknown, got 'Severe'"
    ]
