"""The training pipelines' requests, built from real configs (loaded from files as the DAG loader
loads them, MWO spellings and string values included), and the per-run job names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlops_orchestrator.config import load_config
from mlops_orchestrator.operators.training_requests import (
    JOB_NAME_LIMITS,
    autopilot_request,
    job_name_for,
    job_name_prefix,
    job_name_stem,
    training_request,
    tuning_request,
)

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "valid"
BUCKET = "mlops-assets-111122223333"
ROLE = "arn:aws:iam::111122223333:role/training"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
KMS_DEV = "arn:aws:kms:us-east-1:111122223333:key/dev-key"
KMS_PROD = "arn:aws:kms:us-east-1:444455556666:key/prod-key"
VPC = {"subnet_ids": ["subnet-0abc1234"], "security_group_ids": ["sg-0abc1234", "sg-0def5678"]}
#: SageMaker's job name pattern (training, tuning and AutoML share it, with different lengths)
NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


@pytest.fixture
def load(tmp_path: Path):
    """load(data, name="pipeline.yaml") -> the validated config of that file."""

    def _load(data: dict[str, Any], name: str = "pipeline.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"assets_bucket": BUCKET, **data}, sort_keys=False))
        return load_config(path, root=tmp_path)

    return _load


def fixture_config(file_name: str):
    return load_config(VALID / file_name, root=VALID)


def training(**extra: Any) -> dict[str, Any]:
    """A model_training_builtin payload with only MWO's required fields (the rest defaulted)."""
    return {
        "pipeline_type": "model_training_builtin",
        "model_name": "churn",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "training_data": "churn/train/data.csv",
        "job_output_location": "churn/output",
        "algo_hyperparameters": {"num_round": 10},
        **extra,
    }


def tuner(**extra: Any) -> dict[str, Any]:
    return {
        **training(pipeline_type="model_tuner_builtin"),
        "tuner_configs": {"objective_metric_name": "validation:auc"},
        "hyperparameters_ranges": {"eta": ["continuous", [0.1, 0.5]]},
        **extra,
    }


def autopilot(**extra: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "model_autopilot_training",
        "model_name": "churn-auto",
        "training_data": "churn/autopilot/train.csv",
        "job_output_location": "churn/autopilot-output",
        "target_attribute": "churn",
        **extra,
    }


def channel(uri: str, **changes: Any) -> dict[str, Any]:
    """A channel with MWO's default data settings."""
    name = "validation" if "validation" in uri else "train"
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
        },
        "ContentType": "csv",
        "InputMode": "File",
        **changes,
    }


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


