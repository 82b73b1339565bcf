"""MWO's model card request bodies, performed by ``handle_request`` against the emulator over HTTP.

The plugin's API (``POST /mlops-orchestrator/provisionpipeline``) hands these bodies to the same
function; here it is called directly, through a real Airflow AWS connection to the emulator.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from mlops_orchestrator.model_cards import ModelCardRequestError, handle_request

pytestmark = pytest.mark.integration

BUCKET = "cards-assets"
CONN = "aws_cards"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture(scope="module")
def call(local_aws, aws):
    from mlops_orchestrator.run.airflow_env import set_local_aws_connection

    set_local_aws_connection(CONN, local_aws.endpoint_url, "us-east-1")
    aws("s3").create_bucket(Bucket=BUCKET)

    def perform(body: dict[str, Any], assets_bucket: str | None = BUCKET) -> dict[str, Any]:
        answer = handle_request(body, aws_conn_id=CONN, region_name="us-east-1", assets_bucket=assets_bucket)
        json.dumps(answer)  # what the API sends back must be JSON as it is
        return answer

    return perform


def problems(call, body: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ModelCardRequestError) as caught:
        call(body, **kwargs)
    return [problem.format() for problem in caught.value.problems]


def wait(describe, key: str, running: tuple[str, ...] = ("InProgress", "Stopping")) -> dict[str, Any]:
    for _ in range(300):
        described = describe()
        if described[key] not in running:
            return described
        time.sleep(0.1)
    raise AssertionError("never ended")


MWO_CREATE = {
    # as MWO's README and tests posted it
    "pipeline_type": "create_model_card",
    "name": "churn-card",
    "status": "Draft",
    "version": 1,
    "model_overview": {
        "model_description": "Predicts churn",
        "problem_type": "Binary Classification",
        "algorithm_type": "XGBoost",
        "model_creator": "data science",
        "model_owner": "marketing",
        "model_artifact": ["s3://bucket/churn/model.tar.gz"],
        "inference_environment": [XGBOOST],
    },
    "intended_uses": {
        "purpose_of_model": "customer churn",
        "intended_uses": "marketing allocation",
        "factors_affecting_model_efficiency": "data quality",
        "risk_rating": "Medium",
    },
    "training_details": {
        "objective_function": {"function": "Maximize", "facet": "AUC"},
        "training_observations": "converged",
        "training_job_details": {
            "training_arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/churn",
            "training_datasets": ["s3://bucket/churn/train.csv"],
            "training_environment": [XGBOOST],
            "user_provided_training_metrics": [{"name": "auc", "value": 0.91}],
        },
    },
    "evaluation_details": [
        {
            "name": "holdout",
            "evaluation_observation": "fine",
            "datasets": ["s3://bucket/churn/test.csv"],
            "metric_groups": [
                {
                    "name": "binary",
                    "metric_data": [
                        {"name": "accuracy", "type": "number", "value": 0.88},
                        {"name": "roc", "type": "linear_graph", "value": [[0, 0], [0.2, 0.8], [1, 1]]},
                    ],
                }
            ],
        }
    ],
    "additional_information": {"ethical_considerations": "evaluate regularly", "custom_details": {"team": "growth"}},
}


def test_an_mwo_card_is_created_updated_described_listed_exported_and_deleted(call, aws) -> None:
    created = call(MWO_CREATE)
    assert (created["ModelCardName"], created["ModelCardStatus"], created["ModelCardVersion"]) == ("churn-card", "Draft", 1)
    content = json.loads(created["Content"])
    assert content["model_overview"]["inference_environment"] == {"container_image": [XGBOOST]}
    assert content["training_details"]["training_job_details"]["training_environment"] == {"container_image": [XGBOOST]}
    assert content["intended_uses"]["risk_rating"] == "Medium"
    assert content["evaluation_details"][0]["metric_groups"][0]["metric_data"][1]["type"] == "linear_graph"
    assert isinstance(created["CreationTime"], str)

    updated = call(
        {
            "pipeline_type": "update_model_card",
            "name": "churn-card",
            "status": "PendingReview",
            "intended_uses": {"purpose_of_model": "customer churn", "risk_rating": "High"},
        }
    )
    content = json.loads(updated["Content"])
    assert updated["ModelCardStatus"] == "PendingReview"
    assert content["intended_uses"] == {"purpose_of_model": "customer churn", "risk_rating": "High"}
    assert content["additional_information"]["custom_details"] == {"team": "growth"}  # not in the body: kept
    assert updated["ModelCardVersion"] == 3  # status and content: one version each, as the SDK wrote them

    unchanged = call({"pipeline_type": "update_model_card", "name": "churn-card", "status": "PendingReview"})
    assert unchanged["ModelCardVersion"] == 3  # nothing differed, nothing written

    first = call({"pipeline_type": "describe_model_card", "name": "churn-card", "version": 1})
    assert json.loads(first["Content"])["intended_uses"]["risk_rating"] == "Medium"
    listed = call({"pipeline_type": "list_model_cards"})
    assert {"churn-card": "PendingReview"}.items() <= {
        s["ModelCardName"]: s["ModelCardStatus"] for s in listed["ModelCardSummaries"]
    }.items()

    exported = call({"pipeline_type": "export_model_card", "name": "churn-card", "model_card_version": 1})
    assert exported["Status"] == "Completed" and exported["ModelCardVersion"] == 1
    assert exported["message"] == f"Model card with the name: churn-card has been exported to s3://{BUCKET}/model_card_exports"
    bucket, _, key = exported["pdf"].removeprefix("s3://").partition("/")
    assert bucket == BUCKET and key.startswith("model_card_exports/churn-card/churn-card-2")
    pdf = aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert pdf.startswith(b"%PDF") and b"risk_rating: Medium" in pdf

    deleted = call({"pipeline_type": "delete_model_card", "name": "churn-card"})
    assert deleted["message"] == "Model card with the name: churn-card has been deleted"
    assert problems(call, {"pipeline_type": "describe_model_card", "name": "churn-card"}) == [
        "request body: name: no model card named 'churn-card'"
    ]


def test_the_card_is_filled_from_the_model_and_its_training_job(call, aws, control) -> None:
    s3, sagemaker = aws("s3"), aws("sagemaker")
    s3.put_object(Bucket=BUCKET, Key="train/data.csv", Body=b"1,0.5,0.25\n0,0.1,0.75\n1,0.9,0.1\n")
    sagemaker.create_training_job(
        TrainingJobName="card-train",
        AlgorithmSpecification={"TrainingImage": XGBOOST, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        HyperParameters={"num_round": "3", "objective": "binary:logistic"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/train"}},
                "ContentType": "text/csv",
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    job = wait(lambda: sagemaker.describe_training_job(TrainingJobName="card-train"), "TrainingJobStatus")
    assert job["TrainingJobStatus"] == "Completed"
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    model_arn = sagemaker.create_model(
        ModelName="card-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGBOOST, "ModelDataUrl": artifact}
    )["ModelArn"]

    card = call(
        {
            "pipeline_type": "create_model_card",
            "name": "discovered",
            "model_overview": {"model_name": "card-model", "model_owner": "growth"},
            "training_details": {"model_name": "card-model", "training_observations": "three rounds"},
        }
    )
    content = json.loads(card["Content"])
    overview = content["model_overview"]
    assert overview["model_id"] == model_arn and overview["model_artifact"] == [artifact]
    assert overview["inference_environment"] == {"container_image": [XGBOOST]}
    assert overview["model_owner"] == "growth"
    details = content["training_details"]
    assert details["training_observations"] == "three rounds"
    job_details = details["training_job_details"]
    assert job_details["training_arn"] == job["TrainingJobArn"]
    assert job_details["training_datasets"] == [f"s3://{BUCKET}/train"]
    assert {m["name"]: m["value"] for m in job_details["training_metrics"]} == {
        m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]
    }
    assert {"name": "num_round", "value": "3"} in job_details["hyper_parameters"]

    by_job = call(
        {"pipeline_type": "update_model_card", "name": "discovered", "training_details": {"training_job_name": "card-train"}}
    )
    assert json.loads(by_job["Content"])["training_details"]["training_job_details"]["training_arn"] == job["TrainingJobArn"]

    # a model whose artifact no training job wrote
    sagemaker.create_model(
        ModelName="byom-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST, "ModelDataUrl": f"s3://{BUCKET}/byom/model.tar.gz"},
    )
    assert problems(
        call,
        {"pipeline_type": "create_model_card", "name": "byom", "training_details": {"model_name": "byom-model"}},
    ) == [
        "request body: training_details.model_name: no training job found for model 'byom-model': its artifact "
        f"s3://{BUCKET}/byom/model.tar.gz is not the output of a SageMaker training job "
        "(give training_job_name or training_job_details instead)"
    ]


def test_evaluation_metrics_are_read_from_a_model_monitor_statistics_file(call, aws) -> None:
    s3, sagemaker = aws("s3"), aws("sagemaker")
    s3.put_object(Bucket=BUCKET, Key="mq/baseline.csv", Body=b"truth,score\n1,0.9\n1,0.4\n0,0.6\n0,0.1\n1,0.8\n")
    sagemaker.create_processing_job(
        ProcessingJobName="card-quality",
        AppSpecification={"ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"},
        RoleArn=ROLE,
        Environment={
            "dataset_format": json.dumps({"csv": {"header": True}}),
            "analysis_type": "MODEL_QUALITY",
            "problem_type": "BinaryClassification",
            "ground_truth_attribute": "truth",
            "probability_attribute": "score",
            "probability_threshold_attribute": "0.7",
        },
        ProcessingInputs=[
            {
                "InputName": "baseline_dataset_input",
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/mq",
                    "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {"S3Uri": f"s3://{BUCKET}/mq-out", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"},
                }
            ]
        },
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
    )
    done = wait(lambda: sagemaker.describe_processing_job(ProcessingJobName="card-quality"), "ProcessingJobStatus")
    assert done["ProcessingJobStatus"] == "Completed", done.get("FailureReason")

    card = call(
        {
            "pipeline_type": "create_model_card",
            "name": "evaluated",
            "evaluation_details": [
                {
                    "name": "baseline",
                    "metric_file_s3_url": f"s3://{BUCKET}/mq-out/statistics.json",
                    "metric_type": "binary_classification",
                }
            ],
        }
    )
    [group] = json.loads(card["Content"])["evaluation_details"][0]["metric_groups"]
    metrics = {metric["name"]: metric for metric in group["metric_data"]}
    assert group["name"] == "binary_classification_metrics"
    assert metrics["accuracy"]["value"] == pytest.approx(0.8)
    assert metrics["confusion_matrix"]["type"] == "matrix"
    assert metrics["confusion_matrix"]["value"] == [[2, 0], [1, 2]]

    assert problems(
        call,
        {
            "pipeline_type": "create_model_card",
            "name": "wrong-type",
            "evaluation_details": [
                {"name": "b", "metric_file_s3_url": f"s3://{BUCKET}/mq-out/statistics.json", "metric_type": "regression"}
            ],
        },
    ) == [
        f"request body: evaluation_details[0].metric_file_s3_url: s3://{BUCKET}/mq-out/statistics.json is not a "
        "regression file: no 'regression_metrics' (not Model Monitor model quality statistics of a regression problem)"
    ]
    [missing] = problems(
        call,
        {
            "pipeline_type": "create_model_card",
            "name": "no-file",
            "evaluation_details": [{"name": "b", "metric_file_s3_url": f"s3://{BUCKET}/nope.json", "metric_type": "clarify_bias"}],
        },
    )
    assert missing.startswith(f"request body: evaluation_details[0].metric_file_s3_url: cannot read s3://{BUCKET}/nope.json (NoSuchKey")


def test_bad_bodies_name_every_field(call) -> None:
    assert problems(
        call,
        {
            "pipeline_type": "create_model_card",
            "status": "Drafty",
            "intended_uses": {"risk_ratin": "Low"},
            "evaluation_details": [
                {"name": "e", "metric_file_s3_url": "s3://b/k.json"},
                {"name": "f", "metric_groups": [{"name": "g", "metric_data": [{"name": "m", "type": "number", "value": "high"}]}]},
            ],
            "training_details": {"training_job_name": "a", "model_name": "b"},
        },
    ) == [
        "request body: name: required for create_model_card (the model card's name)",
        "request body: status: unknown value 'Drafty'; did you mean 'Draft'? (expected one of Draft, PendingReview, Approved, Archived)",
        "request body: intended_uses.risk_ratin: unknown field; did you mean 'risk_rating'?",
        "request body: training_details: give one of model_name, training_job_name or training_job_details, not model_name and training_job_name",
        "request body: evaluation_details[0]: metric_type is required with metric_file_s3_url: one of model_card_metric_schema, "
        "clarify_bias, clarify_explainability, regression, binary_classification, multiclass_classification",
        "request body: evaluation_details[1].metric_groups[0].metric_data[0]: value 'high' does not fit type number (expected a number)",
    ]
    call({"pipeline_type": "create_model_card", "name": "taken"})
    assert problems(call, {"pipeline_type": "create_model_card", "name": "taken"}) == [
        "request body: name: a model card named 'taken' already exists (update_model_card changes it)"
    ]
    assert problems(call, {"pipeline_type": "update_model_card", "name": "absent", "status": "Approved"}) == [
        "request body: name: no model card named 'absent'"
    ]
    assert problems(call, {"pipeline_type": "describe_model_card", "name": "taken", "version": 9}) == [
        "request body: version: no model card named 'taken' with version 9"
    ]
    assert problems(call, {"pipeline_type": "export_model_card", "name": "taken"}, assets_bucket=None) == [
        "request body: pipeline_type: export_model_card writes the PDF to the assets bucket, and none is set "
        "(assets_bucket in defaults.yaml, or MLOPS_ORCHESTRATOR_ASSETS_BUCKET)"
    ]
    assert problems(call, {"pipeline_type": "create_model_card", "name": "bad name!"}) == [
        "request body: name: expected a SageMaker name: letters, digits and hyphens, starting with a letter or digit, "
        "at most 63 characters, got 'bad name!'"
    ]
