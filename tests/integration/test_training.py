"""Training pipelines end to end: real DAG runs against the local AWS emulator over HTTP.

Train, tune or run Autopilot, register the model, approve it (automatically, by a metric
threshold, or by a person answering the human-in-the-loop task the way the Airflow UI does) and
deploy it; a failed job and a rejected version deploy nothing; deprovisioning removes the stacks
and keeps the registered versions.
"""

from __future__ import annotations

import contextlib
import json
from types import SimpleNamespace
from typing import Any

import pytest
from hitl import respond, time_out_when_waiting
from metadata import xcom
from mlops_orchestrator.operators.model_registry import RUN_ID_KEY, RegisterModelVersionOperator
from mlops_orchestrator.run.airflow_env import set_local_aws_connection
from task_doubles import RecordingTaskInstance

pytestmark = pytest.mark.integration

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
DEPLOY_TASKS = ("deploy.deploy_stack",)


def training(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "model_training_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "training_data": f"training/{model}/train.csv",
        "validation_data": f"training/{model}/validation.csv",
        "job_output_location": f"training/{model}/output",
        "use_spot_instances": False,
        "algo_hyperparameters": {"objective": "binary:logistic", "eval_metric": "auc", "num_round": 10},
        **extra,
    }


def realtime(model: str) -> dict[str, Any]:
    return {"type": "realtime", "inference_instance": "ml.m5.large", "data_capture_location": f"it-assets/dc/{model}"}


def versions(aws, group: str) -> list[dict[str, Any]]:
    sagemaker = aws("sagemaker")
    listed = sagemaker.list_model_packages(ModelPackageGroupName=group, SortBy="CreationTime")
    return [
        sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"])
        for s in listed["ModelPackageSummaryList"]
    ]


