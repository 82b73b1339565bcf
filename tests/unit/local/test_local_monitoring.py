"""Model Monitor in the emulator: processing jobs and their analyses, job definitions, schedules, executions."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

ROLE = "arn:aws:iam::123456789012:role/monitor"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "monitor-data"
MONITOR_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
CLARIFY_IMAGE = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
CLUSTER = {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}}
#: label first, as the monitors' baselines are laid out
BASELINE = b"label,age,sex,income\n1,30,M,5.5\n0,40,F,6.5\n1,50,F,7\n0,20,M,1\n1,35,M,\n"


@pytest.fixture
def s3(aws_client: Callable[[str], Any]) -> Any:
    client = aws_client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def read_json(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def keys(s3: Any, prefix: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def processing_request(
    name: str,
    image: str = MONITOR_IMAGE,
    source: str = "baseline",
    output: str = "out/run-1",
    env: dict[str, str] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    **output_extra: str,
) -> dict[str, Any]:
    """What the lead's ``baseline_processing_request`` sends (Model Monitor's suggest_baseline shape)."""
    default_input = {
        "InputName": "baseline_dataset_input",
        "S3Input": {
            "S3Uri": f"s3://{BUCKET}/{source}",
            "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }
    return {
        "ProcessingJobName": name,
        "AppSpecification": {"ImageUri": image},
        "RoleArn": ROLE,
        "Environment": {
            "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output",
            "publish_cloudwatch_metrics": "Disabled",
            **(env or {}),
        },
        "ProcessingInputs": inputs if inputs is not None else [default_input],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/{output}",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
            **output_extra,
        },
        "ProcessingResources": CLUSTER,
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    }


def wait_for_job(sagemaker: Any, name: str) -> dict[str, Any]:
    for _ in range(200):
        described = sagemaker.describe_processing_job(ProcessingJobName=name)
        if described["ProcessingJobStatus"] not in ("InProgress", "Stopping"):
            return described
        time.sleep(0.05)
    raise AssertionError(f"processing job {name} never ended")


def run_job(sagemaker: Any, request: dict[str, Any]) -> dict[str, Any]:
    sagemaker.create_processing_job(**request)
    return wait_for_job(sagemaker, request["ProcessingJobName"])


# --- processing jobs ------------------------------------------------------------------------------


def test_a_processing_job_runs_keeps_its_request_and_writes_nothing_for_other_images(
    sagemaker: Any, s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    request = processing_request("pj-plain", image="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1")
    sagemaker.create_processing_job(**request)

    running = sagemaker.describe_processing_job(ProcessingJobName="pj-plain")
    assert running["ProcessingJobStatus"] == "InProgress"
    assert "ProcessingEndTime" not in running
    assert running["Environment"] == request["Environment"]
    assert running["ProcessingResources"] == CLUSTER
    assert running["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}

    done = wait_for_job(sagemaker, "pj-plain")
    assert done["ProcessingJobStatus"] == "Completed"
    assert "FailureReason" not in done
    assert done["ProcessingEndTime"] >= done["ProcessingStartTime"]
    assert keys(s3, "out/") == []
    completed = sagemaker.list_processing_jobs(StatusEquals="Completed")["ProcessingJobSummaries"]
    assert [job["ProcessingJobName"] for job in completed] == ["pj-plain"]


def test_a_name_is_used_once_and_a_missing_job_is_named(sagemaker: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    sagemaker.create_processing_job(**processing_request("pj-once"))
    with pytest.raises(ClientError, match="Job name must be unique within an AWS account and region") as err:
        sagemaker.create_processing_job(**processing_request("pj-once"))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError, match="Could not find processing job '.*processing-job/pj-none'"):
        sagemaker.describe_processing_job(ProcessingJobName="pj-none")


def test_the_data_quality_baseline_is_model_monitors_statistics_and_constraints(
    sagemaker: Any, s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/part-1.csv", Body=BASELINE)
    s3.put_object(Bucket=BUCKET, Key="baseline/part-2.csv", Body=b"label,age,sex,income\n0,45,F,2\n")
    done = run_job(sagemaker, processing_request("pj-dq", KmsKeyId=KMS))
    assert done["ProcessingJobStatus"] == "Completed", done.get("FailureReason")

    assert sorted(keys(s3, "out/run-1/")) == ["out/run-1/constraints.json", "out/run-1/statistics.json"]
    head = s3.head_object(Bucket=BUCKET, Key="out/run-1/statistics.json")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS)
    statistics = read_json(s3, "out/run-1/statistics.json")
    assert statistics["dataset"] == {"item_count": 6}  # the second file's header is not a record
    features = {feature["name"]: feature for feature in statistics["features"]}
    assert list(features) == ["label", "age", "sex", "income"]
    age = features["age"]
    assert age["inferred_type"] == "Integral"
    ages = [30, 40, 50, 20, 35, 45]
    numeric = age["numerical_statistics"]
    assert numeric["common"] == {"num_present": 6, "num_missing": 0}
    assert (numeric["sum"], numeric["min"], numeric["max"]) == (220, 20, 50)
    assert numeric["mean"] == pytest.approx(220 / 6)
    assert numeric["std_dev"] == pytest.approx(math.sqrt(sum((a - 220 / 6) ** 2 for a in ages) / 6))
    assert sum(bucket["count"] for bucket in numeric["distribution"]["kll"]["buckets"]) == 6
    income = features["income"]
    assert income["inferred_type"] == "Fractional"
    assert income["numerical_statistics"]["common"] == {"num_present": 5, "num_missing": 1}
    sex = features["sex"]["string_statistics"]
    assert sex["distinct_count"] == 2
    assert sex["distribution"]["categorical"]["buckets"] == [
        {"value": "F", "count": 3},
        {"value": "M", "count": 3},
    ]

    constraints = read_json(s3, "out/run-1/constraints.json")
    by_name = {feature["name"]: feature for feature in constraints["features"]}
    assert by_name["age"]["num_constraints"] == {"is_non_negative": True}
    assert by_name["income"]["completeness"] == pytest.approx(5 / 6)
    assert by_name["sex"]["string_constraints"] == {"domains": ["F", "M"]}
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] == "Robust"


def model_quality(problem: str, **attributes: str) -> dict[str, str]:
    return {"analysis_type": "MODEL_QUALITY", "problem_type": problem, **attributes}


def test_a_regression_baseline_has_the_real_metrics(sagemaker: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/mq.csv", Body=b"y,prediction\n3,2.5\n-0.5,0\n2,2\n7,8\n")
    env = model_quality("Regression", inference_attribute="prediction", ground_truth_attribute="y")
    assert run_job(sagemaker, processing_request("pj-reg", env=env))["ProcessingJobStatus"] == "Completed"

    metrics = read_json(s3, "out/run-1/statistics.json")["regression_metrics"]
    assert metrics["mae"]["value"] == pytest.approx(0.5)
    assert metrics["mse"]["value"] == pytest.approx(0.375)
    assert metrics["rmse"]["value"] == pytest.approx(math.sqrt(0.375))
    assert metrics["r2"]["value"] == pytest.approx(0.9486081370449679)
    assert all(metric["standard_deviation"] >= 0 for metric in metrics.values())
    constraints = read_json(s3, "out/run-1/constraints.json")["regression_constraints"]
    assert constraints["mae"] == {
        "threshold": pytest.approx(0.5),
        "comparison_operator": "GreaterThanThreshold",
    }
    assert constraints["r2"]["comparison_operator"] == "LessThanThreshold"


def test_a_binary_baseline_thresholds_the_probability(sagemaker: Any, s3: Any) -> None:
    body = b"truth,score,label\n1,0.9,1\n1,0.4,0\n0,0.6,1\n0,0.1,0\n1,0.8,1\n"
    s3.put_object(Bucket=BUCKET, Key="baseline/bin.csv", Body=body)
    env = model_quality(
        "BinaryClassification",
        ground_truth_attribute="truth",
        probability_attribute="score",
        probability_threshold_attribute="0.7",
    )
    assert run_job(sagemaker, processing_request("pj-bin", env=env))["ProcessingJobStatus"] == "Completed"

    metrics = read_json(s3, "out/run-1/statistics.json")["binary_classification_metrics"]
    # predicted positive: 0.9, 0.8 -> tp=2, fp=0, fn=1, tn=2
    assert metrics["confusion_matrix"] == {"0": {"0": 2, "1": 0}, "1": {"0": 1, "1": 2}}
    assert metrics["accuracy"]["value"] == pytest.approx(0.8)
    assert metrics["precision"]["value"] == pytest.approx(1.0)
    assert metrics["recall"]["value"] == pytest.approx(2 / 3)
    assert metrics["f1"]["value"] == pytest.approx(0.8)
    assert metrics["auc"]["value"] == pytest.approx(5 / 6)
    constraints = read_json(s3, "out/run-1/constraints.json")["binary_classification_constraints"]
    assert constraints["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    assert constraints["accuracy"] == {
        "threshold": pytest.approx(0.8),
        "comparison_operator": "LessThanThreshold",
    }


def test_a_multiclass_baseline_weights_by_class(sagemaker: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/mc.csv", Body=b"truth,pred\na,a\na,b\nb,b\nc,c\n")
    env = model_quality(
        "MulticlassClassification", inference_attribute="pred", ground_truth_attribute="truth"
    )
    assert run_job(sagemaker, processing_request("pj-mc", env=env))["ProcessingJobStatus"] == "Completed"
    metrics = read_json(s3, "out/run-1/statistics.json")["multiclass_classification_metrics"]
    assert metrics["accuracy"]["value"] == pytest.approx(0.75)
    # a: p=1, r=.5, f1=2/3 (weight .5); b: p=.5, r=1, f1=2/3 (.25); c: 1 (.25)
    assert metrics["weighted_f1"]["value"] == pytest.approx(0.5 * 2 / 3 + 0.25 * 2 / 3 + 0.25)


def test_a_missing_attribute_column_fails_the_baseline_naming_it(sagemaker: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/mq.csv", Body=b"y,prediction\n3,2.5\n")
    env = model_quality("Regression", inference_attribute="predicted", ground_truth_attribute="y")
    done = run_job(sagemaker, processing_request("pj-missing", env=env))
    assert done["ProcessingJobStatus"] == "Failed"
    assert "inference_attribute 'predicted' is not a column of the baseline dataset" in done["FailureReason"]
    assert "y, prediction" in done["FailureReason"]
    assert keys(s3, "out/") == []


def test_an_empty_input_or_a_missing_output_bucket_fails_like_sagemaker(sagemaker: Any, s3: Any) -> None:
    done = run_job(sagemaker, processing_request("pj-empty", source="nothing-here"))
    assert done["ProcessingJobStatus"] == "Failed"
    assert done["FailureReason"].startswith(
        f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/nothing-here" given in input data source.'
    )
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    request = processing_request("pj-nobucket")
    request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = "s3://no-such-bucket/out"
    done = run_job(sagemaker, request)
    assert (done["ProcessingJobStatus"], done["FailureReason"]) == (
        "Failed",
        'ClientError: The output S3 bucket "no-such-bucket" of "s3://no-such-bucket/out" does not exist.',
    )


@pytest.mark.parametrize(
    "match", ["pj-rule", "model-monitor-analyzer", f"s3://{BUCKET}/baseline", "out/run-1"]
)
def test_a_failure_rule_matches_the_name_image_input_or_output(
    sagemaker: Any, s3: Any, control: Any, match: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    control.add_failure("processing_job", match, "AlgorithmError: out of memory", times=1)
    done = run_job(sagemaker, processing_request("pj-rule"))
    assert (done["ProcessingJobStatus"], done["FailureReason"]) == ("Failed", "AlgorithmError: out of memory")
    assert keys(s3, "out/") == []
    assert (
        run_job(sagemaker, processing_request("pj-rule-2", output="out/run-2"))["ProcessingJobStatus"]
        == "Completed"
    )


def test_stopping_a_job_stops_it_without_output(sagemaker: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    sagemaker.create_processing_job(**processing_request("pj-stop"))
    sagemaker.stop_processing_job(ProcessingJobName="pj-stop")
    assert sagemaker.describe_processing_job(ProcessingJobName="pj-stop")["ProcessingJobStatus"] == "Stopping"
    assert wait_for_job(sagemaker, "pj-stop")["ProcessingJobStatus"] == "Stopped"
    assert keys(s3, "out/") == []
    with pytest.raises(ClientError, match="can not be stopped: it is Stopped"):
        sagemaker.stop_processing_job(ProcessingJobName="pj-stop")


def test_the_providers_hook_and_waiter_see_the_job_run(
    sagemaker: Any, s3: Any, local_aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Amazon provider's SageMakerHook (its own client) and its ProcessingJobComplete waiter."""
    from airflow.exceptions import AirflowException
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    for name, value in {
        "AWS_ENDPOINT_URL": local_aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    hook = SageMakerHook(aws_conn_id=None, region_name="us-east-1")

    hook.create_processing_job(processing_request("pj-hook"), wait_for_completion=True, check_interval=0.1)
    assert hook.describe_processing_job("pj-hook")["ProcessingJobStatus"] == "Completed"
    assert keys(s3, "out/run-1/") == ["out/run-1/constraints.json", "out/run-1/statistics.json"]

    sagemaker.create_processing_job(**processing_request("pj-waiter", output="out/run-2"))
    waiter = hook.get_waiter("ProcessingJobComplete", client=sagemaker)
    waiter.wait(ProcessingJobName="pj-waiter", WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})

    with pytest.raises(AirflowException, match="No S3 objects found under S3 URL"):
        hook.create_processing_job(
            processing_request("pj-hook-fails", source="none"), wait_for_completion=True, check_interval=0.1
        )
    sagemaker.create_processing_job(**processing_request("pj-waiter-fails", source="none"))
    with pytest.raises(WaiterError, match="Failed"):
        waiter.wait(ProcessingJobName="pj-waiter-fails", WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})


