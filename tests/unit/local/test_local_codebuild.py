"""CodeBuild and ECR in the emulator: projects and repositories through CloudFormation, builds that
go through their phases over time, log, push images, fail where a rule says, and stop."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

WAIT = {"Delay": 0.1, "MaxAttempts": 100}
ROLE = "arn:aws:iam::123456789012:role/codebuild"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
BUILDSPEC = (
    "version: 0.2\nphases:\n  install:\n    commands:\n      - echo installing\n"
    "  build:\n    commands:\n      - docker build -t \"$REPO_URI:$IMAGE_TAG\" .\n"
    "      - docker push \"$REPO_URI:$IMAGE_TAG\"\n  post_build:\n    commands:\n      - echo \"done $IMAGE_TAG\"\n"
)

TEMPLATE = """
Parameters:
  Tag:
    Type: String
  EmptyOnDelete:
    Type: String
    Default: "true"
Resources:
  Repository:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: !Sub "${AWS::StackName}-repo"
      ImageScanningConfiguration: {ScanOnPush: true}
      EmptyOnDelete: !Ref EmptyOnDelete
  Project:
    Type: AWS::CodeBuild::Project
    Properties:
      Name: !Sub "${AWS::StackName}-build"
      ServiceRole: arn:aws:iam::123456789012:role/codebuild
      Source: {Type: S3, Location: !Sub "cb-sources/${AWS::StackName}.zip", BuildSpec: BUILDSPEC_JSON}
      Artifacts: {Type: NO_ARTIFACTS}
      Environment:
        Type: LINUX_CONTAINER
        ComputeType: BUILD_GENERAL1_SMALL
        Image: aws/codebuild/standard:7.0
        PrivilegedMode: true
        EnvironmentVariables:
          - {Name: REPO_URI, Value: !GetAtt Repository.RepositoryUri}
          - {Name: IMAGE_TAG, Value: !Ref Tag}
Outputs:
  ProjectArn:
    Value: !GetAtt Project.Arn
  ProjectName:
    Value: !Ref Project
