"""Image builder pipelines end to end: real DAG runs against the local AWS emulator over HTTP; the
CodeBuild operator's retry behaviour driven directly (as Airflow would on a retry); a custom
realtime pipeline deploying the image through the asset the builder published."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from botocore.exceptions import ClientError
from mlops_orchestrator.operators.codebuild import CodeBuildStartBuildOperator
from mlops_orchestrator.run.airflow_env import set_local_aws_connection
from task_doubles import RecordingTaskInstance, run_trigger

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
BUILD_TASKS = {"deploy_stack", "build_image", "publish_image", "delete_stack"}


def image_builder(repo: str, tag: str = "v1", **extra: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "byom_image_builder",
        "custom_algorithm_docker": f"custom/{repo.replace('/', '-')}.zip",
        "ecr_repo_name": repo,
        "image_tag": tag,
        **extra,
    }


def custom_realtime(model: str, image_from: str, **extra: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "byom_realtime_custom",
        "model_name": model,
        "custom_image_from": image_from,
        "model_artifact_location": f"models/{model}/model.tar.gz",
        "data_capture_location": f"it-assets/capture/{model}",
        "inference_instance": "ml.m5.large",
        **extra,
    }


def xcom(dag_id: str, task_id: str, key: str = "return_value") -> Any:
    """An XCom (by default the return value) of the task in the DAG's latest run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel)
            .where(XComModel.dag_id == dag_id, XComModel.task_id == task_id, XComModel.key == key)
            .order_by(XComModel.timestamp.desc())
        ).first()
        return XComModel.deserialize_value(row) if row is not None else None


def asset_events(uri: str) -> list[dict[str, Any]]:
    """Events of the asset with this URI, oldest first: their extra and the aliases they came through."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri)
            .order_by(AssetEvent.timestamp)
        ).all()
        return [
            {
                "extra": event.extra,
                "aliases": sorted(alias.name for alias in event.source_aliases),
                "dag_id": event.source_dag_id,
            }
            for event in events
        ]


def builds_of(aws, project: str) -> list[dict[str, Any]]:
    """The project's builds, newest first."""
    codebuild = aws("codebuild")
    ids = codebuild.list_builds_for_project(projectName=project)["ids"]
    return codebuild.batch_get_builds(ids=ids)["builds"] if ids else []


def log_of(aws, build: dict[str, Any]) -> list[str]:
    logs = build["logs"]
    events = aws("logs").get_log_events(logGroupName=logs["groupName"], logStreamName=logs["streamName"])
    return [event["message"] for event in events["events"]]


def image_digest(aws, repo: str, tag: str) -> str:
    (detail,) = aws("ecr").describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}])["imageDetails"]
    return detail["imageDigest"]