# --- Clarify --------------------------------------------------------------------------------------

#: what the SageMaker SDK's _AnalysisConfigGenerator.bias / .explainability write (see clarify_analysis.py)
BIAS_CONFIG = {
    "dataset_type": "text/csv",
    "headers": ["label", "age", "sex", "income"],
    "label": "label",
    "label_values_or_threshold": [1],
    "facet": [{"name_or_index": "sex", "value_or_threshold": ["F"]}],
    "methods": {
        "report": {"name": "report", "title": "Analysis Report"},
        "pre_training_bias": {"methods": "all"},
        "post_training_bias": {"methods": "all"},
    },
    "predictor": {"endpoint_name": "churn", "accept_type": "text/csv", "content_type": "text/csv"},
    "probability_threshold": 0.5,
}
SHAP_CONFIG = {
    "dataset_type": "text/csv",
    "headers": ["label", "age", "sex", "income"],
    "label": "label",
    "predictor": {"endpoint_name": "churn", "accept_type": "text/csv", "content_type": "text/csv"},
    "methods": {
        "report": {"name": "report", "title": "Analysis Report"},
        "shap": {"baseline": [[30, 1, 5]], "num_samples": 100, "agg_method": "mean_abs", "use_logit": False},
    },
}


def clarify_request(name: str, config_key: str | None = "clarify/analysis_config.json") -> dict[str, Any]:
    """What SageMakerClarifyProcessor sends: the analysis config and the dataset as named inputs."""
    inputs = [
        {
            "InputName": "dataset",
            "S3Input": {
                "S3Uri": f"s3://{BUCKET}/baseline/data.csv",
                "LocalPath": "/opt/ml/processing/input/data",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
            },
        }
    ]
    if config_key:
        inputs.insert(
            0,
            {
                "InputName": "analysis_config",
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/{config_key}",
                    "LocalPath": "/opt/ml/processing/input/config",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            },
        )
    request = processing_request(name, image=CLARIFY_IMAGE, inputs=inputs)
    request["Environment"] = {}
    return request


