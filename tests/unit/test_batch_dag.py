"""The batch pipeline's DAG, its transform request, job names and output folders, and its blueprint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from mlops_orchestrator.blueprint_files import read_blueprint
from mlops_orchestrator.config import load_config
from mlops_orchestrator.factory.batch import stack_parameters, transform_request
from mlops_orchestrator.operators.sagemaker import run_output_folder, transform_job_name

REPO = Path(__file__).resolve().parents[1].parent
EXAMPLES = REPO / "dags"


def _config(tmp_path: Path, **fields):
    data = {
        "pipeline_type": "byom_batch_builtin",
        "model_name": "scoring",
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "model_artifact_location": "s3://assets-bucket/models/scoring.tar.gz",
        "inference_instance": "ml.m5.large",
        "batch_inference_data": "data-bucket/in",
        "batch_job_output_location": "s3://data-bucket/out/",
        **fields,
    }
    path = tmp_path / "scoring.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path, root=tmp_path)


def test_the_example_batch_configs_become_scheduled_dags_through_the_dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES), safe_mode=True)
    assert bag.import_errors == {}
    nightly = bag.dags["batch_builtin_xgboost"]
    assert "invalid-config" not in nightly.tags
    assert set(nightly.task_ids) == {
        "deploy_stack",
        "batch_transform",
        "stop_transform_jobs",
        "delete_stack",
    }
    assert nightly.schedule == "0 2 * * *"
    assert nightly.get_task("batch_transform").upstream_task_ids == {"deploy_stack"}
    assert nightly.get_task("delete_stack").upstream_task_ids == {"stop_transform_jobs"}
    # deprovision: deploy_stack skips itself and the deprovision path follows it
    assert nightly.get_task("stop_transform_jobs").upstream_task_ids == {"deploy_stack"}
    assert nightly.get_task("stop_transform_jobs").trigger_rule == "all_skipped"
    assert nightly.get_task("deploy_stack").stack_name == "mlops-pipeline-churn-scoring-byompipelinebatchbuiltin"
    registry = bag.dags["batch_model_registry"]
    assert "invalid-config" not in registry.tags
    assert registry.get_task("deploy_stack").model_source["model_package_name"].endswith("model-package/demand-forecast/1")
    assert registry.get_task("batch_transform").config["TransformResources"]["InstanceCount"] == 2


def test_the_transform_request_defaults_to_mwos_job(tmp_path):
    config = _config(tmp_path)
    assert transform_request(config, "dev") == {
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data-bucket/in"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }


def test_the_transform_request_takes_the_options_and_the_stage_values(tmp_path):
    kms = "arn:aws:kms:eu-west-1:111122223333:key/abcd-1234"
    config = _config(
        tmp_path,
        inference_instance={"dev": "ml.m5.large", "prod": "ml.c5.2xlarge"},
        kms_key_arn={"dev": kms, "prod": kms},
        batch_inference_data={"dev": "dev-bucket/in", "prod": "prod-bucket/in"},
        batch_job_output_location={"dev": "dev-bucket/out", "prod": "prod-bucket/out"},
        content_type="application/jsonlines",
        accept="application/jsonlines",
        split_type="None",
        assemble_with="None",
        instance_count=3,
    )
    request = transform_request(config, "prod")
    assert request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://prod-bucket/in"
    assert request["TransformInput"]["ContentType"] == "application/jsonlines"
    assert request["TransformInput"]["SplitType"] == "None"
    assert request["TransformOutput"] == {"AssembleWith": "None", "Accept": "application/jsonlines", "KmsKeyId": kms}
    assert request["TransformResources"] == {
        "InstanceType": "ml.c5.2xlarge",
        "InstanceCount": 3,
        "VolumeKmsKeyId": kms,
    }
    assert stack_parameters(config, "prod")["BatchOutputS3Path"] == "prod-bucket/out"


def test_stack_parameters_scope_a_whole_bucket_input_to_its_objects(tmp_path):
    assert stack_parameters(_config(tmp_path), "dev") | {"ModelName": None} == {
        "ModelName": None,
        "BatchInputS3Path": "data-bucket/in",
        "BatchInputBucket": "data-bucket",
        "BatchInputPrefix": "in",
        "BatchOutputS3Path": "data-bucket/out",
        "KmsKeyArn": "",
        "SubnetIds": "",
        "SecurityGroupIds": "",
    }
    whole = stack_parameters(_config(tmp_path, batch_inference_data="s3://data-bucket"), "dev")
    assert (whole["BatchInputS3Path"], whole["BatchInputPrefix"]) == ("data-bucket/", "")


def test_job_names_are_per_dag_run_and_fit_sagemakers_limit():
    name = transform_job_name("churn-scoring", "nightly", "scheduled__2025-06-01T02:00:00+00:00")
    assert name == transform_job_name("churn-scoring", "nightly", "scheduled__2025-06-01T02:00:00+00:00")
    assert name.startswith("churn-scoring-") and len(name) == len("churn-scoring-") + 12
    assert name != transform_job_name("churn-scoring", "nightly", "scheduled__2025-06-02T02:00:00+00:00")
    assert name != transform_job_name("churn-scoring", "other_dag", "scheduled__2025-06-01T02:00:00+00:00")
    long = transform_job_name("m" * 62 + "-x", "d", "r")
    assert len(long) == 63
    assert "--" not in long
    assert transform_job_name("---", "d", "r").startswith("transform-")


@pytest.mark.parametrize(
    ("run_id", "when", "folder"),
    [
        (
            "scheduled__2025-06-01T02:00:00+00:00",
            datetime(2025, 6, 1, 2, tzinfo=UTC),
            "2025-06-01/scheduled__2025-06-01T02-00-00-00-00",
        ),
        ("manual run #3 / retry", datetime(2025, 6, 2, tzinfo=UTC), "2025-06-02/manual-run-3-retry"),
        ("asset_triggered__x", None, "asset_triggered__x"),
        ("::", None, "run"),
    ],
)
def test_each_run_writes_to_its_own_s3_safe_folder(run_id, when, folder):
    assert run_output_folder(run_id, when) == folder


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags (!Ref, !If...) as plain data."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_batch_role_is_scoped_to_the_model_and_its_data():
    template = yaml.load(read_blueprint("batch-model.yaml"), Loader=_CfnLoader)
    assert set(template["Resources"]) == {"ExecutionRole", "Model"}
    statements = template["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    by_sid = {s["Sid"]: s for s in statements if isinstance(s, dict)}
    # Only the token and metric calls (which have no resource-level permissions) use "*".
    assert {sid for sid, s in by_sid.items() if s.get("Resource") == "*"} == {"EcrToken", "TransformJobMetrics"}
    assert by_sid["ReadModelArtifact"]["Action"] == "s3:GetObject"
    assert by_sid["ReadBatchInput"]["Action"] == "s3:GetObject"
    assert by_sid["ListBatchInput"]["Action"] == "s3:ListBucket"
    assert "Condition" in by_sid["ListBatchInput"]
    assert by_sid["WriteBatchOutput"]["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
