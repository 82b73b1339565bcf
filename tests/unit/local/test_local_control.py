"""The emulator's control API over HTTP, its settings from the environment, and its server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest
from mlops_orchestrator.local import (
    FailureRule,
    LocalAws,
    LocalAwsControl,
    LocalAwsControlError,
    LocalAwsSettings,
)


def _http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_settings_over_http(local_aws: LocalAws, control: LocalAwsControl) -> None:
    url = f"{local_aws.endpoint_url}/_mlops_local/settings"

    assert _http("POST", url, {"endpoint_seconds": 1.5, "stack_seconds": "0.25"}) == (
        200,
        {"endpoint_seconds": 1.5, "stack_seconds": 0.25, "job_seconds": 0.5, "schedule_seconds": 60.0},
    )
    assert _http("GET", url) == (
        200,
        {"endpoint_seconds": 1.5, "stack_seconds": 0.25, "job_seconds": 0.5, "schedule_seconds": 60.0},
    )
    assert control.get_settings() == LocalAwsSettings(
        endpoint_seconds=1.5, stack_seconds=0.25, job_seconds=0.5
    )
    assert _http("POST", url, {"endpoint_second": 1}) == (
        400,
        {
            "error": "unknown setting 'endpoint_second'; known settings: endpoint_seconds, stack_seconds, "
            "job_seconds, schedule_seconds"
        },
    )
    assert _http("POST", url, {"stack_seconds": -1}) == (
        400,
        {"error": "stack_seconds must be a number of seconds >= 0, got -1"},
    )
    assert _http("POST", url, b"{not json")[0] == 400
    with pytest.raises(
        LocalAwsControlError, match="job_seconds must be a number of seconds >= 0, got 'soon'"
    ):
        control.set_settings(job_seconds="soon")


def test_failure_rules_over_http(local_aws: LocalAws, control: LocalAwsControl) -> None:
    url = f"{local_aws.endpoint_url}/_mlops_local/failures"

    status, rule = _http("POST", url, {"kind": "endpoint", "match": "churn", "reason": "OOM", "times": 2})
    assert (status, rule) == (201, {"kind": "endpoint", "match": "churn", "reason": "OOM", "times": 2})
    assert control.add_failure("endpoint", "fraud", "Ping failed") == FailureRule(
        "endpoint", "fraud", "Ping failed"
    )
    assert [r.match for r in control.list_failures()] == ["churn", "fraud"]
    assert _http("GET", url)[1][1]["reason"] == "Ping failed"

    status, body = _http("POST", url, {"kind": "endpont", "match": "x", "reason": "y"})
    assert status == 400
    # every installed extension's kinds are listed (endpoint, transform_job, ...)
    assert body["error"].startswith("unknown failure kind 'endpont'; known kinds: ")
    assert {"endpoint", "transform_job"} <= set(body["error"].rpartition(": ")[2].split(", "))
    assert _http("POST", url, {"kind": "endpoint", "reason": "y"}) == (
        400,
        {"error": "failure rule is missing match"},
    )
    assert _http("POST", url, {"kind": "endpoint", "match": "x", "reason": "y", "times": 0})[1] == {
        "error": "times must be a positive integer or null, got 0"
    }

    assert _http("DELETE", url) == (200, {"failures": []})
    assert control.list_failures() == []


def test_reset_clears_moto_and_emulator_state(
    local_aws: LocalAws, control: LocalAwsControl, sagemaker: Any
) -> None:
    sagemaker.create_model(ModelName="kept-until-reset", ExecutionRoleArn="arn:aws:iam::123456789012:role/r")
    control.add_failure("endpoint", "x", "y")
    control.set_settings(endpoint_seconds=9)

    control.reset()

    assert sagemaker.list_models()["Models"] == []
    assert control.list_failures() == []
    assert control.get_settings().endpoint_seconds == 0.5  # what the server started with


def test_control_paths_never_reach_moto(local_aws: LocalAws, control: LocalAwsControl) -> None:
    base = f"{local_aws.endpoint_url}/_mlops_local"

    status, info = _http("GET", f"{base}/")
    assert status == 200
    assert (info["endpoint_url"], info["region"], info["account_id"]) == (
        local_aws.endpoint_url,
        "us-east-1",
        "123456789012",
    )
    assert _http("GET", f"{base}/nothing") == (
        404,
        {"error": "no such control endpoint: /_mlops_local/nothing; see /_mlops_local/"},
    )
    assert _http("GET", f"{base}/reset") == (
        405,
        {"error": "GET is not allowed on /_mlops_local/reset; use POST"},
    )


def test_control_client_reports_an_unreachable_emulator() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LocalAwsControlError, match="the emulator is not reachable"):
        LocalAwsControl(f"http://127.0.0.1:{port}", timeout=2).get_settings()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_LOCAL_ENDPOINT_SECONDS", "0.75")
    monkeypatch.setenv("MLOPS_LOCAL_STACK_SECONDS", "4")
    monkeypatch.delenv("MLOPS_LOCAL_JOB_SECONDS", raising=False)

    with LocalAws(port=0) as aws:
        settings = LocalAwsControl(aws.endpoint_url).get_settings()

    assert settings == LocalAwsSettings(endpoint_seconds=0.75, stack_seconds=4, job_seconds=3)


def test_bad_environment_setting_names_the_variable() -> None:
    with pytest.raises(
        ValueError, match="MLOPS_LOCAL_JOB_SECONDS must be a number of seconds >= 0, got 'fast'"
    ):
        LocalAwsSettings.from_env({"MLOPS_LOCAL_JOB_SECONDS": "fast"})


def test_port_in_use_is_an_error_not_a_hang() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot serve the local AWS emulator on 127.0.0.1:{port}"):
            LocalAws(port=port).start()


def test_local_aws_command_serves_until_sigterm() -> None:
    """``run_local_aws`` (what ``mlops-orchestrator local-aws`` calls) in another process."""
    code = "import sys; from mlops_orchestrator.local import run_local_aws; sys.exit(run_local_aws(port=0))"
    env = {**os.environ, "MLOPS_LOCAL_ENDPOINT_SECONDS": "0.1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Local AWS emulator listening on http://127.0.0.1:")
        endpoint_url = first_line.split()[-1]
        assert LocalAwsControl(endpoint_url).get_settings().endpoint_seconds == 0.1
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.rstrip().endswith("Local AWS emulator stopped.")