def test_clarify_bias_metrics_are_computed_from_the_dataset(sagemaker: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    s3.put_object(Bucket=BUCKET, Key="clarify/analysis_config.json", Body=json.dumps(BIAS_CONFIG).encode())
    done = run_job(sagemaker, clarify_request("pj-bias"))
    assert done["ProcessingJobStatus"] == "Completed", done.get("FailureReason")

    analysis = read_json(s3, "out/run-1/analysis.json")
    pre = analysis["pre_training_bias_metrics"]
    assert pre["label"] == "label"
    [group] = pre["facets"]["sex"]
    assert group["value_or_threshold"] == "F"
    metrics = {metric["name"]: metric["value"] for metric in group["metrics"]}
    # F: 2 rows (labels 0, 1); M: 3 rows (labels 1, 0, 1)
    assert metrics["CI"] == pytest.approx((3 - 2) / 5)
    assert metrics["DPL"] == pytest.approx(2 / 3 - 1 / 2)
    post = analysis["post_training_bias_metrics"]["facets"]["sex"][0]["metrics"]
    assert [metric["name"] for metric in post] == ["DPPL", "DI", "AD"]
    assert all(isinstance(metric["value"], float) and metric["description"] for metric in post)


def test_clarify_shap_gives_global_values_per_feature(sagemaker: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE.replace(b"1,35,M,\n", b"1,35,M,3\n"))
    s3.put_object(Bucket=BUCKET, Key="clarify/analysis_config.json", Body=json.dumps(SHAP_CONFIG).encode())
    assert run_job(sagemaker, clarify_request("pj-shap"))["ProcessingJobStatus"] == "Completed"
    explanation = read_json(s3, "out/run-1/analysis.json")["explanations"]["kernel_shap"]["label0"]
    assert sorted(explanation["global_shap_values"]) == ["age", "income", "sex"]
    assert all(value >= 0 for value in explanation["global_shap_values"].values())
    assert explanation["expected_value"] == pytest.approx(3 / 5)  # the mean label


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (None, "needs an input named 'analysis_config'"),
        (b"{not json", "is not valid JSON"),
        (json.dumps({"label": "label"}).encode(), "has no 'methods'"),
        (json.dumps({**BIAS_CONFIG, "label": "churned"}).encode(), "label 'churned' of analysis_config.json"),
    ],
)
def test_a_missing_or_invalid_analysis_config_fails_the_clarify_job(
    sagemaker: Any, s3: Any, config: bytes | None, reason: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="baseline/data.csv", Body=BASELINE)
    if config is not None:
        s3.put_object(Bucket=BUCKET, Key="clarify/analysis_config.json", Body=config)
    done = run_job(
        sagemaker, clarify_request("pj-bad-config", config_key=None if config is None else "clarify")
    )
    assert done["ProcessingJobStatus"] == "Failed"
    assert reason in done["FailureReason"]