""".replace("BUILDSPEC_JSON", json.dumps(BUILDSPEC))


def _zip(**files: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def codebuild(aws_client: Any) -> Any:
    return aws_client("codebuild")


@pytest.fixture
def stack(aws_client: Any, cloudformation: Any, request: Any):
    """Deploy TEMPLATE as a stack named after the test, with a build context zip in S3."""

    def deploy(name: str, *, dockerfile: bool = True, **parameters: str) -> dict[str, str]:
        s3 = aws_client("s3")
        s3.create_bucket(Bucket="cb-sources")
        files = {"Dockerfile": "FROM busybox\nRUN echo hi\n"} if dockerfile else {"app.py": "x = 1\n"}
        s3.put_object(Bucket="cb-sources", Key=f"{name}.zip", Body=_zip(**files))
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in {"Tag": "v1", **parameters}.items()],
        )
        cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    return deploy


def _wait(codebuild: Any, build_id: str) -> dict[str, Any]:
    for _ in range(100):
        (build,) = codebuild.batch_get_builds(ids=[build_id])["builds"]
        if build["buildStatus"] != "IN_PROGRESS":
            return build
        time.sleep(0.05)
    raise AssertionError(f"build {build_id} did not end")


def _phases(build: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(p["phaseType"], p.get("phaseStatus")) for p in build["phases"]]


def _log(aws_client: Any, build: dict[str, Any]) -> str:
    logs = build["logs"]
    events = aws_client("logs").get_log_events(logGroupName=logs["groupName"], logStreamName=logs["streamName"])
    return "\n".join(e["message"] for e in events["events"])


def test_a_stack_creates_the_project_and_the_repository(stack: Any, codebuild: Any, aws_client: Any) -> None:
    outputs = stack("cb-stack")
    assert outputs["ProjectName"] == "cb-stack-build"
    assert outputs["ProjectArn"] == "arn:aws:codebuild:us-east-1:123456789012:project/cb-stack-build"
    (project,) = codebuild.batch_get_projects(names=["cb-stack-build"])["projects"]
    assert project["source"]["type"] == "S3"
    assert project["source"]["buildspec"] == BUILDSPEC
    assert project["environment"]["privilegedMode"] is True
    assert {"name": "IMAGE_TAG", "value": "v1", "type": "PLAINTEXT"} in project["environment"]["environmentVariables"]
    (repository,) = aws_client("ecr").describe_repositories(repositoryNames=["cb-stack-repo"])["repositories"]
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}


def test_a_build_goes_through_the_phases_logs_and_pushes(stack: Any, codebuild: Any, aws_client: Any) -> None:
    stack("cb-phases")
    build = codebuild.start_build(projectName="cb-phases-build")["build"]
    assert build["buildStatus"] == "IN_PROGRESS"
    assert build["currentPhase"] in ("SUBMITTED", "QUEUED")
    build = _wait(codebuild, build["id"])
    assert build["buildStatus"] == "SUCCEEDED" and build["currentPhase"] == "COMPLETED"
    assert _phases(build) == [
        ("SUBMITTED", "SUCCEEDED"),
        ("QUEUED", "SUCCEEDED"),
        ("PROVISIONING", "SUCCEEDED"),
        ("DOWNLOAD_SOURCE", "SUCCEEDED"),
        ("INSTALL", "SUCCEEDED"),
        ("PRE_BUILD", "SUCCEEDED"),
        ("BUILD", "SUCCEEDED"),
        ("POST_BUILD", "SUCCEEDED"),
        ("UPLOAD_ARTIFACTS", "SUCCEEDED"),
        ("FINALIZING", "SUCCEEDED"),
        ("COMPLETED", None),
    ]
    (image,) = aws_client("ecr").describe_images(repositoryName="cb-phases-repo")["imageDetails"]
    assert image["imageTags"] == ["v1"]
    log = _log(aws_client, build)
    assert "Running command echo installing\ninstalling" in log
    assert "#2 [1/2] FROM busybox" in log
    assert f"v1: digest: {image['imageDigest']}" in log
    assert "done v1" in log


def test_overrides_numbers_and_idempotency(stack: Any, codebuild: Any, aws_client: Any) -> None:
    stack("cb-idem")
    override = [{"name": "IMAGE_TAG", "value": "v9", "type": "PLAINTEXT"}]
    first = codebuild.start_build(
        projectName="cb-idem-build", environmentVariablesOverride=override, idempotencyToken="t-1"
    )["build"]
    again = codebuild.start_build(
        projectName="cb-idem-build", environmentVariablesOverride=override, idempotencyToken="t-1"
    )["build"]
    assert again["id"] == first["id"]
    with pytest.raises(ClientError, match="Idempotency token was already used with different parameters"):
        codebuild.start_build(projectName="cb-idem-build", idempotencyToken="t-1")
    second = codebuild.start_build(projectName="cb-idem-build")["build"]
    assert (first["buildNumber"], second["buildNumber"]) == (1, 2)
    assert codebuild.list_builds_for_project(projectName="cb-idem-build")["ids"] == [second["id"], first["id"]]
    ascending = codebuild.list_builds_for_project(projectName="cb-idem-build", sortOrder="ASCENDING")["ids"]
    assert ascending == [first["id"], second["id"]]
    _wait(codebuild, first["id"])
    _wait(codebuild, second["id"])
    tags = {i["imageTags"][0] for i in aws_client("ecr").describe_images(repositoryName="cb-idem-repo")["imageDetails"]}
    assert tags == {"v9", "v1"}


@pytest.mark.parametrize(
    ("reason", "phases"),
    [
        (
            "INSTALL: Error while executing command: pip install. Reason: exit status 1",
            [("INSTALL", "FAILED"), ("FINALIZING", "SUCCEEDED"), ("COMPLETED", None)],
        ),
        (
            "the image did not build",
            [("BUILD", "FAILED"), ("POST_BUILD", "SUCCEEDED"), ("UPLOAD_ARTIFACTS", "SUCCEEDED")],
        ),
    ],
)
def test_a_failure_rule_fails_a_phase(stack: Any, codebuild: Any, control: Any, aws_client: Any, reason, phases) -> None:
    name = "cb-fail-install" if reason.startswith("INSTALL") else "cb-fail-build"
    stack(name)
    control.add_failure("build", match=f"{name}-repo:v1", reason=reason)
    build = _wait(codebuild, codebuild.start_build(projectName=f"{name}-build")["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    seen = _phases(build)
    assert all(phase in seen for phase in phases)
    failed = next(p for p in build["phases"] if p.get("phaseStatus") == "FAILED")
    assert failed["contexts"][0]["statusCode"] == "COMMAND_EXECUTION_ERROR"
    assert failed["contexts"][0]["message"] == reason.removeprefix("INSTALL: ")
    assert aws_client("ecr").describe_images(repositoryName=f"{name}-repo")["imageDetails"] == []
    # POST_BUILD runs after a failed BUILD (as in CodeBuild), not after a failed INSTALL.
    assert ("done v1" in _log(aws_client, build)) == (failed["phaseType"] == "BUILD")


def test_a_missing_zip_or_dockerfile_fails_like_codebuild(stack: Any, codebuild: Any, aws_client: Any) -> None:
    stack("cb-nodocker", dockerfile=False)
    build = _wait(codebuild, codebuild.start_build(projectName="cb-nodocker-build")["build"]["id"])
    failed = next(p for p in build["phases"] if p.get("phaseStatus") == "FAILED")
    assert failed["phaseType"] == "BUILD"
    assert failed["contexts"][0]["message"] == (
        'Error while executing command: docker build -t "$REPO_URI:$IMAGE_TAG" .. Reason: exit status 1'
    )
    assert "failed to read dockerfile: open Dockerfile: no such file or directory" in _log(aws_client, build)

    aws_client("s3").delete_object(Bucket="cb-sources", Key="cb-nodocker.zip")
    build = _wait(codebuild, codebuild.start_build(projectName="cb-nodocker-build")["build"]["id"])
    assert _phases(build)[3:] == [("DOWNLOAD_SOURCE", "FAILED"), ("FINALIZING", "SUCCEEDED"), ("COMPLETED", None)]
    assert build["phases"][3]["contexts"] == [
        {
            "statusCode": "CLIENT_ERROR",
            "message": "CLIENT_ERROR: NoSuchKey: The specified key does not exist. for primary source and source "
            "version arn:aws:s3:::cb-sources/cb-nodocker.zip",
        }
    ]


def test_stop_build(stack: Any, codebuild: Any, control: Any) -> None:
    stack("cb-stop")
    control.set_settings(job_seconds=5)
    build = codebuild.start_build(projectName="cb-stop-build")["build"]
    stopped = codebuild.stop_build(id=build["id"])["build"]
    assert stopped["buildStatus"] == "STOPPED" and stopped["currentPhase"] == "COMPLETED"
    assert _phases(stopped)[-3:] == [("SUBMITTED", "STOPPED"), ("FINALIZING", "SUCCEEDED"), ("COMPLETED", None)]
    assert codebuild.batch_get_builds(ids=[build["id"], "cb-stop-build:nope"])["buildsNotFound"] == [
        "cb-stop-build:nope"
    ]


def test_deleting_the_stack_deletes_the_project_and_a_non_empty_repository_only_when_asked(
    stack: Any, codebuild: Any, cloudformation: Any, aws_client: Any
) -> None:
    for name, empty_on_delete in (("cb-empty", "true"), ("cb-keep", "false")):
        stack(name, EmptyOnDelete=empty_on_delete)
        _wait(codebuild, codebuild.start_build(projectName=f"{name}-build")["build"]["id"])
        cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName="cb-empty", WaiterConfig=WAIT)
    with pytest.raises(ClientError, match="RepositoryNotFoundException"):
        aws_client("ecr").describe_repositories(repositoryNames=["cb-empty-repo"])
    assert codebuild.list_projects()["projects"] == ["cb-keep-build"] or "cb-empty-build" not in (
        codebuild.list_projects()["projects"]
    )
    with pytest.raises(Exception, match="DELETE_FAILED"):
        cloudformation.get_waiter("stack_delete_complete").wait(StackName="cb-keep", WaiterConfig=WAIT)
    events = cloudformation.describe_stack_events(StackName="cb-keep")["StackEvents"]
    reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "Repository"]
    assert any("cannot be deleted because it still contains images" in r for r in reasons)


def test_a_stack_update_changes_the_project_in_place(stack: Any, codebuild: Any, cloudformation: Any) -> None:
    outputs = stack("cb-update")
    cloudformation.update_stack(
        StackName="cb-update", TemplateBody=TEMPLATE, Parameters=[{"ParameterKey": "Tag", "ParameterValue": "v2"}]
    )
    cloudformation.get_waiter("stack_update_complete").wait(StackName="cb-update", WaiterConfig=WAIT)
    (project,) = codebuild.batch_get_projects(names=["cb-update-build"])["projects"]
    assert project["arn"] == outputs["ProjectArn"]
    assert {"name": "IMAGE_TAG", "value": "v2", "type": "PLAINTEXT"} in project["environment"]["environmentVariables"]


def test_projects_without_source_location(codebuild: Any) -> None:
    codebuild.create_project(
        name="cb-nosource",
        source={"type": "NO_SOURCE", "buildspec": "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole=ROLE,
    )
    build = _wait(codebuild, codebuild.start_build(projectName="cb-nosource")["build"]["id"])
    assert build["buildStatus"] == "SUCCEEDED"
    with pytest.raises(ClientError, match="Project source location is required"):
        codebuild.create_project(
            name="cb-s3-nolocation",
            source={"type": "S3"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={"type": "LINUX_CONTAINER", "image": "x", "computeType": "BUILD_GENERAL1_SMALL"},
            serviceRole=ROLE,
        )
