"""The four monitor pipelines end to end: real DAG runs against the local AWS emulator over HTTP
(baselining job, job definition, schedule, executions and their reports), and the baselining
operator's retry behaviour driven directly."""

from __future__ import annotations

import contextlib
import hashlib
import json
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred
from mlops_orchestrator.operators.model_monitor import BaselineJobOperator
from mlops_orchestrator.operators.sagemaker_monitoring import baseline_job_name
from mlops_orchestrator.run.airflow_env import set_local_aws_connection
from task_doubles import RecordingTaskInstance, run_trigger

pytestmark = pytest.mark.integration

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
PREFIX = {
    "byom_data_quality_monitor": "DataQuality",
    "byom_model_quality_monitor": "ModelQuality",
    "byom_model_bias_monitor": "ModelBias",
    "byom_model_explainability_monitor": "ModelExplainability",
}


def serve_endpoint(aws, name: str) -> str:
    """A served endpoint capturing its traffic, as a realtime pipeline leaves it (one per test:
    a schedule is per endpoint and monitor type, so tests sharing one would share schedules)."""
    sagemaker, s3 = aws("sagemaker"), aws("s3")
    with contextlib.suppress(s3.exceptions.ClientError):
        s3.create_bucket(Bucket="it-assets")
    s3.put_object(Bucket="it-assets", Key=f"models/{name}/model.tar.gz", Body=b"model")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://it-assets/models/{name}/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://it-assets/datacapture/{name}",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    return name


@pytest.fixture
def endpoint(aws, request) -> str:
    """This test's endpoint, named after the test."""
    name = "ep-" + hashlib.sha256(request.node.name.encode()).hexdigest()[:10]
    return serve_endpoint(aws, name)


def monitor(pipeline_type: str, model: str, endpoint: str, **extra: Any) -> dict[str, Any]:
    kind = PREFIX[pipeline_type].lower()
    config = {
        "pipeline_type": pipeline_type,
        "model_name": model,
        "endpoint_name": endpoint,
        "baseline_data": f"baselines/{model}/baseline.csv",
        "baseline_job_output_location": f"it-assets/baselines/{model}",
        "data_capture_location": f"it-assets/datacapture/{endpoint}",
        "monitoring_output_location": f"it-assets/monitoring/{model}",
        "schedule_expression": "cron(0 * ? * * *)",
        "instance_type": "ml.m5.large",
        "instance_volume_size": 20,
        "dag_id": f"it_{model.replace('-', '_')}_{kind}",
    }
    if pipeline_type != "byom_data_quality_monitor":
        config["problem_type"] = "BinaryClassification"
        config["monitor_probability_attribute"] = "0"
    if pipeline_type == "byom_model_quality_monitor":
        config |= {
            "baseline_inference_attribute": "prediction",
            "baseline_probability_attribute": "probability",
            "baseline_ground_truth_attribute": "label",
            "probability_threshold_attribute": 0.5,
            "monitor_ground_truth_input": f"it-assets/groundtruth/{model}",
        }
    if pipeline_type == "byom_model_bias_monitor":
        config |= {
            "monitor_ground_truth_input": f"it-assets/groundtruth/{model}",
            "bias_config": {"label_values_or_threshold": [1], "facet_name": "gender", "facet_values_or_threshold": [0]},
            "model_predicted_label_config": {"probability_threshold": 0.5},
        }
    if pipeline_type == "byom_model_explainability_monitor":
        config["shap_config"] = {"baseline": [[120, 1, 180.5, 0]], "num_samples": 10, "agg_method": "mean_abs"}
    return config | extra