# --- job definitions ------------------------------------------------------------------------------


def definition_request(
    kind: str, name: str, endpoint: str = "churn", output: str = "monitoring"
) -> dict[str, Any]:
    """A CreateXxxJobDefinition request as the monitor pipelines send it (all the API's members)."""
    endpoint_input = {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}
    if kind in ("ModelQuality", "ModelBias", "ModelExplainability"):
        endpoint_input.update({"InferenceAttribute": "0", "S3InputMode": "File"})
    job_input: dict[str, Any] = {"EndpointInput": endpoint_input}
    if kind in ("ModelQuality", "ModelBias"):
        job_input["GroundTruthS3Input"] = {"S3Uri": f"s3://{BUCKET}/ground-truth"}
    baseline_key = (
        "baseline-results/analysis.json"
        if kind in ("ModelBias", "ModelExplainability")
        else ("baseline-results/constraints.json")
    )
    baseline: dict[str, Any] = {"ConstraintsResource": {"S3Uri": f"s3://{BUCKET}/{baseline_key}"}}
    if kind == "DataQuality":
        baseline["StatisticsResource"] = {"S3Uri": f"s3://{BUCKET}/baseline-results/statistics.json"}
    app: dict[str, Any] = {"ImageUri": MONITOR_IMAGE}
    if kind == "ModelQuality":
        app["ProblemType"] = "BinaryClassification"
    if kind in ("ModelBias", "ModelExplainability"):
        app = {"ImageUri": CLARIFY_IMAGE, "ConfigUri": f"s3://{BUCKET}/clarify/monitoring_config.json"}
    return {
        "JobDefinitionName": name,
        f"{kind}BaselineConfig": {"BaseliningJobName": "baseline-job", **baseline},
        f"{kind}AppSpecification": app,
        f"{kind}JobInput": job_input,
        f"{kind}JobOutputConfig": {
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/{output}",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ],
            "KmsKeyId": KMS,
        },
        "JobResources": CLUSTER,
        "NetworkConfig": {"EnableNetworkIsolation": False},
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "Tags": [{"Key": "team", "Value": "ml"}],
    }


def snake(kind: str) -> str:
    return {"DataQuality": "data_quality", "ModelQuality": "model_quality", "ModelBias": "model_bias"}.get(
        kind, "model_explainability"
    )