def test_the_mwo_training_payload_maps_every_field():
    config = fixture_config("model_training_builtin.yaml")  # algo_hyperparamaters, "True", "7200"
    assert training_request(config, "dev", role_arn=ROLE, image_uri=IMAGE) == {
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": IMAGE},
        "RoleArn": ROLE,
        "InputDataConfig": [
            channel(f"s3://{BUCKET}/churn/train/data.csv"),
            channel(f"s3://{BUCKET}/churn/validation/data.csv"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/churn/training-output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400},
        "EnableInterContainerTrafficEncryption": False,
        "EnableManagedSpotTraining": True,
        "CheckpointConfig": {"S3Uri": f"s3://{BUCKET}/churn/training-output/checkpoints"},
        "HyperParameters": {
            "eval_metric": "auc",
            "objective": "binary:logistic",
            "num_round": "400",
            "rate_drop": "0.3",
        },
    }


def test_mwo_defaults_fill_what_the_payload_leaves_out(load):
    request = training_request(load(training()), "dev", role_arn=ROLE, image_uri=None)
    assert "TrainingImage" not in request["AlgorithmSpecification"]  # looked up at run time
    assert request["InputDataConfig"] == [channel(f"s3://{BUCKET}/churn/train/data.csv")]  # no validation
    assert request["ResourceConfig"] == {"InstanceType": "ml.m4.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 20}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400, "MaxWaitTimeInSeconds": 172800}
    assert request["EnableManagedSpotTraining"] is True
    assert request["CheckpointConfig"] == {"S3Uri": f"s3://{BUCKET}/churn/output/checkpoints"}
    assert request["EnableInterContainerTrafficEncryption"] is True
    assert request["OutputDataConfig"] == {"S3OutputPath": f"s3://{BUCKET}/churn/output"}
    assert "VpcConfig" not in request and "VolumeKmsKeyId" not in request["ResourceConfig"]


def test_without_spot_instances_there_is_no_spot_wait_and_no_checkpoint(load):
    request = training_request(load(training(use_spot_instances="False")), "dev", role_arn=ROLE, image_uri=IMAGE)
    assert request["EnableManagedSpotTraining"] is False
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert "CheckpointConfig" not in request


def test_kms_per_stage_and_vpc_reach_volume_output_and_network(load):
    config = load(training(kms_key_arn={"dev": KMS_DEV, "prod": KMS_PROD}, **VPC))
    dev = training_request(config, "dev", role_arn=ROLE, image_uri=IMAGE)
    prod = training_request(config, "prod", role_arn=ROLE, image_uri=IMAGE)
    assert dev["OutputDataConfig"]["KmsKeyId"] == dev["ResourceConfig"]["VolumeKmsKeyId"] == KMS_DEV
    assert prod["OutputDataConfig"]["KmsKeyId"] == prod["ResourceConfig"]["VolumeKmsKeyId"] == KMS_PROD
    assert dev["VpcConfig"] == {"SecurityGroupIds": ["sg-0abc1234", "sg-0def5678"], "Subnets": ["subnet-0abc1234"]}


def test_data_settings_apply_to_every_channel(load):
    config = load(
        training(
            validation_data="s3://other-bucket/churn/validation.manifest",  # a full URI stays as given
            content_type="application/x-recordio",
            s3_data_type="AugmentedManifestFile",
            attribute_names='["source-ref", "label"]',  # MWO sent lists JSON-encoded
            data_distribution="ShardedByS3Key",
            compression_type="Gzip",
            data_input_mode="Pipe",
            data_record_wrapping="RecordIO",
        )
    )
    request = training_request(config, "dev", role_arn=ROLE, image_uri=IMAGE)
    assert request["AlgorithmSpecification"]["TrainingInputMode"] == "Pipe"
    uris = [f"s3://{BUCKET}/churn/train/data.csv", "s3://other-bucket/churn/validation.manifest"]
    for uri, got in zip(uris, request["InputDataConfig"], strict=True):
        assert got == {
            "ChannelName": "validation" if "validation" in uri else "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "AugmentedManifestFile",
                    "S3Uri": uri,
                    "S3DataDistributionType": "ShardedByS3Key",
                    "AttributeNames": ["source-ref", "label"],
                }
            },
            "ContentType": "application/x-recordio",
            "InputMode": "Pipe",
            "CompressionType": "Gzip",
            "RecordWrapperType": "RecordIO",
        }


def test_hyperparameters_are_strings_as_sagemaker_takes_them(tmp_path: Path):
    # JSON, as MWO's API took it: a JSON-encoded object and real booleans and numbers.
    import json

    path = tmp_path / "hp.json"
    data = training(algo_hyperparamaters='{"num_round": 10, "eta": 0.25, "verbose": true, "objective": "reg:linear"}')
    del data["algo_hyperparameters"]
    path.write_text(json.dumps({"assets_bucket": BUCKET, **data}))
    request = training_request(load_config(path, root=tmp_path), "dev", role_arn=ROLE, image_uri=IMAGE)
    assert request["HyperParameters"] == {"num_round": "10", "eta": "0.25", "verbose": "true", "objective": "reg:linear"}


def test_the_role_may_be_a_template_rendered_at_run_time(load):
    template = "{{ ti.xcom_pull(task_ids='deploy_stack')['outputs']['TrainingRoleArn'] }}"
    assert training_request(load(training()), "dev", role_arn=template, image_uri=None)["RoleArn"] == template


# --------------------------------------------------------------------------------------------
# tuning
# --------------------------------------------------------------------------------------------


def test_the_mwo_tuner_payload_maps_ranges_objective_and_limits():
    config = fixture_config("model_tuner_builtin.yaml")  # hyperparamaters_ranges, algo_hyperparamaters
    request = tuning_request(config, "dev", role_arn=ROLE, image_uri=IMAGE)
    assert request["HyperParameterTuningJobConfig"] == {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {
            "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "15", "ScalingType": "Auto"}],
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5", "ScalingType": "Auto"},
                {"Name": "gamma", "MinValue": "0.0", "MaxValue": "5.0", "ScalingType": "Auto"},
                {"Name": "min_child_weight", "MinValue": "0.0", "MaxValue": "120.0", "ScalingType": "Auto"},
            ],
            "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["sgd", "Adam"]}],
        },
        "TrainingJobEarlyStoppingType": "Auto",
    }
    definition = request["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {
        "eval_metric": "auc",
        "objective": "binary:logistic",
        "num_round": "400",
    }
    assert "HyperParameters" not in definition
    # The rest of the definition is the training job's, field for field.
    single = training_request(config, "dev", role_arn=ROLE, image_uri=IMAGE)
    assert {k: v for k, v in definition.items() if k != "StaticHyperParameters"} == {
        k: v for k, v in single.items() if k != "HyperParameters"
    }
    assert definition["CheckpointConfig"] == {"S3Uri": f"s3://{BUCKET}/churn/tuning-output/checkpoints"}