def read_json(aws, uri: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return json.loads(aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def definitions(aws, pipeline_type: str, name_contains: str) -> list[str]:
    method = {
        "DataQuality": "list_data_quality_job_definitions",
        "ModelQuality": "list_model_quality_job_definitions",
        "ModelBias": "list_model_bias_job_definitions",
        "ModelExplainability": "list_model_explainability_job_definitions",
    }[PREFIX[pipeline_type]]
    listed = getattr(aws("sagemaker"), method)(NameContains=name_contains)["JobDefinitionSummaries"]
    return sorted(item["MonitoringJobDefinitionName"] for item in listed)


DEPLOYED = {
    "choose_action": "success",
    "deploy_stack": "success",
    "baseline": "success",
    "schedule_monitoring": "success",
    "monitor_results": "success",
    "delete_schedule": "skipped",
    "delete_stack": "skipped",
}


def test_data_quality_baselines_schedules_and_reports_the_first_execution(run_config, aws, endpoint):
    report = run_config(monitor("byom_data_quality_monitor", "dq-churn", endpoint), name="dq.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == DEPLOYED

    (stack,) = report["resources"]["stacks"]
    assert stack["name"] == "mlops-pipeline-dq-churn-byomdataqualitymonitor"
    role_name = next(r["physical_id"] for r in stack["resources"] if r["type"] == "AWS::IAM::Role")
    policy = aws("iam").get_role_policy(RoleName=role_name, PolicyName="model-monitor-access")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["WriteOutputs"]["Resource"] == [
        "arn:aws:s3:::it-assets/baselines/dq-churn/*",
        "arn:aws:s3:::it-assets/monitoring/dq-churn/*",
    ]
    assert "InvokeMonitoredEndpoint" not in by_sid and "UseKmsKey" not in by_sid

    # The baselining job: Model Monitor's image, the dataset, its constraints and statistics written.
    (schedule,) = report["resources"]["monitoring_schedules"]
    assert schedule["name"] == f"{endpoint}-data-quality-schedule"
    assert (schedule["status"], schedule["type"], schedule["endpoint"]) == ("Scheduled", "DataQuality", endpoint)
    sagemaker = aws("sagemaker")
    definition = sagemaker.describe_data_quality_job_definition(JobDefinitionName=schedule["job_definition"])
    baseline = definition["DataQualityBaselineConfig"]
    job = sagemaker.describe_processing_job(ProcessingJobName=baseline["BaseliningJobName"])
    assert job["ProcessingJobStatus"] == "Completed"
    assert "sagemaker-model-monitor-analyzer" in job["AppSpecification"]["ImageUri"]
    assert job["RoleArn"] == stack["outputs"]["ExecutionRoleArn"] == definition["RoleArn"]
    assert job["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://it-assets/baselines/dq-churn/baseline.csv"
    constraints = read_json(aws, baseline["ConstraintsResource"]["S3Uri"])
    statistics = read_json(aws, baseline["StatisticsResource"]["S3Uri"])
    assert {f["name"] for f in constraints["features"]} >= {"account_length", "gender", "day_mins"}
    assert statistics["dataset"]["item_count"] == 40
    assert definition["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == endpoint
    assert definition["DataQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"] == (
        "s3://it-assets/monitoring/dq-churn"
    )

    # The results task waited for the first execution and summarised it.
    results = report["monitor_results"]
    assert results["status"] == "Completed"
    assert results["violations"] == 0
    assert results["report_uri"].startswith(f"s3://it-assets/monitoring/dq-churn/{endpoint}/")


def test_a_rerun_updates_the_schedule_to_a_new_job_definition(run_config, aws, endpoint):
    config = monitor("byom_model_quality_monitor", "mq-rerun", endpoint)
    first = run_config(config, name="mq.yaml")
    assert first["state"] == "success", first["failures"]
    (before,) = first["resources"]["monitoring_schedules"]
    second = run_config(config | {"schedule_expression": "cron(0 0 ? * * *)"}, name="mq.yaml")
    assert second["state"] == "success", second["failures"]
    (after,) = second["resources"]["monitoring_schedules"]
    assert after["name"] == before["name"] == f"{endpoint}-model-quality-schedule"
    assert after["schedule_expression"] == "cron(0 0 ? * * *)"
    assert after["status"] == "Scheduled"
    assert after["job_definition"] != before["job_definition"]
    # the previous definition is deleted: one definition per schedule remains
    assert definitions(aws, "byom_model_quality_monitor", f"{endpoint}-model-quality") == [after["job_definition"]]
    definition = aws("sagemaker").describe_model_quality_job_definition(JobDefinitionName=after["job_definition"])
    assert definition["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    assert definition["ModelQualityJobInput"]["GroundTruthS3Input"] == {"S3Uri": "s3://it-assets/groundtruth/mq-rerun"}
    assert definition["ModelQualityJobInput"]["EndpointInput"]["ProbabilityThresholdAttribute"] == 0.5
    constraints = read_json(aws, definition["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"])
    assert "binary_classification_constraints" in constraints


def test_violations_warn_by_default_and_fail_the_results_task_when_asked(run_config, control, endpoint):
    control.add_failure("monitoring_violation", match=f"{endpoint}-data-quality", reason="day_mins drifted", times=1)
    warned = run_config(monitor("byom_data_quality_monitor", "dq-warn", endpoint), name="dqw.yaml")
    assert warned["state"] == "success", warned["failures"]
    assert warned["monitor_results"]["status"] == "CompletedWithViolations"
    assert warned["monitor_results"]["violations"] == 1

    control.add_failure("monitoring_violation", match=f"{endpoint}-data-quality", reason="day_mins drifted", times=1)
    failed = run_config(monitor("byom_data_quality_monitor", "dq-warn", endpoint, fail_on_violations=True), name="dqw.yaml")
    assert failed["state"] == "failed"
    assert failed["tasks"]["monitor_results"] == "failed"
    assert "found 1 violation(s)" in failed["failures"]["monitor_results"]
    assert "day_mins drifted" in failed["failures"]["monitor_results"]


def test_violations_are_sent_to_the_notification_topic(run_config, control, endpoint, aws):
    from notify import TopicInbox

    inbox = TopicInbox(aws)
    control.add_failure("monitoring_violation", match=f"{endpoint}-data-quality", reason="day_mins drifted", times=1)
    config = monitor("byom_data_quality_monitor", "dq-notify", endpoint, notifications={"sns_topic_arn": inbox.topic_arn})
    report = run_config(config, name="dqn.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["monitor_results"]["violations"] == 1

    [message] = inbox.read(1)
    assert message["Subject"] == "[mlops-orchestrator] it_dq_notify_dataquality: 1 monitor violation(s)"
    body = message["Message"]
    assert body.startswith(f"The latest execution of monitoring schedule {endpoint}-data-quality-schedule found 1 violation(s).")
    assert "Execution: CompletedWithViolations" in body
    assert "day_mins drifted" in body  # the violation's description
    assert f"Report: s3://it-assets/monitoring/dq-notify/{endpoint}" in body
    assert message["MessageAttributes"]["event"]["Value"] == "violations"
    assert inbox.settle() == []  # a run with violations that succeeded: nothing else to say


def test_a_failed_execution_fails_the_results_task_with_its_reason(run_config, control, endpoint):
    control.add_failure("monitoring_execution", match=f"{endpoint}-data-quality", reason="Job inputs had no data")
    report = run_config(monitor("byom_data_quality_monitor", "dq-fail", endpoint), name="dqf.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["schedule_monitoring"] == "success"
    assert "ended Failed: Job inputs had no data" in report["failures"]["monitor_results"]


def test_a_failed_baseline_fails_the_run_with_sagemakers_reason_and_schedules_nothing(run_config, aws, control, endpoint):
    control.add_failure("processing_job", match=f"{endpoint}-model-quality", reason="AlgorithmError: bad baseline")
    config = monitor("byom_model_quality_monitor", "mq-fail", endpoint)
    report = run_config(config, name="mqf.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["baseline"] == "failed"
    assert report["tasks"]["schedule_monitoring"] == "upstream_failed"
    assert "ended Failed: AlgorithmError: bad baseline" in report["failures"]["baseline"]
    assert "not started again on retry" in report["failures"]["baseline"]
    assert report["resources"]["monitoring_schedules"] == []


@pytest.mark.parametrize("pipeline_type", ["byom_model_bias_monitor", "byom_model_explainability_monitor"])
def test_bias_and_explainability_baseline_with_clarify_and_the_sdks_analysis_config(
    run_config, aws, endpoint, pipeline_type
):
    model = "bias-churn" if "bias" in pipeline_type else "shap-churn"
    report = run_config(monitor(pipeline_type, model, endpoint), name=f"{model}.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == DEPLOYED
    (schedule,) = report["resources"]["monitoring_schedules"]
    prefix = PREFIX[pipeline_type]
    sagemaker = aws("sagemaker")
    describe = getattr(sagemaker, f"describe_{'model_bias' if 'bias' in pipeline_type else 'model_explainability'}_job_definition")
    definition = describe(JobDefinitionName=schedule["job_definition"])
    app = definition[f"{prefix}AppSpecification"]
    assert "sagemaker-clarify-processing" in app["ImageUri"]
    monitoring_config = read_json(aws, app["ConfigUri"])
    job = sagemaker.describe_processing_job(ProcessingJobName=definition[f"{prefix}BaselineConfig"]["BaseliningJobName"])
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in job["ProcessingInputs"]}
    baseline_config = read_json(aws, inputs["analysis_config"])
    assert baseline_config["predictor"]["endpoint_name"] == endpoint
    assert baseline_config["headers"][0] == "label"
    analysis = read_json(aws, definition[f"{prefix}BaselineConfig"]["ConstraintsResource"]["S3Uri"])
    if "bias" in pipeline_type:
        assert baseline_config["facet"] == [{"name_or_index": "gender", "value_or_threshold": [0]}]
        assert monitoring_config["label"] == "label"
        assert "post_training_bias_metrics" in analysis
        assert definition["ModelBiasJobInput"]["GroundTruthS3Input"]["S3Uri"] == f"s3://it-assets/groundtruth/{model}"
    else:
        assert baseline_config["methods"]["shap"]["baseline"] == [[120, 1, 180.5, 0]]
        assert monitoring_config["headers"] == ["account_length", "gender", "day_mins", "intl_plan"]
        assert "kernel_shap" in analysis["explanations"]
    assert report["monitor_results"]["status"] == "Completed"


def test_report_only_reads_results_and_deprovision_removes_schedule_definitions_and_stack(run_config, aws, endpoint):
    config = monitor("byom_data_quality_monitor", "dq-gone", endpoint)
    deployed = run_config(config, name="gone.yaml")
    assert deployed["state"] == "success", deployed["failures"]

    reported = run_config(config, name="gone.yaml", action="report")
    assert reported["state"] == "success", reported["failures"]
    assert reported["tasks"]["monitor_results"] == "success"
    assert {reported["tasks"][t] for t in ("deploy_stack", "baseline", "schedule_monitoring", "delete_schedule")} == {
        "skipped"
    }
    assert reported["monitor_results"]["status"] in ("Completed", "CompletedWithViolations")

    gone = run_config(config, name="gone.yaml", action="deprovision")
    assert gone["state"] == "success", gone["failures"]
    assert gone["tasks"]["delete_schedule"] == "success" and gone["tasks"]["delete_stack"] == "success"
    assert gone["resources"]["monitoring_schedules"] == []
    assert gone["resources"]["stacks"] == []
    assert definitions(aws, "byom_data_quality_monitor", f"{endpoint}-data-quality") == []
    # a second deprovision has nothing left to delete and still succeeds
    again = run_config(config, name="gone.yaml", action="deprovision")
    assert again["state"] == "success", again["failures"]


# --- the baselining operator's retry behaviour, driven as Airflow would -------------------------


@pytest.fixture
def baseline_inputs(aws, local_aws):
    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")
    s3 = aws("s3")
    with contextlib.suppress(s3.exceptions.ClientError):
        s3.create_bucket(Bucket="op-monitor")
    s3.put_object(Bucket="op-monitor", Key="baseline.csv", Body=b"label,a,b\n1,2,3\n0,4,5\n")


def baseline_operator() -> BaselineJobOperator:
    return BaselineJobOperator(
        task_id="baseline",
        pipeline_type="byom_data_quality_monitor",
        endpoint_name="op-endpoint",
        role_arn="arn:aws:iam::123456789012:role/monitor",
        baseline_data_uri="s3://op-monitor/baseline.csv",
        output_location="s3://op-monitor/baselines",
        instance_type="ml.m5.large",
        volume_size_gb=20,
        environment={"dataset_format": json.dumps({"csv": {"header": True}}), "dataset_source": "/opt/ml/processing/input/baseline_dataset_input", "output_path": "/opt/ml/processing/output"},
        check_interval=1,
        aws_conn_id="aws_default",
        region_name="us-east-1",
    )


def context_of(run_id: str) -> dict[str, Any]:
    return {"dag_run": SimpleNamespace(dag_id="op_monitor", run_id=run_id), "ti": RecordingTaskInstance("baseline", run_id)}


def test_a_baseline_retry_while_the_job_runs_reattaches_and_never_starts_a_second_job(aws, control, baseline_inputs):
    control.set_settings(job_seconds=12)  # still running at the retry, even on a loaded machine
    run_id = "manual__2025-06-03T10:00:00+00:00"
    job_name = baseline_job_name("op-endpoint", "byom_data_quality_monitor", "op_monitor", run_id)
    with pytest.raises(TaskDeferred) as first:
        baseline_operator().execute(context_of(run_id))
    assert first.value.trigger.serialize()[1]["job_name"] == job_name
    with pytest.raises(TaskDeferred) as retry:
        baseline_operator().execute(context_of(run_id))
    assert retry.value.trigger.serialize()[1]["job_name"] == job_name
    jobs = aws("sagemaker").list_processing_jobs(NameContains="op-endpoint")["ProcessingJobSummaries"]
    assert [j["ProcessingJobName"] for j in jobs] == [job_name]
    event = run_trigger(retry.value.trigger)
    assert event["status"] == "success"
    result = baseline_operator().execute_complete(context_of(run_id), event)
    assert result["constraints_uri"] == f"s3://op-monitor/baselines/{job_name}/constraints.json"
    assert read_json(aws, result["statistics_uri"])["dataset"]["item_count"] == 2
    # once completed, a retry uses its result
    assert baseline_operator().execute(context_of(run_id)) == result


def test_a_failed_baseline_job_fails_without_retry_with_its_reason(aws, control, baseline_inputs):
    run_id = "manual__2025-06-04T10:00:00+00:00"
    control.set_settings(job_seconds=12)  # still running when execute() looks, even on a loaded machine
    control.add_failure("processing_job", match="op-endpoint", reason="ClientError: no baseline rows")
    with pytest.raises(TaskDeferred) as deferred:
        baseline_operator().execute(context_of(run_id))
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(AirflowFailException, match="ended Failed: ClientError: no baseline rows"):
        baseline_operator().execute_complete(context_of(run_id), event)