KINDS = ["DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"]


@pytest.mark.parametrize("kind", KINDS)
def test_job_definitions_round_trip_and_names_are_unique(sagemaker: Any, kind: str) -> None:
    prefix = snake(kind)
    create = getattr(sagemaker, f"create_{prefix}_job_definition")
    request = definition_request(kind, f"{prefix.replace('_', '-')}-def")
    arn = create(**request)["JobDefinitionArn"]
    create(**definition_request(kind, "other-def", endpoint="fraud"))

    described = getattr(sagemaker, f"describe_{prefix}_job_definition")(
        JobDefinitionName=request["JobDefinitionName"]
    )
    described.pop("ResponseMetadata")
    assert described.pop("JobDefinitionArn") == arn
    assert described.pop("CreationTime")
    assert described == {key: value for key, value in request.items() if key != "Tags"}
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    with pytest.raises(ClientError, match="already exists") as err:
        create(**request)
    assert err.value.response["Error"]["Code"] == "ResourceInUse"

    listed = getattr(sagemaker, f"list_{prefix}_job_definitions")(EndpointName="churn")[
        "JobDefinitionSummaries"
    ]
    assert [(item["MonitoringJobDefinitionName"], item["EndpointName"]) for item in listed] == [
        (request["JobDefinitionName"], "churn")
    ]
    getattr(sagemaker, f"delete_{prefix}_job_definition")(JobDefinitionName=request["JobDefinitionName"])
    with pytest.raises(ClientError) as err:
        getattr(sagemaker, f"describe_{prefix}_job_definition")(
            JobDefinitionName=request["JobDefinitionName"]
        )
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"


# --- monitoring schedules -------------------------------------------------------------------------


def schedule_config(definition: str, kind: str = "DataQuality") -> dict[str, Any]:
    return {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinitionName": definition,
        "MonitoringType": kind,
    }


@pytest.fixture
def fast_schedules(control: Any) -> Any:
    """Schedules Scheduled after 0.1 s, executing every 0.5 s, each execution taking 0.25 s in all."""
    control.set_settings(stack_seconds=0.1, job_seconds=0.2, schedule_seconds=0.5)
    return control


@pytest.fixture
def baseline_results(s3: Any) -> Any:
    s3.put_object(
        Bucket=BUCKET,
        Key="baseline-results/constraints.json",
        Body=json.dumps(
            {"version": 0.0, "features": [{"name": "age", "inferred_type": "Integral", "completeness": 1.0}]}
        ).encode(),
    )
    s3.put_object(
        Bucket=BUCKET,
        Key="baseline-results/statistics.json",
        Body=json.dumps({"version": 0.0, "dataset": {"item_count": 6}, "features": []}).encode(),
    )
    return s3


def create_definition(sagemaker: Any, kind: str = "DataQuality", name: str = "dq-def", **options: str) -> str:
    getattr(sagemaker, f"create_{snake(kind)}_job_definition")(**definition_request(kind, name, **options))
    return name


def wait_for_status(sagemaker: Any, name: str, status: str) -> dict[str, Any]:
    for _ in range(100):
        described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
        if described["MonitoringScheduleStatus"] == status:
            return described
        time.sleep(0.05)
    raise AssertionError(f"schedule {name} never became {status}")


def executions(sagemaker: Any, **filters: Any) -> list[dict[str, Any]]:
    return sagemaker.list_monitoring_executions(SortOrder="Ascending", MaxResults=100, **filters)[
        "MonitoringExecutionSummaries"
    ]


def wait_for_executions(sagemaker: Any, name: str, count: int) -> list[dict[str, Any]]:
    """Until ``count`` executions of the schedule have ended."""
    for _ in range(200):
        ended = [
            item
            for item in executions(sagemaker, MonitoringScheduleName=name)
            if item["MonitoringExecutionStatus"] not in ("Pending", "InProgress")
        ]
        if len(ended) >= count:
            return ended
        time.sleep(0.05)
    raise AssertionError(f"schedule {name} never ran {count} executions")


def test_a_schedule_is_pending_then_scheduled_and_refuses_bad_names(
    sagemaker: Any, fast_schedules: Any, s3: Any
) -> None:
    # Pending for 2 s: the describe right after the create came later than 0.1 s on a busy machine
    fast_schedules.set_settings(stack_seconds=2)
    create_definition(sagemaker)
    arn = sagemaker.create_monitoring_schedule(
        MonitoringScheduleName="churn-dq",
        MonitoringScheduleConfig=schedule_config("dq-def"),
        Tags=[{"Key": "team", "Value": "ml"}],
    )["MonitoringScheduleArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-dq"
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName="churn-dq")
    assert described["MonitoringScheduleStatus"] == "Pending"
    assert (described["EndpointName"], described["MonitoringType"]) == ("churn", "DataQuality")
    assert described["MonitoringScheduleConfig"] == schedule_config("dq-def")
    assert "LastMonitoringExecutionSummary" not in described
    wait_for_status(sagemaker, "churn-dq", "Scheduled")
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    assert len(sagemaker.list_tags(ResourceArn=arn)["Tags"]) == 2

    with pytest.raises(ClientError, match="already exists") as err:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName="churn-dq", MonitoringScheduleConfig=schedule_config("dq-def")
        )
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError, match="ModelQualityJobDefinition dq-def .* does not exist") as err:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName="churn-mq",
            MonitoringScheduleConfig=schedule_config("dq-def", "ModelQuality"),
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    for call in (
        sagemaker.describe_monitoring_schedule,
        sagemaker.delete_monitoring_schedule,
        sagemaker.stop_monitoring_schedule,
        sagemaker.start_monitoring_schedule,
    ):
        with pytest.raises(ClientError, match="monitoring-schedule/nope not found") as err:
            call(MonitoringScheduleName="nope")
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError, match="not found"):
        sagemaker.update_monitoring_schedule(
            MonitoringScheduleName="nope", MonitoringScheduleConfig=schedule_config("dq-def")
        )


