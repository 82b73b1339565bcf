"""Sample inputs of a local run: datasets shaped by the config, and buckets where the config points."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mlops_orchestrator.config import load_config
from mlops_orchestrator.run.inputs import sample_dataset, seed_inputs

DAGS = Path(__file__).resolve().parents[2] / "dags"


def _example(name: str):
    return load_config(DAGS / "examples" / name, root=DAGS)


def test_monitor_baselines_have_a_header_with_the_label_first_and_the_bias_facet():
    lines = sample_dataset(_example("realtime_builtin_xgboost_monitor_model_bias.yaml"), "baseline_data").decode().splitlines()
    assert lines[0] == "label,account_length,gender,day_mins,intl_plan"
    assert len(lines) == 41
    assert {line.split(",")[2] for line in lines[1:]} == {"0", "1"}  # the facet takes both values


def test_a_model_quality_baseline_holds_truth_prediction_and_probability_as_named():
    lines = sample_dataset(_example("realtime_builtin_xgboost_monitor_model_quality.yaml"), "baseline_data").decode().splitlines()
    assert lines[0] == "label,prediction,probability"
    truth, prediction, probability = lines[1].split(",")
    assert prediction == str(int(float(probability) >= 0.5))


def test_builtin_training_data_has_no_header_and_autopilot_data_names_its_target():
    training = sample_dataset(_example("training_builtin_xgboost.yaml"), "training_data").decode().splitlines()
    assert all(float(value) >= 0 for value in training[0].split(","))  # numbers only: no header
    autopilot = _example("autopilot_training.json")
    header = sample_dataset(autopilot, "training_data").decode().splitlines()[0].split(",")
    assert header[0] == autopilot.target_attribute


@pytest.fixture(scope="module")
def emulator():
    from mlops_orchestrator.local import LocalAws

    with LocalAws(port=0) as aws:
        yield aws


def test_seeding_makes_the_assets_bucket_not_a_bucket_named_after_a_key_and_fills_a_deploy_section(emulator, tmp_path):
    data = yaml.safe_load((DAGS / "examples" / "training_deploy_realtime.yaml").read_text())
    data |= {
        "assets_bucket": "seed-assets",
        "deploy": {
            "type": "batch",
            "inference_instance": "ml.m5.large",
            "batch_inference_data": {"dev": "seed-in/scoring", "prod": "seed-in-prod/scoring"},
            "batch_job_output_location": "seed-out/scores",
        },
    }
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(data))
    config = load_config(tmp_path / "train.yaml", root=tmp_path)
    created = seed_inputs(config, emulator.client, "us-east-1")
    buckets = {b["Name"] for b in emulator.client("s3").list_buckets()["Buckets"]}
    assert {"seed-assets", "seed-in", "seed-in-prod", "seed-out"} <= buckets
    assert "churn" not in buckets  # job_output_location is a key in the assets bucket
    assert "s3://seed-assets/churn/train/data.csv (sample dataset)" in created
    assert "s3://seed-in/scoring/sample-1.csv (sample batch input)" in created
    assert seed_inputs(config, emulator.client, "us-east-1") == []  # nothing twice
