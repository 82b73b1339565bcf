"""The CodeBuild hook's pure logic (markers, tokens, the messages users see) and our BuildComplete
waiter's acceptors, run by botocore against canned BatchGetBuilds answers (no AWS, no emulator)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import WaiterError
from botocore.stub import Stubber
from mlops_orchestrator.hooks.codebuild import (
    CodeBuildHook,
    environment_value,
    failure_message,
    idempotency_token,
    phase_lines,
    task_marker,
)
from mlops_orchestrator.links.codebuild import CodeBuildBuildConsoleLink

BUILD_ID = "proj:0b7c4e1e-1111-2222-3333-444455556666"

FAILED_BUILD = {
    "id": BUILD_ID,
    "projectName": "proj",
    "buildStatus": "FAILED",
    "currentPhase": "COMPLETED",
    "phases": [
        {"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED", "durationInSeconds": 0},
        {"phaseType": "PRE_BUILD", "phaseStatus": "SUCCEEDED", "durationInSeconds": 3,
         "contexts": [{"statusCode": "", "message": ""}]},
        {"phaseType": "BUILD", "phaseStatus": "FAILED", "durationInSeconds": 41,
         "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR",
                       "message": "Error while executing command: docker build -t x .. Reason: exit status 1"}]},
        {"phaseType": "COMPLETED"},
    ],
    "environment": {"environmentVariables": [{"name": "AIRFLOW_TASK_INSTANCE", "value": "d/r/t", "type": "PLAINTEXT"}]},
}


def test_marker_and_token():
    assert task_marker("images", "manual__2025", "build_image") == "images/manual__2025/build_image"
    assert task_marker("images", "r", "build_image", 3) == "images/r/build_image/3"
    first, retry = idempotency_token("d/r/t", 1), idempotency_token("d/r/t", 2)
    assert first != retry and first == idempotency_token("d/r/t", 1) and len(first) == 64
    assert environment_value(FAILED_BUILD, "AIRFLOW_TASK_INSTANCE") == "d/r/t"
    assert environment_value(FAILED_BUILD, "NOPE") is None


def test_failure_message_names_the_phase_and_codebuilds_message():
    assert failure_message(FAILED_BUILD) == (
        f"CodeBuild build {BUILD_ID} (project proj) ended FAILED: phase BUILD FAILED: COMMAND_EXECUTION_ERROR: "
        "Error while executing command: docker build -t x .. Reason: exit status 1"
    )
    stopped = {**FAILED_BUILD, "buildStatus": "STOPPED", "currentPhase": "BUILD", "phases": []}
    assert failure_message(stopped) == f"CodeBuild build {BUILD_ID} (project proj) ended STOPPED in phase BUILD."


def test_phase_lines():
    assert phase_lines(FAILED_BUILD) == [
        "SUBMITTED         SUCCEEDED     0 s",
        "PRE_BUILD         SUCCEEDED     3 s",
        "BUILD             FAILED       41 s  COMMAND_EXECUTION_ERROR: Error while executing command: docker build "
        "-t x .. Reason: exit status 1",
        "COMPLETED",
    ]


def _waiter_with(responses: list[dict]) -> tuple:
    client = boto3.client(
        "codebuild", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    for response in responses:
        stubber.add_response("batch_get_builds", response, {"ids": [BUILD_ID]})
    waiter = CodeBuildHook(aws_conn_id=None, region_name="us-east-1").get_waiter("BuildComplete", client=client)
    return waiter, stubber


def _answer(status: str, phase: str = "BUILD") -> dict:
    return {"builds": [{"id": BUILD_ID, "buildStatus": status, "currentPhase": phase}]}  # no buildsNotFound


def test_build_complete_waits_through_in_progress_until_succeeded():
    waiter, stubber = _waiter_with([_answer("IN_PROGRESS", "PROVISIONING"), _answer("IN_PROGRESS"), _answer("SUCCEEDED")])
    with stubber:
        waiter.wait(ids=[BUILD_ID], WaiterConfig={"Delay": 0, "MaxAttempts": 5})
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("status", ["FAILED", "FAULT", "STOPPED", "TIMED_OUT"])
def test_build_complete_fails_on_every_unsuccessful_end(status):
    waiter, stubber = _waiter_with([_answer("IN_PROGRESS"), _answer(status)])
    with stubber, pytest.raises(WaiterError, match="terminal failure state"):
        waiter.wait(ids=[BUILD_ID], WaiterConfig={"Delay": 0, "MaxAttempts": 5})


def test_build_complete_fails_for_an_unknown_build():
    waiter, stubber = _waiter_with([{"builds": [], "buildsNotFound": [BUILD_ID]}])
    with stubber, pytest.raises(WaiterError, match="terminal failure state"):
        waiter.wait(ids=[BUILD_ID], WaiterConfig={"Delay": 0, "MaxAttempts": 5})


def test_console_link_escapes_the_build_id():
    link = CodeBuildBuildConsoleLink().format_link(
        aws_domain="aws.amazon.com",
        region_name="eu-west-1",
        account_id="123456789012",
        project_name="proj",
        build_id=BUILD_ID,
    )
    assert link == (
        "https://console.aws.amazon.com/codesuite/codebuild/123456789012/projects/proj/build/"
        "proj%3A0b7c4e1e-1111-2222-3333-444455556666/?region=eu-west-1"
    )


def test_client_errors_are_not_named_twice():
    message = "CLIENT_ERROR: NoSuchKey: The specified key does not exist. for primary source and source version x"
    build = {
        "id": BUILD_ID,
        "projectName": "proj",
        "buildStatus": "FAILED",
        "phases": [
            {"phaseType": "DOWNLOAD_SOURCE", "phaseStatus": "FAILED", "durationInSeconds": 1,
             "contexts": [{"statusCode": "CLIENT_ERROR", "message": message}]}
        ],
    }
    assert failure_message(build).endswith(f"ended FAILED: phase DOWNLOAD_SOURCE FAILED: {message}")
    assert phase_lines(build) == [f"DOWNLOAD_SOURCE   FAILED        1 s  {message}"]