def test_executions_run_on_the_schedule_and_write_their_results(
    sagemaker: Any, fast_schedules: Any, baseline_results: Any
) -> None:
    s3 = baseline_results
    create_definition(sagemaker)
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName="churn-dq", MonitoringScheduleConfig=schedule_config("dq-def")
    )
    ended = wait_for_executions(sagemaker, "churn-dq", 2)
    first, second = ended[:2]
    assert [item["MonitoringExecutionStatus"] for item in (first, second)] == ["Completed", "Completed"]
    gap = (second["ScheduledTime"] - first["ScheduledTime"]).total_seconds()
    assert gap == pytest.approx(0.5, abs=0.01)
    assert (first["EndpointName"], first["MonitoringJobDefinitionName"], first["MonitoringType"]) == (
        "churn",
        "dq-def",
        "DataQuality",
    )
    assert "FailureReason" not in first

    # the execution's processing job says where it wrote (what the SDK's MonitoringExecution reads)
    job = sagemaker.describe_processing_job(ProcessingJobName=first["ProcessingJobArn"].rpartition("/")[2])
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["MonitoringScheduleArn"].endswith(":monitoring-schedule/churn-dq")
    folder = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    when = first["ScheduledTime"]
    assert folder == f"s3://{BUCKET}/monitoring/churn/churn-dq/{when:%Y/%m/%d/%H}"
    prefix = folder.removeprefix(f"s3://{BUCKET}/")
    assert read_json(s3, f"{prefix}/constraint_violations.json") == {"violations": []}
    assert read_json(s3, f"{prefix}/statistics.json")["dataset"] == {"item_count": 6}  # the baseline's
    head = s3.head_object(Bucket=BUCKET, Key=f"{prefix}/constraint_violations.json")
    assert head["SSEKMSKeyId"] == KMS
    second_job = sagemaker.describe_processing_job(
        ProcessingJobName=second["ProcessingJobArn"].rpartition("/")[2]
    )
    assert (
        second_job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] != folder
    )  # same hour, own folder

    latest = sagemaker.describe_monitoring_schedule(MonitoringScheduleName="churn-dq")[
        "LastMonitoringExecutionSummary"
    ]
    assert latest["ScheduledTime"] >= second["ScheduledTime"]
    newest_first = sagemaker.list_monitoring_executions(MonitoringScheduleName="churn-dq", MaxResults=1)
    assert newest_first["MonitoringExecutionSummaries"][0]["ScheduledTime"] == latest["ScheduledTime"]
    assert newest_first["NextToken"]


def test_a_violation_rule_makes_the_next_execution_complete_with_violations(
    sagemaker: Any, fast_schedules: Any, baseline_results: Any
) -> None:
    s3 = baseline_results
    create_definition(sagemaker)
    fast_schedules.add_failure(
        "monitoring_violation", "churn", "Baseline drift distance 0.4 exceeds 0.1", times=1
    )
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName="churn-dq", MonitoringScheduleConfig=schedule_config("dq-def")
    )
    first, second = wait_for_executions(sagemaker, "churn-dq", 2)[:2]
    assert first["MonitoringExecutionStatus"] == "CompletedWithViolations"
    assert second["MonitoringExecutionStatus"] == "Completed"  # times=1
    job = sagemaker.describe_processing_job(ProcessingJobName=first["ProcessingJobArn"].rpartition("/")[2])
    assert (job["ProcessingJobStatus"], job["ExitMessage"].split(":")[0]) == (
        "Completed",
        "CompletedWithViolations",
    )
    prefix = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].removeprefix(f"s3://{BUCKET}/")
    assert read_json(s3, f"{prefix}/constraint_violations.json") == {
        "violations": [
            {
                "feature_name": "age",  # the baseline constraints' first feature
                "constraint_check_type": "baseline_drift_check",
                "description": "Baseline drift distance 0.4 exceeds 0.1",
            }
        ]
    }
    assert executions(sagemaker, StatusEquals="CompletedWithViolations") == [first]


def test_an_execution_failure_rule_fails_the_next_execution(
    sagemaker: Any, fast_schedules: Any, s3: Any
) -> None:
    create_definition(sagemaker)
    fast_schedules.add_failure("monitoring_execution", "churn-dq", "InternalServerError: capacity", times=1)
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName="churn-dq", MonitoringScheduleConfig=schedule_config("dq-def")
    )
    first, second = wait_for_executions(sagemaker, "churn-dq", 2)[:2]
    assert (first["MonitoringExecutionStatus"], first["FailureReason"]) == (
        "Failed",
        "InternalServerError: capacity",
    )
    assert second["MonitoringExecutionStatus"] == "Completed"
    job = sagemaker.describe_processing_job(ProcessingJobName=first["ProcessingJobArn"].rpartition("/")[2])
    assert (job["ProcessingJobStatus"], job["FailureReason"]) == ("Failed", "InternalServerError: capacity")
    folder = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].removeprefix(f"s3://{BUCKET}/")
    assert keys(s3, folder + "/") == []  # a failed execution writes nothing