def test_tuned_hyperparameters_leave_the_static_ones_and_every_tuner_option_maps(load):
    payload = tuner(
        algo_hyperparameters={"num_round": 100, "eta": 0.3, "objective": "binary:logistic"},
        tuner_configs={
            "objective_metric_name": "validation:rmse",
            "objective_type": "Minimize",
            "strategy": "Random",
            "max_jobs": "6",
            "max_parallel_jobs": 3,
            "metric_definitions": [{"Name": "validation:rmse", "Regex": "rmse: ([0-9.]+)"}],
            "max_runtime_in_seconds": 7200,
            "random_seed": 42,
        },
        kms_key_arn=KMS_DEV,
        use_spot_instances=False,
        **VPC,
    )
    del payload["hyperparameters_ranges"]
    payload["hyperparamaters_ranges"] = {  # MWO's spelling
        "eta": ["continuous", [0.01, 0.5, "Logarithmic"]],
        "num_round": ["integer", ["50", "500", "Linear"]],
        "booster": ["categorical", ["gbtree", "dart", 3]],
    }
    config = load(payload)
    request = tuning_request(config, "dev", role_arn=ROLE, image_uri=None)
    tuning = request["HyperParameterTuningJobConfig"]
    assert tuning["Strategy"] == "Random"
    assert tuning["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "validation:rmse"}
    assert tuning["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 6,
        "MaxParallelTrainingJobs": 3,
        "MaxRuntimeInSeconds": 7200,
    }
    assert tuning["RandomSeed"] == 42
    assert tuning["TrainingJobEarlyStoppingType"] == "Off"
    assert tuning["ParameterRanges"] == {
        "IntegerParameterRanges": [{"Name": "num_round", "MinValue": "50", "MaxValue": "500", "ScalingType": "Linear"}],
        "ContinuousParameterRanges": [
            {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
        ],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart", "3"]}],
    }
    definition = request["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {"objective": "binary:logistic"}
    assert definition["AlgorithmSpecification"] == {
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "validation:rmse", "Regex": "rmse: ([0-9.]+)"}],
    }
    assert definition["OutputDataConfig"]["KmsKeyId"] == definition["ResourceConfig"]["VolumeKmsKeyId"] == KMS_DEV
    assert definition["VpcConfig"]["Subnets"] == ["subnet-0abc1234"]
    assert definition["EnableManagedSpotTraining"] is False
    assert "CheckpointConfig" not in definition and "MaxWaitTimeInSeconds" not in definition["StoppingCondition"]


# --------------------------------------------------------------------------------------------
# Autopilot
# --------------------------------------------------------------------------------------------


def test_the_mwo_autopilot_payload_maps_every_field():
    config = fixture_config("model_autopilot_training.json")  # "15", "86400", "False", "" as MWO sent them
    assert autopilot_request(config, "dev", role_arn=ROLE) == {
        "InputDataConfig": [
            {
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/churn/autopilot/train.csv"}
                },
                "TargetAttributeName": "churn",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/churn/autopilot-output"},
        "AutoMLJobConfig": {
            "CompletionCriteria": {
                "MaxCandidates": 15,
                "MaxRuntimePerTrainingJobInSeconds": 3600,
                "MaxAutoMLJobRuntimeInSeconds": 86400,
            },
            "SecurityConfig": {"EnableInterContainerTrafficEncryption": True},
        },
        "GenerateCandidateDefinitionsOnly": False,
        "RoleArn": ROLE,
        "ProblemType": "BinaryClassification",
        "AutoMLJobObjective": {"MetricName": "F1"},
    }


def test_autopilot_defaults_leave_problem_type_and_objective_to_autopilot(load):
    request = autopilot_request(load(autopilot()), "dev", role_arn=ROLE)
    assert "ProblemType" not in request and "AutoMLJobObjective" not in request
    assert request["AutoMLJobConfig"]["CompletionCriteria"] == {
        "MaxCandidates": 10,
        "MaxRuntimePerTrainingJobInSeconds": 86400,
        "MaxAutoMLJobRuntimeInSeconds": 2592000,
    }
    assert request["GenerateCandidateDefinitionsOnly"] is False
    assert "CompressionType" not in request["InputDataConfig"][0]


def test_autopilot_takes_kms_vpc_compression_and_definition_only_which_mwo_ignored(load):
    config = load(
        autopilot(
            kms_key_arn={"dev": KMS_DEV, "prod": KMS_PROD},
            compression_type="Gzip",
            generate_definition_only="True",
            encrypt_inner_traffic="False",
            **VPC,
        )
    )
    request = autopilot_request(config, "prod", role_arn=ROLE)
    assert request["OutputDataConfig"] == {"S3OutputPath": f"s3://{BUCKET}/churn/autopilot-output", "KmsKeyId": KMS_PROD}
    assert request["AutoMLJobConfig"]["SecurityConfig"] == {
        "EnableInterContainerTrafficEncryption": False,
        "VolumeKmsKeyId": KMS_PROD,
        "VpcConfig": {"SecurityGroupIds": ["sg-0abc1234", "sg-0def5678"], "Subnets": ["subnet-0abc1234"]},
    }
    assert request["InputDataConfig"][0]["CompressionType"] == "Gzip"
    assert request["GenerateCandidateDefinitionsOnly"] is True


# --------------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------------


def test_job_names_are_the_same_for_every_try_of_a_run_and_differ_between_runs_and_dags():
    one = job_name_for("training", "churn", "churn_training", "manual__2025-06-01T00:00:00+00:00")
    assert one == job_name_for("training", "churn", "churn_training", "manual__2025-06-01T00:00:00+00:00")
    assert one != job_name_for("training", "churn", "churn_training", "manual__2025-06-02T00:00:00+00:00")
    assert one != job_name_for("training", "churn", "other_dag", "manual__2025-06-01T00:00:00+00:00")
    assert re.fullmatch(r"churn-[0-9a-f]{12}", one)


@pytest.mark.parametrize("kind", sorted(JOB_NAME_LIMITS))
def test_job_names_fit_sagemakers_limit_of_each_kind(kind):
    long = job_name_for(kind, "a-very-long-model-name-" * 4, "dag", "run")
    assert len(long) <= JOB_NAME_LIMITS[kind] and NAME.match(long)
    assert long.startswith("a-very-long-")
    # cutting the prefix never leaves a hyphen before the digest, nor two names of two runs equal
    assert not long[: -13].endswith("-")
    assert long != job_name_for(kind, "a-very-long-model-name-" * 4, "dag", "run-2")


def test_the_stem_is_what_every_runs_name_starts_with():
    for kind in JOB_NAME_LIMITS:
        for prefix in ("churn", "", "x" * 80, "Churn_Model.v2"):
            stem = job_name_stem(kind, prefix)
            assert job_name_for(kind, prefix, "dag", "run").startswith(f"{stem}-")
            assert len(stem) == len(job_name_for(kind, prefix, "dag", "run")) - 13
    assert job_name_stem("tuning", "churn-hyperparameter-search") == "churn-hyperparamete"  # 32 - 13


def test_job_names_keep_only_what_sagemaker_allows():
    assert job_name_for("automl", "Churn_Model.v2", "d", "r").startswith("Churn-Model-v2-")
    assert job_name_for("tuning", "", "d", "r").startswith("tuning-")
    assert NAME.match(job_name_for("training", "--odd__name--", "d", "r"))
    with pytest.raises(ValueError, match="unknown job kind 'batch'; expected one of training, tuning, automl"):
        job_name_for("batch", "churn", "d", "r")


def test_the_prefix_is_the_configs_job_name_then_the_tuners_base_name_then_the_model(load):
    assert job_name_prefix(load(training())) == "churn"
    assert job_name_prefix(load(training(job_name="churn-weekly"))) == "churn-weekly"
    with_base = tuner(tuner_configs={"objective_metric_name": "validation:auc", "base_tuning_job_name": "hpo"})
    assert job_name_prefix(load(with_base)) == "hpo"
    assert job_name_prefix(load({**with_base, "job_name": "mine"})) == "mine"
    assert job_name_prefix(load(autopilot())) == "churn-auto"


def test_importing_the_builders_stays_light():
    """The DAG factory imports them at parse time: no Airflow, boto3 or SageMaker SDK."""
    code = (
        "import sys, mlops_orchestrator.operators.training_requests\n"
        "heavy = [m for m in ('airflow', 'boto3', 'botocore', 'sagemaker') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