def test_builds_pushes_publishes_rebuilds_and_deprovisions(run_config, aws):
    # 1. deploy: the stack (repository, project, role, log group), a build, the image in ECR.
    report = run_config(image_builder("team/churn-algo"), name="churn_image.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == {
        "deploy_stack": "success",
        "build_image": "success",
        "publish_image": "success",
        "delete_stack": "skipped",
    }
    (stack,) = report["resources"]["stacks"]
    assert stack["name"] == "mlops-pipeline-team-churn-algo-byompipelineimagebuilder"
    assert stack["status"] == "CREATE_COMPLETE"
    assert {r["type"] for r in stack["resources"]} == {
        "AWS::ECR::Repository",
        "AWS::Logs::LogGroup",
        "AWS::IAM::Role",
        "AWS::CodeBuild::Project",
    }
    assert all(r["status"] == "CREATE_COMPLETE" for r in stack["resources"])
    project = stack["outputs"]["ProjectName"]
    assert stack["outputs"]["RepositoryUri"] == f"{REGISTRY}/team/churn-algo"
    # What `run` and `demo` report: the image the pipeline pushed, with its digest.
    (image,) = report["resources"]["images"]
    assert image["uri"] == f"{REGISTRY}/team/churn-algo:v1"
    assert image["digest"].startswith("sha256:")

    (repository,) = aws("ecr").describe_repositories(repositoryNames=["team/churn-algo"])["repositories"]
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfiguration"] == {"encryptionType": "AES256"}
    lifecycle = aws("ecr").get_lifecycle_policy(repositoryName="team/churn-algo")["lifecyclePolicyText"]
    assert '"tagStatus": "untagged"' in lifecycle
    with pytest.raises(ClientError, match="RepositoryPolicyNotFound"):
        aws("ecr").get_repository_policy(repositoryName="team/churn-algo")  # no stage accounts

    (build,) = builds_of(aws, project)
    assert build["buildStatus"] == "SUCCEEDED"
    assert [p["phaseType"] for p in build["phases"]] == [
        "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD",
        "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED",
    ]
    assert build["source"]["location"] == "it-assets/custom/team-churn-algo.zip"
    assert build["environment"]["privilegedMode"] is True
    digest = image_digest(aws, "team/churn-algo", "v1")
    log = "\n".join(log_of(aws, build))
    assert "Phase complete: BUILD State: SUCCEEDED" in log
    assert 'Running command docker push "$REPO_URI:$IMAGE_TAG"' in log
    assert f"v1: digest: {digest}" in log
    assert f"IMAGE_DIGEST={digest}" in log

    published = xcom("churn_image", "publish_image")
    assert published["image_uri"] == f"{REGISTRY}/team/churn-algo:v1"
    assert published["image_uri_by_digest"] == f"{REGISTRY}/team/churn-algo@{digest}"
    assert published["image_digest"] == digest
    assert published["asset_uri"] == f"ecr://{ACCOUNT}/us-east-1/team/churn-algo:v1"
    built = xcom("churn_image", "build_image")
    assert built["status"] == "SUCCEEDED" and built["action"] == "start"
    assert built["environment"]["IMAGE_TAG"] == "v1"
    (event,) = asset_events(published["asset_uri"])
    assert event["aliases"] == ["mlops-orchestrator/image/churn_image"]
    assert event["extra"]["image_digest"] == digest
    assert event["dag_id"] == "churn_image"

    # 2. the same tag again: the stack is unchanged, a new build pushes a new image under the tag.
    report = run_config(image_builder("team/churn-algo"), name="churn_image.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["resources"]["stacks"][0]["status"] == "CREATE_COMPLETE"  # nothing to update
    second, first = builds_of(aws, project)
    assert first["id"] == build["id"] and second["buildStatus"] == "SUCCEEDED"
    assert second["buildNumber"] == first["buildNumber"] + 1
    rebuilt = image_digest(aws, "team/churn-algo", "v1")
    assert rebuilt != digest
    assert xcom("churn_image", "publish_image")["image_digest"] == rebuilt
    assert [e["extra"]["image_digest"] for e in asset_events(published["asset_uri"])] == [digest, rebuilt]

    # 3. a new tag: the same stack (named after the repository) builds it; the old tag stays.
    report = run_config(image_builder("team/churn-algo", tag="v2"), name="churn_image.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["resources"]["stacks"][0]["status"] == "UPDATE_COMPLETE"
    assert image_digest(aws, "team/churn-algo", "v2")
    assert image_digest(aws, "team/churn-algo", "v1") == rebuilt
    assert len(builds_of(aws, project)) == 3

    # 4. deprovision: the stack, the project and the repository with its images are gone.
    report = run_config(image_builder("team/churn-algo", tag="v2"), name="churn_image.yaml", action="deprovision")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"]["delete_stack"] == "success"
    assert report["tasks"]["build_image"] == "skipped"
    assert report["resources"]["stacks"] == []
    with pytest.raises(ClientError, match="RepositoryNotFoundException"):
        aws("ecr").describe_repositories(repositoryNames=["team/churn-algo"])
    assert project not in aws("codebuild").list_projects()["projects"]


def test_stage_accounts_may_pull(run_config, aws):
    stages = {"dev": {"account_id": "111122223333"}, "prod": {"account_id": "444455556666"}}
    report = run_config(image_builder("team/shared-algo", stages=stages), name="shared_image.yaml")
    assert report["state"] == "success", report["failures"]
    policy = aws("ecr").get_repository_policy(repositoryName="team/shared-algo")["policyText"]
    assert '"AWS": ["111122223333", "444455556666"]' in policy
    assert "ecr:BatchGetImage" in policy and "ecr:PutImage" not in policy


def test_a_failing_build_fails_the_task_with_the_phase_and_the_message(run_config, aws, control):
    control.add_failure(
        "build",
        match="team/flaky-algo",
        reason="PRE_BUILD: Error while executing command: aws ecr get-login-password. Reason: exit status 255",
        times=2,  # the try and its retry
    )
    report = run_config(image_builder("team/flaky-algo"), name="flaky_image.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["build_image"] == "failed"
    assert report["tasks"]["publish_image"] == "upstream_failed"
    message = report["failures"]["build_image"]
    assert message.startswith("CodeBuild build mlops-pipeline-team-flaky-algo-byompipelineimagebuilder:")
    assert "ended FAILED: phase PRE_BUILD FAILED: COMMAND_EXECUTION_ERROR: Error while executing command: " in message
    assert "aws ecr get-login-password. Reason: exit status 255" in message
    project = report["resources"]["stacks"][0]["outputs"]["ProjectName"]
    builds = builds_of(aws, project)
    assert [b["buildStatus"] for b in builds] == ["FAILED", "FAILED"]  # the retry built again
    phases = {p["phaseType"]: p.get("phaseStatus") for p in builds[0]["phases"]}
    assert phases["PRE_BUILD"] == "FAILED" and "BUILD" not in phases  # straight to FINALIZING
    with pytest.raises(ClientError, match="ImageNotFoundException|does not exist"):
        image_digest(aws, "team/flaky-algo", "v1")


def test_a_context_without_dockerfile_fails_like_docker(run_config, aws):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("src/serve.py", "print('no Dockerfile at the root')\n")
    aws("s3").create_bucket(Bucket="it-assets")
    aws("s3").put_object(Bucket="it-assets", Key="custom/team-nodocker.zip", Body=buffer.getvalue())
    report = run_config(image_builder("team/nodocker", retries=0), name="nodocker_image.yaml")
    assert report["state"] == "failed"
    message = report["failures"]["build_image"]
    assert (
        "phase BUILD FAILED: COMMAND_EXECUTION_ERROR: Error while executing command: "
        'docker build -t "$REPO_URI:$IMAGE_TAG" .. Reason: exit status 1'
    ) in message
    project = report["resources"]["stacks"][0]["outputs"]["ProjectName"]
    (build,) = builds_of(aws, project)
    assert "ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory" in log_of(
        aws, build
    )


def queued_runs(dag_id: str) -> list[str]:
    """Asset URIs whose events queued a run of the DAG (what the scheduler turns into DAG runs)."""
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == dag_id)).all()
        return [row.asset.uri for row in rows]


def unpause(dag_id: str) -> None:
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=False))