@pytest.mark.parametrize(
    ("kind", "baseline", "result", "violation"),
    [
        (
            "ModelQuality",
            {
                "version": 0.0,
                "binary_classification_constraints": {
                    "accuracy": {"threshold": 0.8, "comparison_operator": "LessThanThreshold"}
                },
            },
            "statistics.json",
            {"metric_name": "accuracy", "constraint_check_type": "LessThanThreshold"},
        ),
        (
            "ModelBias",
            {
                "version": "1.0",
                "post_training_bias_metrics": {
                    "label": "label",
                    "facets": {
                        "sex": [{"value_or_threshold": "F", "metrics": [{"name": "DPPL", "value": 0.1}]}]
                    },
                },
            },
            "analysis.json",
            {
                "facet": "sex",
                "facet_value": "F",
                "metric_name": "DPPL",
                "constraint_check_type": "bias_drift_check",
            },
        ),
        (
            "ModelExplainability",
            {
                "version": "1.0",
                "explanations": {
                    "kernel_shap": {"label0": {"global_shap_values": {"income": 0.3}, "expected_value": 0.5}}
                },
            },
            "analysis.json",
            {"feature": "income", "constraint_check_type": "feature_attribution_drift_check"},
        ),
    ],
)
def test_each_monitoring_type_writes_its_results_and_violations(
    sagemaker: Any, fast_schedules: Any, s3: Any, kind: str, baseline: dict, result: str, violation: dict
) -> None:
    key = (
        "baseline-results/analysis.json" if result == "analysis.json" else "baseline-results/constraints.json"
    )
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(baseline).encode())
    create_definition(sagemaker, kind, name="the-def")
    fast_schedules.add_failure("monitoring_violation", "churn", "drifted", times=1)
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName="churn-schedule", MonitoringScheduleConfig=schedule_config("the-def", kind)
    )
    [first] = wait_for_executions(sagemaker, "churn-schedule", 1)[:1]
    assert (first["MonitoringExecutionStatus"], first["MonitoringType"]) == ("CompletedWithViolations", kind)
    job = sagemaker.describe_processing_job(ProcessingJobName=first["ProcessingJobArn"].rpartition("/")[2])
    prefix = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].removeprefix(f"s3://{BUCKET}/")
    assert sorted(keys(s3, prefix + "/")) == sorted(
        [f"{prefix}/constraint_violations.json", f"{prefix}/{result}"]
    )
    assert read_json(s3, f"{prefix}/constraint_violations.json")["violations"] == [
        {**violation, "description": "drifted"}
    ]
    if result == "analysis.json":
        assert read_json(s3, f"{prefix}/analysis.json") == baseline


