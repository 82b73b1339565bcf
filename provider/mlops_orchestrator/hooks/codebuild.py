"""AWS CodeBuild: start a build (or find the one a task already started), read how it went.

The Amazon provider has no CodeBuild hook, operator or waiter (boto3 has no CodeBuild waiter
either), so the image builder pipeline brings its own, laid out like the provider's: this hook on
``AwsBaseHook`` with ``client_type="codebuild"``, the ``BuildComplete`` waiter in
``waiters/codebuild.json``, a trigger on that waiter, and an operator. The functions at the
bottom are pure (a build description in, text out) so the messages users see are unit-tested.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

#: Build statuses from which a build never moves again.
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"})
#: Phase statuses that mean the phase went wrong.
FAILED_PHASE_STATUSES = frozenset({"FAILED", "FAULT", "TIMED_OUT", "CLIENT_ERROR", "STOPPED"})
#: Environment variable a build started by a task carries, naming that task instance.
TASK_MARKER_VARIABLE = "AIRFLOW_TASK_INSTANCE"
#: How many of a project's most recent builds are searched for one to re-attach to.
REATTACH_SEARCH_DEPTH = 100


class CodeBuildHook(AwsBaseHook):
    """
    Interact with AWS CodeBuild, with our ``BuildComplete`` waiter (``waiters/codebuild.json``).

    Additional arguments (such as ``aws_conn_id``) may be specified and are passed down to the
    underlying AwsBaseHook.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "codebuild"
        super().__init__(*args, **kwargs)

    @cached_property
    def waiter_path(self) -> Path:
        return Path(__file__).resolve().parents[1] / "waiters" / "codebuild.json"

    def start_build(
        self,
        project_name: str,
        *,
        environment_variables: dict[str, str] | None = None,
        idempotency_token: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """StartBuild; ``environment_variables`` become PLAINTEXT overrides. Returns the build."""
        request: dict[str, Any] = {"projectName": project_name, **overrides}
        if environment_variables:
            request["environmentVariablesOverride"] = [
                {"name": name, "value": str(value), "type": "PLAINTEXT"}
                for name, value in environment_variables.items()
            ]
        if idempotency_token:
            request["idempotencyToken"] = idempotency_token
        return self.conn.start_build(**request)["build"]

    def get_build(self, build_id: str) -> dict[str, Any]:
        """The build's description (BatchGetBuilds); KeyError when CodeBuild does not know it."""
        response = self.conn.batch_get_builds(ids=[build_id])
        if not response.get("builds"):
            raise KeyError(f"CodeBuild has no build {build_id}")
        return response["builds"][0]

    def find_build(
        self,
        project_name: str,
        marker: str,
        *,
        statuses: frozenset[str] | set[str] = frozenset({"IN_PROGRESS"}),
        depth: int = REATTACH_SEARCH_DEPTH,
    ) -> dict[str, Any] | None:
        """
        The newest of the project's last ``depth`` builds whose ``AIRFLOW_TASK_INSTANCE`` variable is
        ``marker`` and whose status is one of ``statuses``, or None.

        CodeBuild builds cannot be tagged and StartBuild's idempotency token lasts 5 minutes, so a
        task finds the build it started before (its previous try) by the variable it set on it.
        """
        ids = self.conn.list_builds_for_project(projectName=project_name, sortOrder="DESCENDING")["ids"]
        ids = ids[:depth]
        for start in range(0, len(ids), 100):
            for build in self.conn.batch_get_builds(ids=ids[start : start + 100]).get("builds", []):
                if build.get("buildStatus") in statuses and environment_value(build, TASK_MARKER_VARIABLE) == marker:
                    return build
        return None

    def log_tail(self, build: dict[str, Any], lines: int = 50) -> list[str]:
        """The last ``lines`` lines of the build's CloudWatch log ([] when it has none yet)."""
        logs = build.get("logs") or {}
        group, stream = logs.get("groupName"), logs.get("streamName")
        if not group or not stream or lines <= 0:
            return []
        from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook

        client = AwsLogsHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.config
        ).conn
        try:
            events = client.get_log_events(
                logGroupName=group, logStreamName=stream, startFromHead=False, limit=lines
            )["events"]
        except client.exceptions.ResourceNotFoundException:
            return []
        return [event["message"].rstrip("\n") for event in events]


# --- pure helpers ----------------------------------------------------------------------------------


def environment_value(build: dict[str, Any], name: str) -> str | None:
    """The value of one of the build's environment variables (None when it has none of that name)."""
    for variable in (build.get("environment") or {}).get("environmentVariables") or []:
        if variable.get("name") == name:
            return variable.get("value")
    return None


def task_marker(dag_id: str, run_id: str, task_id: str, map_index: int | None = -1) -> str:
    """What names a task instance on the builds it starts (the same for every try of it)."""
    marker = f"{dag_id}/{run_id}/{task_id}"
    return marker if map_index in (None, -1) else f"{marker}/{map_index}"


def idempotency_token(marker: str, try_number: int) -> str:
    """
    StartBuild's token for one try: a client-side retry of the same request never starts a
    second build, while the next try of the task (after a failed build) gets a new one.
    """
    return hashlib.sha256(f"{marker}#{try_number}".encode()).hexdigest()


def phase_lines(build: dict[str, Any]) -> list[str]:
    """One line per phase, e.g. ``BUILD              FAILED     12 s  COMMAND_EXECUTION_ERROR: ...``."""
    lines = []
    for phase in build.get("phases") or []:
        status = phase.get("phaseStatus") or ("IN_PROGRESS" if phase.get("phaseType") != "COMPLETED" else "")
        duration = phase.get("durationInSeconds")
        took = f"{duration:>4} s" if duration is not None else "      "
        details = "; ".join(_context_text(c) for c in phase.get("contexts") or [] if c.get("message"))
        lines.append(f"{phase.get('phaseType', '?'):<17} {status:<11}{took}  {details}".rstrip())
    return lines


def failed_phases(build: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in build.get("phases") or [] if p.get("phaseStatus") in FAILED_PHASE_STATUSES]


def failure_message(build: dict[str, Any]) -> str:
    """
    Why a build did not succeed, naming the failed phase and CodeBuild's message, e.g.
    ``CodeBuild build p:1 (project p) ended FAILED: phase BUILD FAILED: COMMAND_EXECUTION_ERROR:
    Error while executing command: docker build ... Reason: exit status 1``.
    """
    status = build.get("buildStatus", "UNKNOWN")
    head = f"CodeBuild build {build.get('id')} (project {build.get('projectName')}) ended {status}"
    failed = failed_phases(build)
    if not failed:
        return f"{head} in phase {build.get('currentPhase', '?')}."
    parts = []
    for phase in failed:
        contexts = [c for c in phase.get("contexts") or [] if c.get("message") or c.get("statusCode")]
        reason = "; ".join(_context_text(c) for c in contexts)
        parts.append(f"phase {phase.get('phaseType')} {phase.get('phaseStatus')}" + (f": {reason}" if reason else ""))
    return f"{head}: " + "; ".join(parts)


def _context_text(context: dict[str, Any]) -> str:
    """``STATUS_CODE: message`` (CodeBuild's CLIENT_ERROR messages already start with their code)."""
    code, message = context.get("statusCode") or "", context.get("message") or ""
    if not code or message.startswith(code):
        return message
    return f"{code}: {message}" if message else code