def test_a_custom_realtime_pipeline_deploys_the_published_image(run_config, aws):
    report = run_config(image_builder("team/scorer"), name="scorer_image.yaml")
    assert report["state"] == "success", report["failures"]
    first = image_digest(aws, "team/scorer", "v1")

    consumer = custom_realtime("scorer", "scorer_image", deploy_on_new_image=True)
    report = run_config(consumer, name="scorer_endpoint.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == {
        "resolve_image": "success",
        "deploy_stack": "success",
        "delete_stack": "skipped",
    }
    resolved = xcom("scorer_endpoint", "resolve_image")
    assert resolved["image_uri"] == f"{REGISTRY}/team/scorer@{first}"
    assert resolved["source_dag_id"] == "scorer_image"

    def serving_image() -> str:
        sagemaker = aws("sagemaker")
        endpoint = sagemaker.describe_endpoint(EndpointName="scorer-endpoint")
        assert endpoint["EndpointStatus"] == "InService"
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        return model["PrimaryContainer"]["Image"]

    assert serving_image() == f"{REGISTRY}/team/scorer@{first}"
    model_parameters = xcom("scorer_endpoint", "deploy_stack", key="parameters")  # what it resolved
    assert model_parameters["EcrRepositoryArn"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/scorer"

    # A rebuild of the same tag queues a deployment (deploy_on_new_image: the DAG is scheduled on the
    # builder's asset alias), which deploys the new image (images go by digest).
    unpause("scorer_endpoint")
    assert queued_runs("scorer_endpoint") == []
    assert run_config(image_builder("team/scorer"), name="scorer_image.yaml")["state"] == "success"
    second = image_digest(aws, "team/scorer", "v1")
    assert queued_runs("scorer_endpoint") == [f"ecr://{ACCOUNT}/us-east-1/team/scorer:v1"]
    report = run_config(consumer, name="scorer_endpoint.yaml")  # what the scheduler would run
    assert report["state"] == "success", report["failures"]
    assert report["resources"]["stacks"][0]["status"] == "UPDATE_COMPLETE"
    assert serving_image() == f"{REGISTRY}/team/scorer@{second}"

    # Once the image builder is deprovisioned, the image is gone: deploying says so.
    assert run_config(image_builder("team/scorer"), name="scorer_image.yaml", action="deprovision")["state"] == "success"
    report = run_config(consumer, name="scorer_endpoint.yaml")
    assert report["state"] == "failed"
    assert report["failures"]["resolve_image"] == (
        f"Image {REGISTRY}/team/scorer@{second}, published by DAG 'scorer_image' "
        f"(run {xcom('scorer_endpoint', 'resolve_image')['source_run_id']}), is no longer in ECR "
        "(was the image builder deprovisioned?): run scorer_image again"
    )
    assert serving_image() == f"{REGISTRY}/team/scorer@{second}"  # the endpoint keeps serving


def test_a_custom_batch_pipeline_transforms_with_the_published_image(run_config, aws):
    assert run_config(image_builder("team/ranker"), name="ranker_image.yaml")["state"] == "success"
    digest = image_digest(aws, "team/ranker", "v1")
    consumer = {
        "pipeline_type": "byom_batch_custom",
        "model_name": "ranker-batch",
        "custom_image_from": "ranker_image",
        "model_artifact_location": "models/ranker-batch/model.tar.gz",
        "batch_inference_data": "it-assets/batch/ranker/input",
        "batch_job_output_location": "it-assets/batch/ranker/output",
        "inference_instance": "ml.m5.large",
    }
    report = run_config(consumer, name="ranker_batch.yaml")
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == {
        "resolve_image": "success",
        "deploy_stack": "success",
        "batch_transform": "success",
        "stop_transform_jobs": "skipped",
        "delete_stack": "skipped",
    }
    (job,) = report["resources"]["transform_jobs"]
    assert job["status"] == "Completed"
    described = aws("sagemaker").describe_transform_job(TransformJobName=job["name"])
    model = aws("sagemaker").describe_model(ModelName=described["ModelName"])
    assert model["PrimaryContainer"]["Image"] == f"{REGISTRY}/team/ranker@{digest}"


def test_a_custom_realtime_pipeline_before_any_build_says_what_to_run(run_config):
    report = run_config(custom_realtime("lonely", "lonely_image"), name="lonely_endpoint.yaml")
    assert report["state"] == "failed"
    assert report["tasks"]["deploy_stack"] == "upstream_failed"
    assert report["tasks"]["delete_stack"] == "skipped"
    assert report["failures"]["resolve_image"] == (
        "No image has been published by DAG 'lonely_image' yet (asset alias "
        "'mlops-orchestrator/image/lonely_image'): run that image builder DAG first (custom_image_from: lonely_image)"
    )


# --- the operator on its own: deferral, retries, failures ------------------------------------------



@pytest.fixture
def project(local_aws, aws, request):
    """A CodeBuild project (through the API) building a zip that exists, pushing to a repository."""
    set_local_aws_connection("aws_default", local_aws.endpoint_url, "us-east-1")
    name = "op-" + request.node.name.removeprefix("test_")[:32].replace("_", "-").strip("-")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Dockerfile", "FROM public.ecr.aws/docker/library/busybox\n")
    aws("s3").create_bucket(Bucket="op-sources")
    aws("s3").put_object(Bucket="op-sources", Key=f"{name}.zip", Body=buffer.getvalue())
    aws("ecr").create_repository(repositoryName=name)
    aws("codebuild").create_project(
        name=name,
        source={
            "type": "S3",
            "location": f"op-sources/{name}.zip",
            "buildspec": "version: 0.2\nphases:\n  build:\n    commands:\n"
            '      - docker build -t "$REPO_URI:$IMAGE_TAG" .\n      - docker push "$REPO_URI:$IMAGE_TAG"\n',
        },
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "privilegedMode": True,
            "environmentVariables": [
                {"name": "REPO_URI", "value": f"{REGISTRY}/{name}"},
                {"name": "IMAGE_TAG", "value": "latest"},
            ],
        },
        serviceRole=f"arn:aws:iam::{ACCOUNT}:role/codebuild",
    )
    return name