def test_stop_start_update_and_delete(sagemaker: Any, fast_schedules: Any, s3: Any) -> None:
    create_definition(sagemaker)
    create_definition(sagemaker, name="dq-def-2", output="monitoring-2")
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName="churn-dq", MonitoringScheduleConfig=schedule_config("dq-def")
    )
    wait_for_executions(sagemaker, "churn-dq", 1)
    sagemaker.stop_monitoring_schedule(MonitoringScheduleName="churn-dq")
    assert wait_for_status(sagemaker, "churn-dq", "Stopped")
    count = len(executions(sagemaker, MonitoringScheduleName="churn-dq"))
    time.sleep(0.6)  # longer than schedule_seconds: a stopped schedule starts nothing
    assert len(executions(sagemaker, MonitoringScheduleName="churn-dq")) == count

    sagemaker.start_monitoring_schedule(MonitoringScheduleName="churn-dq")
    assert sagemaker.describe_monitoring_schedule(MonitoringScheduleName="churn-dq")[
        "MonitoringScheduleStatus"
    ] == ("Scheduled")
    assert len(executions(sagemaker, MonitoringScheduleName="churn-dq")) == count + 1  # the first at once

    sagemaker.update_monitoring_schedule(
        MonitoringScheduleName="churn-dq", MonitoringScheduleConfig=schedule_config("dq-def-2")
    )
    assert sagemaker.describe_monitoring_schedule(MonitoringScheduleName="churn-dq")[
        "MonitoringScheduleStatus"
    ] == ("Pending")
    updated = wait_for_status(sagemaker, "churn-dq", "Scheduled")
    assert updated["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == "dq-def-2"
    assert updated["LastModifiedTime"] > updated["CreationTime"]
    latest = wait_for_executions(sagemaker, "churn-dq", count + 2)[-1]
    assert latest["MonitoringJobDefinitionName"] == "dq-def-2"
    with pytest.raises(ClientError, match="DataQualityJobDefinition gone .* does not exist"):
        sagemaker.update_monitoring_schedule(
            MonitoringScheduleName="churn-dq", MonitoringScheduleConfig=schedule_config("gone")
        )

    sagemaker.delete_monitoring_schedule(MonitoringScheduleName="churn-dq")
    with pytest.raises(ClientError, match="not found"):
        sagemaker.describe_monitoring_schedule(MonitoringScheduleName="churn-dq")
    assert executions(sagemaker, MonitoringScheduleName="churn-dq") == []
    assert executions(sagemaker) == []


def test_listing_schedules_filters_and_sorts(sagemaker: Any, fast_schedules: Any, s3: Any) -> None:
    create_definition(sagemaker)
    create_definition(sagemaker, name="fraud-def", endpoint="fraud")
    create_definition(sagemaker, "ModelQuality", name="mq-def")
    for name, definition, kind in [
        ("churn-dq", "dq-def", "DataQuality"),
        ("fraud-dq", "fraud-def", "DataQuality"),
        ("churn-mq", "mq-def", "ModelQuality"),
    ]:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig=schedule_config(definition, kind)
        )
    sagemaker.stop_monitoring_schedule(MonitoringScheduleName="fraud-dq")

    def names(**filters: Any) -> list[str]:
        summaries = sagemaker.list_monitoring_schedules(**filters)["MonitoringScheduleSummaries"]
        return [item["MonitoringScheduleName"] for item in summaries]

    assert names() == ["churn-mq", "fraud-dq", "churn-dq"]  # newest first
    assert names(SortBy="Name", SortOrder="Ascending") == ["churn-dq", "churn-mq", "fraud-dq"]
    assert names(EndpointName="churn", SortBy="Name", SortOrder="Ascending") == ["churn-dq", "churn-mq"]
    assert names(NameContains="fraud") == ["fraud-dq"]
    assert names(StatusEquals="Stopped") == ["fraud-dq"]
    assert names(MonitoringTypeEquals="ModelQuality") == ["churn-mq"]
    assert names(MonitoringJobDefinitionName="dq-def") == ["churn-dq"]
    [summary] = sagemaker.list_monitoring_schedules(NameContains="churn-mq")["MonitoringScheduleSummaries"]
    assert summary["MonitoringType"] == "ModelQuality" and summary["MonitoringJobDefinitionName"] == "mq-def"

    wait_for_executions(sagemaker, "churn-mq", 1)
    assert {item["MonitoringScheduleName"] for item in executions(sagemaker, EndpointName="churn")} == {
        "churn-dq",
        "churn-mq",
    }
    assert {
        item["MonitoringType"] for item in executions(sagemaker, MonitoringTypeEquals="ModelQuality")
    } == {"ModelQuality"}


def test_an_inline_job_definition_runs_too(
    sagemaker: Any, fast_schedules: Any, baseline_results: Any
) -> None:
    """The SDK's DefaultModelMonitor.create_monitoring_schedule sends the definition inline."""
    config = {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
        "MonitoringJobDefinition": {
            "BaselineConfig": {
                "ConstraintsResource": {"S3Uri": f"s3://{BUCKET}/baseline-results/constraints.json"},
                "StatisticsResource": {"S3Uri": f"s3://{BUCKET}/baseline-results/statistics.json"},
            },
            "MonitoringInputs": [
                {"EndpointInput": {"EndpointName": "churn", "LocalPath": "/opt/ml/processing/input"}}
            ],
            "MonitoringOutputConfig": {
                "MonitoringOutputs": [
                    {"S3Output": {"S3Uri": f"s3://{BUCKET}/inline", "LocalPath": "/opt/ml/processing/output"}}
                ]
            },
            "MonitoringResources": CLUSTER,
            "MonitoringAppSpecification": {"ImageUri": MONITOR_IMAGE},
            "RoleArn": ROLE,
        },
    }
    sagemaker.create_monitoring_schedule(MonitoringScheduleName="inline", MonitoringScheduleConfig=config)
    [first] = wait_for_executions(sagemaker, "inline", 1)[:1]
    assert (first["MonitoringExecutionStatus"], first["EndpointName"]) == ("Completed", "churn")
    assert "MonitoringJobDefinitionName" not in first
    assert any(
        key.endswith("/constraint_violations.json") for key in keys(baseline_results, "inline/churn/inline/")
    )


def test_only_the_last_hundred_executions_are_kept(sagemaker: Any, fast_schedules: Any, s3: Any) -> None:
    create_definition(sagemaker)
    fast_schedules.set_settings(schedule_seconds=0.01)
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName="busy", MonitoringScheduleConfig=schedule_config("dq-def")
    )
    time.sleep(1.6)  # 150 executions due
    listed = sagemaker.list_monitoring_executions(MonitoringScheduleName="busy", MaxResults=100)
    assert len(listed["MonitoringExecutionSummaries"]) == 100
    assert "NextToken" not in listed


def test_a_definition_must_monitor_an_endpoint(sagemaker: Any) -> None:
    request = definition_request("ModelQuality", "batch-def")
    request["ModelQualityJobInput"] = {
        "BatchTransformInput": {"DataCapturedDestinationS3Uri": f"s3://{BUCKET}/capture", "LocalPath": "/in"},
        "GroundTruthS3Input": {"S3Uri": f"s3://{BUCKET}/ground-truth"},
    }
    request["ModelQualityJobInput"]["BatchTransformInput"]["DatasetFormat"] = {"Csv": {"Header": True}}
    with pytest.raises(ClientError, match="monitors endpoints only") as err:
        sagemaker.create_model_quality_job_definition(**request)
    assert err.value.response["Error"]["Code"] == "ValidationException"