def card(aws, name: str, version: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A model card's description and its content."""
    request = {"ModelCardName": name, **({"ModelCardVersion": version} if version else {})}
    described = aws("sagemaker").describe_model_card(**request)
    return described, json.loads(described["Content"])


def asset_events(uri: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(AssetModel.uri == uri)
        ).all()
        return [dict(row.extra or {}) for row in rows]


# --------------------------------------------------------------------------------------------
# the full flow
# --------------------------------------------------------------------------------------------


def test_train_register_approve_by_threshold_and_deploy_an_endpoint(run_config, aws):
    config = training(
        "churn-flow",
        model_package_group_name="churn-flow",
        approval_threshold={"metric": "validation:auc", "min": 0.6},
        deploy=realtime("churn-flow"),
        model_card={"intended_uses": {"purpose_of_model": "churn scoring", "risk_rating": "Medium"}},
    )
    report = run_config(config, name="churn_flow.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == {
        "deploy_role_stack": "success",
        "train": "success",
        "register_model": "success",
        "check_threshold": "success",
        "approve_model_version": "success",
        "reject_model_version": "skipped",
        "deploy.deploy_stack": "success",
        "stop_training_jobs": "skipped",
        "delete_deploy_stack": "skipped",
        "delete_role_stack": "skipped",
    }

    # The job ran as the role of the role stack; the role reads the data and writes the output only.
    stacks = {s["name"]: s for s in report["resources"]["stacks"]}
    role_stack = stacks["mlops-pipeline-churn-flow-modeltraining"]
    job = xcom("churn_flow", "train")
    described = aws("sagemaker").describe_training_job(TrainingJobName=job["job_name"])
    assert described["RoleArn"] == role_stack["outputs"]["RoleArn"]
    role_name = role_stack["outputs"]["RoleName"]
    policy = aws("iam").get_role_policy(RoleName=role_name, PolicyName="training-access")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadTrainingData"]["Resource"] == "arn:aws:s3:::it-assets/training/churn-flow/train.csv*"
    assert by_sid["ReadValidationData"]["Resource"] == "arn:aws:s3:::it-assets/training/churn-flow/validation.csv*"
    assert by_sid["WriteOutput"]["Resource"] == "arn:aws:s3:::it-assets/training/churn-flow/output/*"
    assert not {"UseKmsKey", "VpcNetworkInterfaces", "AutopilotChildJobs", "PassThisRole"} & set(by_sid)

    # One version, with the job's container, metrics and this run's id; approved by the threshold.
    (version,) = versions(aws, "churn-flow")
    auc = job["metrics"]["validation:auc"]
    assert version["ModelApprovalStatus"] == "Approved"
    assert version["ApprovalDescription"] == (
        f"validation:auc = {auc:g} meets the threshold validation:auc >= 0.6"
    )
    assert version["InferenceSpecification"]["Containers"] == [
        {"Image": XGBOOST_IMAGE, "ModelDataUrl": job["model_data_url"]}
    ]
    assert version["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    assert version["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"] == ["ml.m5.large"]
    props = version["CustomerMetadataProperties"]
    assert props["metric:validation:auc"] == str(auc)
    assert props["mlops-orchestrator:training-job"] == job["job_name"]
    metrics_uri = version["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert metrics_uri == f"s3://it-assets/training/churn-flow/output/{job['job_name']}/model-metrics.json"
    body = aws("s3").get_object(Bucket="it-assets", Key=metrics_uri.split("/", 3)[3])["Body"].read()
    assert json.loads(body)["metrics"]["validation:auc"] == {"value": auc}

    # Its model card: linked to the version, with the job, its metrics and the decision.
    described, content = card(aws, "churn-flow-v1")
    assert described["ModelCardStatus"] == "Approved"
    details = content["model_package_details"]
    assert details["model_package_arn"] == version["ModelPackageArn"]
    assert (details["model_approval_status"], details["approval_description"]) == (
        "Approved",
        version["ApprovalDescription"],
    )
    job_details = content["training_details"]["training_job_details"]
    assert job_details["training_arn"] == described_job_arn(aws, job["job_name"])
    assert {m["name"]: m["value"] for m in job_details["training_metrics"]}["validation:auc"] == pytest.approx(auc)
    assert {"name": "num_round", "value": "10"} in job_details["hyper_parameters"]
    assert content["model_overview"]["model_artifact"] == [job["model_data_url"]]
    assert content["model_overview"]["algorithm_type"] == "xgboost 1.7-1"
    assert content["intended_uses"] == {"purpose_of_model": "churn scoring", "risk_rating": "Medium"}
    assert content["additional_information"]["custom_details"]["dag_id"] == "churn_flow"
    # registered PendingManualApproval (card PendingReview), then approved: the card followed
    first, _ = card(aws, "churn-flow-v1", 1)
    assert first["ModelCardStatus"] == "PendingReview"
    assert xcom("churn_flow", "approve_model_version")["model_card"] == "churn-flow-v1"

    # The endpoint serves exactly that version.
    deploy_stack = stacks["mlops-pipeline-churn-flow-modeltraining-realtime"]
    assert deploy_stack["status"] == "CREATE_COMPLETE"
    (endpoint,) = report["resources"]["endpoints"]
    assert (endpoint["name"], endpoint["status"]) == ("churn-flow-endpoint", "InService")
    model_arn = next(r["physical_id"] for r in deploy_stack["resources"] if r["type"] == "AWS::SageMaker::Model")
    model = aws("sagemaker").describe_model(ModelName=model_arn.rsplit("/", 1)[-1])
    assert model["PrimaryContainer"]["ModelPackageName"] == version["ModelPackageArn"]

    # The approved version is an asset event of the group, for deployment DAGs scheduled on it.
    events = asset_events("sagemaker://123456789012/us-east-1/model-package-group/churn-flow")
    assert [e["model_package_arn"] for e in events] == [version["ModelPackageArn"]]
    assert events[0]["status"] == "Approved"

    # The run report lists the pipeline's job and version (what `run --local` prints).
    ((job_kind, job_status),) = [(j["kind"], j["status"]) for j in report["resources"]["training_jobs"]]
    assert (job_kind, job_status) == ("training", "Completed")
    assert report["resources"]["model_packages"] == [
        {"arn": version["ModelPackageArn"], "group": "churn-flow", "version": 1, "status": "Approved"}
    ]


def described_job_arn(aws, name: str) -> str:
    return aws("sagemaker").describe_training_job(TrainingJobName=name)["TrainingJobArn"]


def test_a_threshold_not_met_rejects_the_version_and_deploys_nothing(run_config, aws):
    config = training(
        "churn-low",
        approval_threshold={"metric": "validation:auc", "min": 0.995},
        deploy=realtime("churn-low"),
    )
    report = run_config(config, name="churn_low.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["reject_model_version"] == "success"
    assert report["tasks"]["approve_model_version"] == "skipped"
    assert {report["tasks"][t] for t in DEPLOY_TASKS} == {"skipped"}
    # The group defaults to model_name with a deploy section.
    (version,) = versions(aws, "churn-low")
    auc = xcom("churn_low", "train")["metrics"]["validation:auc"]
    assert version["ModelApprovalStatus"] == "Rejected"
    assert version["ApprovalDescription"] == (
        f"validation:auc = {auc:g} does not meet the threshold validation:auc >= 0.995"
    )
    assert [s["name"] for s in report["resources"]["stacks"]] == ["mlops-pipeline-churn-low-modeltraining"]
    assert report["resources"]["endpoints"] == []


def test_a_threshold_on_a_metric_the_job_did_not_report_fails_and_says_which_it_did(run_config, aws):
    config = training("churn-typo", model_package_group_name="churn-typo", approval_threshold={"metric": "val:auc", "min": 0.5})
    report = run_config(config, name="churn_typo.yaml")
    assert report["state"] == "failed"
    message = report["failures"]["check_threshold"]
    assert "reported no metric 'val:auc'" in message
    assert "train:rmse, validation:auc, validation:rmse" in message
    (version,) = versions(aws, "churn-typo")
    assert version["ModelApprovalStatus"] == "PendingManualApproval"


def test_a_failed_training_job_fails_the_run_with_sagemakers_reason_and_registers_nothing(run_config, aws, control):
    reason = "AlgorithmError: framework error: XGBoostError: label must be in [0,1] for logistic regression"
    control.add_failure("training_job", match="training/churn-bad/train.csv", reason=reason)
    report = run_config(training("churn-bad", model_package_group_name="churn-bad"), name="churn_bad.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["train"] == "failed"
    assert report["tasks"]["register_model"] == "upstream_failed"
    message = report["failures"]["train"]
    assert f"ended Failed: {reason}" in message
    jobs = aws("sagemaker").list_training_jobs(NameContains="churn-bad")["TrainingJobSummaries"]
    assert len(jobs) == 1  # not retried into a second job
    with pytest.raises(aws("sagemaker").exceptions.ClientError):
        aws("sagemaker").describe_model_package_group(ModelPackageGroupName="churn-bad")


# --------------------------------------------------------------------------------------------
# a person approves or rejects in the Airflow UI (human in the loop)
# --------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_person_rejects_the_version_and_nothing_is_deployed(run_config, aws):
    config = training("churn-manual", model_package_group_name="churn-manual", deploy=realtime("churn-manual"))
    answer = respond("churn_manual", "approve_model", "Reject", comment="AUC fine, but the data is stale")
    report = run_config(config, name="churn_manual.yaml")
    answer.join(timeout=5)
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["approve_model"] == "success"
    assert report["tasks"]["reject_model_version"] == "success"
    assert report["tasks"]["approve_model_version"] == "skipped"
    assert {report["tasks"][t] for t in DEPLOY_TASKS} == {"skipped"}
    (version,) = versions(aws, "churn-manual")
    assert version["ModelApprovalStatus"] == "Rejected"
    assert version["ApprovalDescription"] == "Rejected by risk-officer in Airflow: AUC fine, but the data is stale"
    assert report["resources"]["endpoints"] == []
    described, content = card(aws, "churn-manual-v1")
    assert described["ModelCardStatus"] == "Archived"  # a rejected version is never deployed
    assert content["model_package_details"]["model_approval_status"] == "Rejected"
    assert content["model_package_details"]["approval_description"] == version["ApprovalDescription"]
    assert "intended_uses" not in content  # the config gave none


@pytest.mark.timeout(300)
def test_a_person_approves_and_the_version_is_deployed_as_a_batch_transform(run_config, aws):
    s3 = aws("s3")
    with contextlib.suppress(s3.exceptions.ClientError):  # when this test runs alone
        s3.create_bucket(Bucket="it-assets")
    for n in (1, 2):
        s3.put_object(Bucket="it-assets", Key=f"score/churn-batch/in/part-{n}.csv", Body=b"0.1,0.2,0.3,0.4\n")
    deploy = {
        "type": "batch",
        "inference_instance": "ml.m5.large",
        "batch_inference_data": "it-assets/score/churn-batch/in",
        "batch_job_output_location": "it-assets/score/churn-batch/out",
    }
    config = training("churn-batch", model_package_group_name="churn-batch", deploy=deploy)
    answer = respond("churn_batch", "approve_model", "Approve")
    report = run_config(config, name="churn_batch.yaml")
    answer.join(timeout=5)
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["approve_model_version"] == "success"
    assert report["tasks"]["reject_model_version"] == "skipped"
    assert report["tasks"]["deploy.batch_transform"] == "success"
    (version,) = versions(aws, "churn-batch")
    assert version["ModelApprovalStatus"] == "Approved"
    assert version["ApprovalDescription"] == "Approved by risk-officer in Airflow"
    described, content = card(aws, "churn-batch-v1")
    assert described["ModelCardStatus"] == "Approved"
    assert content["model_package_details"]["approval_description"] == "Approved by risk-officer in Airflow"
    assert version["InferenceSpecification"]["SupportedTransformInstanceTypes"] == ["ml.m5.large"]
    (job,) = report["resources"]["transform_jobs"]
    assert job["status"] == "Completed"
    assert len(job["outputs"]) == 2
    model = aws("sagemaker").describe_model(ModelName=job["model_name"])
    assert model["PrimaryContainer"]["ModelPackageName"] == version["ModelPackageArn"]


@pytest.mark.timeout(300)
def test_an_unanswered_approval_rejects_the_version_when_its_time_is_up(run_config, aws):
    config = training("churn-late", approval_timeout_hours=24, deploy=realtime("churn-late"))
    sweep = time_out_when_waiting("churn_late", "approve_model")
    report = run_config(config, name="churn_late.yaml")
    sweep.join(timeout=5)
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["reject_model_version"] == "success"
    assert {report["tasks"][t] for t in DEPLOY_TASKS} == {"skipped"}
    (version,) = versions(aws, "churn-late")
    assert version["ModelApprovalStatus"] == "Rejected"
    assert version["ApprovalDescription"] == "Rejected: nobody answered in Airflow within 24 hour(s)"


# --------------------------------------------------------------------------------------------
# tuning and Autopilot
# --------------------------------------------------------------------------------------------


def test_tuning_registers_the_best_training_jobs_model(run_config, aws):
    config = training(
        "churn-tune",
        pipeline_type="model_tuner_builtin",
        tuner_configs={"objective_metric_name": "validation:auc", "max_jobs": 3, "max_parallel_jobs": 3},
        hyperparameters_ranges={"eta": ["continuous", [0.1, 0.5]], "max_depth": ["integer", [2, 8]]},
        model_package_group_name="churn-tune",
        model_approval="automatic",
    )
    report = run_config(config, name="churn_tune.yaml")
    assert report["state"] == "success", report["failures"]
    assert "approve_model" not in report["tasks"] and "check_threshold" not in report["tasks"]
    result = xcom("churn_tune", "tune")
    tuning = aws("sagemaker").describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=result["job_name"])
    best = tuning["BestTrainingJob"]["TrainingJobName"]
    artifact = aws("sagemaker").describe_training_job(TrainingJobName=best)["ModelArtifacts"]["S3ModelArtifacts"]
    (version,) = versions(aws, "churn-tune")
    assert version["ModelApprovalStatus"] == "Approved"
    assert version["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == artifact
    assert [(j["kind"], j["name"]) for j in report["resources"]["training_jobs"]] == [("tuning", result["job_name"])]
    objective = tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert version["CustomerMetadataProperties"]["objective:validation:auc"] == str(float(objective["Value"]))
    described, content = card(aws, "churn-tune-v1")
    assert described["ModelCardStatus"] == "Approved"  # registered Approved: one version of the card
    assert described["ModelCardVersion"] == 1
    assert content["training_details"]["training_job_details"]["training_arn"] == described_job_arn(aws, best)
    assert "objective validation:auc = " in content["training_details"]["training_observations"]


def repository_arn(image: str) -> str:
    """ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG -> the repository's ARN."""
    registry, _, path = image.partition("/")
    account, _, rest = registry.partition(".dkr.ecr.")
    return f"arn:aws:ecr:{rest.split('.')[0]}:{account}:repository/{path.split(':')[0]}"


def test_autopilot_registers_and_deploys_the_best_candidates_containers(run_config, aws):
    config = {
        "pipeline_type": "model_autopilot_training",
        "model_name": "churn-auto",
        "training_data": "training/churn-auto/data.csv",
        "target_attribute": "churn",
        "job_output_location": "training/churn-auto/output",
        "problem_type": "BinaryClassification",
        "job_objective": "F1",
        "job_max_candidates": 2,
        "model_package_group_name": "churn-auto",
        "approval_threshold": {"metric": "objective", "min": 0.1},
        "deploy": realtime("churn-auto"),
    }
    report = run_config(config, name="churn_auto.json")
    assert report["state"] == "success", report["failures"]
    result = xcom("churn_auto", "autopilot")
    job = aws("sagemaker").describe_auto_ml_job(AutoMLJobName=result["job_name"])
    (version,) = versions(aws, "churn-auto")
    assert version["ModelApprovalStatus"] == "Approved"
    containers = job["BestCandidate"]["InferenceContainers"]
    assert [c["Image"] for c in version["InferenceSpecification"]["Containers"]] == [c["Image"] for c in containers]
    assert version["ApprovalDescription"].startswith("objective = ")
    described, content = card(aws, "churn-auto-v1")
    assert described["ModelCardStatus"] == "Approved"
    assert content["model_overview"]["problem_type"] == "BinaryClassification"
    assert content["model_overview"]["algorithm_type"] == "Autopilot"
    assert "training_arn" not in content["training_details"].get("training_job_details", {})
    assert f"best candidate {result['best_candidate']}" in content["training_details"]["training_observations"]
    assert content["model_overview"]["inference_environment"]["container_image"] == [c["Image"] for c in containers]

    # The endpoint serves the package (all its containers); its role may read every container's
    # artifact and pull every container's image, and no other object or repository.
    assert len(containers) == 3  # data processing, the algorithm, the inverse label transform
    stacks = {s["name"]: s for s in report["resources"]["stacks"]}
    deployed = stacks["mlops-pipeline-churn-auto-autopilottraining-realtime"]
    assert deployed["status"] == "CREATE_COMPLETE"
    (endpoint,) = report["resources"]["endpoints"]
    assert (endpoint["name"], endpoint["status"]) == ("churn-auto-endpoint", "InService")
    model_arn = next(r["physical_id"] for r in deployed["resources"] if r["type"] == "AWS::SageMaker::Model")
    model = aws("sagemaker").describe_model(ModelName=model_arn.rsplit("/", 1)[-1])
    assert model["PrimaryContainer"]["ModelPackageName"] == version["ModelPackageArn"]
    role_arn = deployed["outputs"]["ExecutionRoleArn"]
    policy = aws("iam").get_role_policy(RoleName=role_arn.rsplit("/", 1)[-1], PolicyName="model-access")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    artifacts = {"arn:aws:s3:::" + c["ModelDataUrl"].removeprefix("s3://") for c in containers}
    repositories = {repository_arn(c["Image"]) for c in containers}
    assert len(artifacts) == len(repositories) == 2  # the label transform reuses data processing's
    assert sorted(by_sid["ReadModelArtifact"]["Resource"]) == sorted(artifacts)
    assert sorted(by_sid["PullImage"]["Resource"]) == sorted(repositories)

    # Autopilot's role may start its child jobs, with itself only.
    role_stack = stacks["mlops-pipeline-churn-auto-autopilottraining"]
    policy = aws("iam").get_role_policy(RoleName=role_stack["outputs"]["RoleName"], PolicyName="training-access")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    sids = {s["Sid"] for s in document["Statement"]}
    assert {"AutopilotChildJobs", "PassThisRole"} <= sids


def autopilot(model: str) -> dict[str, Any]:
    return {
        "pipeline_type": "model_autopilot_training",
        "model_name": model,
        "training_data": f"training/{model}/data.csv",
        "target_attribute": "churn",
        "job_output_location": f"training/{model}/output",
        "job_max_candidates": 1,
    }


def test_deprovision_stops_a_running_autopilot_job_of_the_pipeline(run_config, aws, control):
    report = run_config(autopilot("auto-gone"), name="auto_gone.json")
    assert report["state"] == "success", report["failures"]
    job = aws("sagemaker").describe_auto_ml_job(AutoMLJobName=xcom("auto_gone", "autopilot")["job_name"])
    control.set_settings(job_seconds=900)  # still running after the deprovision run, however loaded the machine
    aws("sagemaker").create_auto_ml_job(
        AutoMLJobName="auto-gone-still-running",
        InputDataConfig=job["InputDataConfig"],
        OutputDataConfig=job["OutputDataConfig"],
        RoleArn=job["RoleArn"],
        Tags=[{"Key": "mlops-orchestrator:dag-id", "Value": "auto_gone"}],
    )
    control.set_settings(job_seconds=1)
    gone = run_config(autopilot("auto-gone"), name="auto_gone.json", action="deprovision")
    assert gone["state"] == "success", gone["failures"]
    assert xcom("auto_gone", "stop_training_jobs") == ["auto-gone-still-running"]
    status = aws("sagemaker").describe_auto_ml_job(AutoMLJobName="auto-gone-still-running")["AutoMLJobStatus"]
    assert status in ("Stopping", "Stopped")
    assert gone["resources"]["stacks"] == []


# --------------------------------------------------------------------------------------------
# deprovision, and registration on retry
# --------------------------------------------------------------------------------------------


def test_deprovision_stops_running_jobs_deletes_the_stacks_and_keeps_the_versions(run_config, aws, control):
    config = training("churn-gone", approval_threshold={"metric": "validation:auc", "min": 0.6}, deploy=realtime("churn-gone"))
    report = run_config(config, name="churn_gone.yaml")
    assert report["state"] == "success", report["failures"]
    assert len(report["resources"]["stacks"]) == 2
    stacks = {s["name"]: s for s in report["resources"]["stacks"]}
    role_arn = stacks["mlops-pipeline-churn-gone-modeltraining"]["outputs"]["RoleArn"]
    # A job of this pipeline still running (e.g. of a run marked failed), and another pipeline's.
    sagemaker = aws("sagemaker")
    request = sagemaker.describe_training_job(TrainingJobName=xcom("churn_gone", "train")["job_name"])
    control.set_settings(job_seconds=900)  # still running after the deprovision run, however loaded the machine
    for name, dag_id in (("churn-gone-still-running", "churn_gone"), ("churn-gone-other-dag", "someone_else")):
        sagemaker.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            RoleArn=role_arn,
            InputDataConfig=request["InputDataConfig"],
            OutputDataConfig={"S3OutputPath": "s3://it-assets/training/churn-gone/manual"},
            ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Tags=[{"Key": "mlops-orchestrator:dag-id", "Value": dag_id}],
        )
    control.set_settings(job_seconds=1)

    report = run_config(config, name="churn_gone.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["stop_training_jobs"] == "success"
    assert report["tasks"]["delete_deploy_stack"] == "success"
    assert report["tasks"]["delete_role_stack"] == "success"
    assert report["tasks"]["train"] == "skipped"
    assert xcom("churn_gone", "stop_training_jobs") == ["churn-gone-still-running"]
    assert report["resources"]["stacks"] == []
    status = sagemaker.describe_training_job(TrainingJobName="churn-gone-still-running")["TrainingJobStatus"]
    assert status in ("Stopping", "Stopped")
    other = sagemaker.describe_training_job(TrainingJobName="churn-gone-other-dag")
    assert other["TrainingJobStatus"] == "InProgress"
    # The registered version and the artifact are results, not infrastructure: they stay.
    (version,) = versions(aws, "churn-gone")
    assert version["ModelApprovalStatus"] == "Approved"
    artifact = version["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    aws("s3").head_object(Bucket="it-assets", Key=artifact.split("/", 3)[3])
    again = run_config(config, name="churn_gone.yaml", action="deprovision")
    assert again["state"] == "success", again["failures"]


def test_a_retried_registration_returns_the_version_of_its_run(local_aws, aws):
    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")
    s3 = aws("s3")
    s3.create_bucket(Bucket="op-registry")
    s3.put_object(Bucket="op-registry", Key="model.tar.gz", Body=b"model")
    job = {
        "job_name": "op-train-0123456789ab",
        "job_type": "training",
        "containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://op-registry/model.tar.gz"}],
        "metrics": {"validation:auc": 0.91},
        "objective": None,
        "definition_only": False,
    }

    def register(run_id: str) -> dict[str, Any]:
        operator = RegisterModelVersionOperator(
            task_id="register_model",
            model_package_group_name="op-registry",
            training=job,
            model_card={"intended_uses": {"purpose_of_model": "retry test"}},
        )
        dag_run = SimpleNamespace(dag_id="op_registry", run_id=run_id, start_date=None)
        return operator.execute({"ti": RecordingTaskInstance("register_model", run_id), "dag_run": dag_run})

    first = register("manual__one")
    retried = register("manual__one")  # the same DAG run: a retry of the task
    other = register("manual__two")
    assert retried == first
    assert (first["version"], other["version"]) == (1, 2)
    assert first["status"] == "PendingManualApproval"
    listed = versions(aws, "op-registry")
    assert [v["CustomerMetadataProperties"][RUN_ID_KEY] for v in listed] == ["manual__one", "manual__two"]
    # one card per version; the retry found its run's card and wrote nothing new
    assert (first["model_card"], other["model_card"]) == ("op-registry-v1", "op-registry-v2")
    cards = aws("sagemaker").list_model_cards(NameContains="op-registry")["ModelCardSummaries"]
    assert sorted(c["ModelCardName"] for c in cards) == ["op-registry-v1", "op-registry-v2"]
    described, content = card(aws, "op-registry-v1")
    assert described["ModelCardVersion"] == 1 and described["ModelCardStatus"] == "PendingReview"
    assert content["training_details"]["training_job_details"]["user_provided_training_metrics"] == [
        {"name": "validation:auc", "value": 0.91}
    ]  # the job is not in SageMaker here: its metrics come from the training step's result



def test_the_next_run_registers_a_new_version_and_updates_the_endpoint_in_place(run_config, aws):
    config = training("churn-weekly", model_approval="automatic", deploy=realtime("churn-weekly"))
    first = run_config(config, name="churn_weekly.yaml")
    second = run_config(config, name="churn_weekly.yaml")
    assert first["state"] == second["state"] == "success", (first["failures"], second["failures"])
    one, two = versions(aws, "churn-weekly")
    assert (one["ModelPackageVersion"], two["ModelPackageVersion"]) == (1, 2)
    assert one["InferenceSpecification"]["Containers"] != two["InferenceSpecification"]["Containers"]
    stacks = {s["name"]: s for s in second["resources"]["stacks"]}
    deploy_stack = stacks["mlops-pipeline-churn-weekly-modeltraining-realtime"]
    assert deploy_stack["status"] == "UPDATE_COMPLETE"
    (endpoint,) = second["resources"]["endpoints"]
    assert (endpoint["name"], endpoint["status"]) == ("churn-weekly-endpoint", "InService")
    config_name = aws("sagemaker").describe_endpoint(EndpointName="churn-weekly-endpoint")["EndpointConfigName"]
    variant = aws("sagemaker").describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"][0]
    model = aws("sagemaker").describe_model(ModelName=variant["ModelName"])
    assert model["PrimaryContainer"]["ModelPackageName"] == two["ModelPackageArn"]


def test_a_training_task_killed_and_retried_while_its_job_runs_starts_no_second_job(local_aws, aws, control):
    from airflow.providers.common.compat.sdk import TaskDeferred
    from mlops_orchestrator.operators.sagemaker_training import TrainingJobOperator
    from mlops_orchestrator.operators.training_requests import job_name_for
    from task_doubles import run_trigger

    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")
    s3 = aws("s3")
    s3.create_bucket(Bucket="op-training")
    s3.put_object(Bucket="op-training", Key="data/train.csv", Body=b"1,0.5,0.2\n0,0.1,0.9\n")
    request = {
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "RoleArn": "arn:aws:iam::123456789012:role/op-training",
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://op-training/data"}},
                "ContentType": "csv",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://op-training/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "HyperParameters": {"num_round": "5"},
    }
    run_id = "scheduled__2025-06-01T02:00:00+00:00"

    def attempt() -> tuple[TrainingJobOperator, dict[str, Any]]:
        """A fresh task (a retry runs a new copy) and its context, as Airflow gives them."""
        operator = TrainingJobOperator(
            task_id="train",
            request=request,
            job_name_prefix="op-train",
            image_uri=XGBOOST_IMAGE,
            tags={"mlops-orchestrator:dag-id": "op_training"},
            check_interval=1,
        )
        dag_run = SimpleNamespace(dag_id="op_training", run_id=run_id)
        return operator, {"ti": RecordingTaskInstance("train", run_id), "dag_run": dag_run}

    job_name = job_name_for("training", "op-train", "op_training", run_id)
    control.set_settings(job_seconds=12)  # still running at the retry, even on a loaded machine
    operator, context = attempt()
    with pytest.raises(TaskDeferred):
        operator.execute(context)
    assert aws("sagemaker").describe_training_job(TrainingJobName=job_name)["TrainingJobStatus"] == "InProgress"

    # The worker was killed while the task was deferred; Airflow retries it while SageMaker trains.
    operator, context = attempt()
    with pytest.raises(TaskDeferred) as retry:
        operator.execute(context)
    listed = aws("sagemaker").list_training_jobs(NameContains="op-train")["TrainingJobSummaries"]
    assert [j["TrainingJobName"] for j in listed] == [job_name], "one job for the run, not two"
    event = run_trigger(retry.value.trigger)
    result = operator.execute_complete(context, event)
    assert (result["job_name"], result["model_data_url"]) == (
        job_name,
        f"s3://op-training/output/{job_name}/output/model.tar.gz",
    )