def build_operator(project: str, **kwargs) -> CodeBuildStartBuildOperator:
    return CodeBuildStartBuildOperator(task_id="build", project_name=project, waiter_delay=1, **kwargs)


def test_the_operator_defers_then_completes_from_the_trigger_event(project, aws):
    context = {"ti": RecordingTaskInstance("build", "run-1")}
    operator = build_operator(project, environment_variables={"IMAGE_TAG": "t1"})
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = deferred.value.trigger
    build_id = trigger.serialize()[1]["build_id"]
    # While the task is deferred the build runs; no worker waits for it.
    (build,) = aws("codebuild").batch_get_builds(ids=[build_id])["builds"]
    assert build["buildStatus"] == "IN_PROGRESS"
    assert {"name": "AIRFLOW_TASK_INSTANCE", "value": "operator_test/run-1/build", "type": "PLAINTEXT"} in (
        build["environment"]["environmentVariables"]
    )
    assert "mlops_codebuild_build" in context["ti"].xcom

    event = run_trigger(trigger)
    assert event == {"status": "success", "build_id": build_id}
    result = operator.execute_complete(context, event)
    assert result["status"] == "SUCCEEDED" and result["action"] == "start"
    assert image_digest(aws, project, "t1").startswith("sha256:")


def test_a_retry_while_the_build_runs_attaches_to_it(project, aws, control):
    control.set_settings(job_seconds=12)  # still building at the retry, even on a loaded machine
    first_try = {"ti": RecordingTaskInstance("build", "run-2", try_number=1)}
    with pytest.raises(TaskDeferred) as first:
        build_operator(project).execute(first_try)
    # The worker died; Airflow retries the task while CodeBuild is still building.
    second_try = {"ti": RecordingTaskInstance("build", "run-2", try_number=2)}
    with pytest.raises(TaskDeferred) as second:
        build_operator(project).execute(second_try)
    assert second_try["ti"].xcom["build_action"] == "attach"
    build_id = first.value.trigger.serialize()[1]["build_id"]
    assert second.value.trigger.serialize()[1]["build_id"] == build_id
    assert aws("codebuild").list_builds_for_project(projectName=project)["ids"] == [build_id], "one build, not two"

    # Another DAG run of the same task starts its own build.
    with pytest.raises(TaskDeferred) as other:
        build_operator(project).execute({"ti": RecordingTaskInstance("build", "run-3")})
    assert other.value.trigger.serialize()[1]["build_id"] != build_id
    assert run_trigger(second.value.trigger)["status"] == "success"


