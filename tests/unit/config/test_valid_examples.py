"""Every pipeline type's example config validates, MWO conventions included."""

from __future__ import annotations

import pytest
from config_helpers import ALL_TYPES, VALID, valid_file
from mlops_orchestrator.config import PIPELINE_MODELS, iter_config_files, load_config, validate_paths


def test_there_is_one_model_and_one_example_per_pipeline_type():
    assert len(PIPELINE_MODELS) == 12
    assert {p.stem for p in iter_config_files(VALID)} == set(PIPELINE_MODELS)


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_example_config_validates(pipeline_type):
    config = load_config(valid_file(pipeline_type), root=VALID)
    assert isinstance(config, PIPELINE_MODELS[pipeline_type])
    assert config.pipeline_type == pipeline_type
    # the nearest defaults file filled the orchestrator settings
    assert config.assets_bucket == "mlops-assets-111122223333"
    assert config.owner == "ml-platform"


def test_the_examples_folder_has_no_problems():
    assert validate_paths([VALID], root=VALID) == []


def test_json_config_with_string_numbers_and_booleans():
    config = load_config(VALID / "model_autopilot_training.json", root=VALID)
    assert config.job_max_candidates == 15
    assert config.total_max_runtime == 86400
    assert config.generate_definition_only is False
    assert config.encrypt_inner_traffic is True
    assert config.compression_type is None  # MWO's "" means not set
    assert config.max_runtime_per_job == 3600


def test_string_numbers_and_booleans_in_yaml_become_numbers_and_booleans():
    config = load_config(VALID / "model_training_builtin.yaml", root=VALID)
    assert (config.instance_count, config.instance_volume_size, config.max_runtime_per_job) == (1, 30, 7200)
    assert config.use_spot_instances is True and config.encrypt_inner_traffic is False
    monitor = load_config(VALID / "byom_data_quality_monitor.yaml", root=VALID)
    assert monitor.instance_volume_size == 20
    assert monitor.monitor_max_runtime_seconds == 1800
    assert monitor.baseline_max_runtime_seconds == 3600


def test_mwo_value_conventions_are_normalised():
    config = load_config(VALID / "byom_realtime_builtin.yaml", root=VALID)
    assert config.data_capture_location == "mlops-data-111122223333/churn/datacapture"  # trailing / dropped
    assert config.endpoint_name == "churn-xgboost-endpoint"  # lower-cased, as MWO did
    assert config.s3_uri("model_artifact_location") == "s3://mlops-assets-111122223333/churn/model.tar.gz"
    assert config.s3_uri("data_capture_location") == "s3://mlops-data-111122223333/churn/datacapture"
    batch = load_config(VALID / "byom_batch_builtin.yaml", root=VALID)
    assert batch.batch_job_output_location == "mlops-data-111122223333/demand/output"  # s3:// dropped
    custom = load_config(VALID / "byom_batch_custom.yaml", root=VALID)
    assert custom.s3_uri("model_artifact_location") == "s3://other-bucket/tagger/model.tar.gz"


def test_defaults_of_the_reference_apply():
    training = load_config(VALID / "model_tuner_builtin.yaml", root=VALID)
    assert training.instance_type == "ml.m4.xlarge"
    assert training.max_wait_time_spot_instances == 172800
    assert (training.s3_data_type, training.data_distribution, training.data_input_mode) == (
        "S3Prefix",
        "FullyReplicated",
        "File",
    )
    assert training.content_type == "csv"
    assert training.tuner_configs.strategy == "Bayesian"
    assert training.hyperparameters_ranges["max_depth"].as_mwo() == ["integer", [1, 15]]
    assert training.hyperparameters_ranges["optimizer"].as_mwo() == ["categorical", ["sgd", "Adam"]]
    quality = load_config(VALID / "byom_model_quality_monitor.yaml", root=VALID)
    assert quality.probability_threshold_attribute == 0.5
    assert quality.monitor_ground_truth_input == "mlops-data-111122223333/churn/groundtruth"
    # our additions' defaults
    assert quality.retries == 1 and quality.retry_delay_seconds == 60 and quality.catchup is False
    assert quality.aws_conn_id == "aws_default" and quality.stage == "dev" and quality.schedule is None
    assert quality.start_date.isoformat() == "2024-01-01T00:00:00+00:00"


def test_json_encoded_objects_are_accepted_as_mwo_sent_them():
    bias = load_config(VALID / "byom_model_bias_monitor.yaml", root=VALID)
    assert bias.model_predicted_label_config.probability == 0
    assert bias.bias_config.facet_name == ["age"]