def test_a_retry_after_a_failed_build_builds_again_and_polling_mode_explains(project, aws, control):
    control.set_settings(job_seconds=0.3)
    control.add_failure(
        "build", match=project, reason="BUILD: Error while executing command: make. Reason: exit status 2", times=1
    )
    context = {"ti": RecordingTaskInstance("build", "run-4")}
    with pytest.raises(AirflowException) as failure:
        build_operator(project, deferrable=False).execute(context)
    assert "ended FAILED: phase BUILD FAILED: COMMAND_EXECUTION_ERROR: Error while executing command: make." in str(
        failure.value
    )
    retry = {"ti": RecordingTaskInstance("build", "run-4", try_number=2)}
    result = build_operator(project, deferrable=False).execute(retry)
    assert result["status"] == "SUCCEEDED" and result["action"] == "start"
    assert len(aws("codebuild").list_builds_for_project(projectName=project)["ids"]) == 2


def test_a_missing_source_zip_fails_in_download_source(project, aws, control):
    control.set_settings(job_seconds=0.3)
    aws("s3").delete_object(Bucket="op-sources", Key=f"{project}.zip")
    with pytest.raises(AirflowException) as failure:
        build_operator(project, deferrable=False).execute({"ti": RecordingTaskInstance("build", "run-5")})
    assert str(failure.value).endswith(
        "ended FAILED: phase DOWNLOAD_SOURCE FAILED: CLIENT_ERROR: NoSuchKey: The specified key does "
        f"not exist. for primary source and source version arn:aws:s3:::op-sources/{project}.zip"
    )
