"""Run a CodeBuild build from a DAG and wait for it deferrably (the Amazon provider has no operator)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException

from mlops_orchestrator.hooks.codebuild import (
    TASK_MARKER_VARIABLE,
    TERMINAL_STATUSES,
    CodeBuildHook,
    failure_message,
    idempotency_token,
    phase_lines,
    task_marker,
)
from mlops_orchestrator.links.codebuild import CodeBuildBuildConsoleLink
from mlops_orchestrator.operators.waiting import DeferOrPollMixin
from mlops_orchestrator.triggers.codebuild import CodeBuildBuildCompleteTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class CodeBuildStartBuildOperator(DeferOrPollMixin, AwsBaseOperator[CodeBuildHook]):
    """
    Start a build of a CodeBuild project and wait until it has ended (deferrably by default).

    **A retry re-attaches.** A retried task whose build is still running waits for that build
    instead of starting a second one. CodeBuild builds cannot be tagged, and StartBuild's
    ``idempotencyToken`` is remembered for only 5 minutes (less than a retry delay plus a build),
    so every build this operator starts carries the environment variable
    ``AIRFLOW_TASK_INSTANCE=dag_id/run_id/task_id``, and a new try first looks through the
    project's most recent builds for one still in progress with that value. A build that has
    ended is never re-attached to: a retry, or a cleared task, builds again. The token (one per
    try) still makes a client-side retry of the StartBuild call itself harmless.

    When the build has ended, its phases and the end of its CloudWatch log are written to the
    task log; a build that did not succeed fails the task with the failed phase and CodeBuild's
    message (e.g. ``phase BUILD FAILED: COMMAND_EXECUTION_ERROR: Error while executing command:
    docker build ...``).

    :param project_name: the CodeBuild project (name or ARN).
    :param environment_variables: PLAINTEXT environment variables overriding the project's.
    :param source_location_override: e.g. another ``bucket/key.zip`` for an S3 source.
    :param buildspec_override: a buildspec (YAML text) instead of the project's.
    :param reattach: look for this task instance's running build before starting one (default True).
    :param log_lines: how many of the last log lines to copy into the task log (default 50).
    :param deferrable: wait in the triggerer rather than in a worker slot (default True).
    :param waiter_delay: seconds between polls (default 30).
    :param waiter_max_attempts: polls before giving up (default 480: 4 hours at 30 s).
    :return: ``build_id``, ``build_arn``, ``build_number``, ``project_name``, ``status``,
        ``log_group``, ``log_stream``, ``environment`` (the build's variables) and ``action``
        (``start`` or ``attach``).
    """

    aws_hook_class = CodeBuildHook
    template_fields: Sequence[str] = aws_template_fields(
        "project_name", "environment_variables", "source_location_override", "buildspec_override"
    )
    template_fields_renderers = {"environment_variables": "json", "buildspec_override": "yaml"}
    operator_extra_links = (CodeBuildBuildConsoleLink(),)
    ui_color = "#e6fcf5"

    def __init__(
        self,
        *,
        project_name: str,
        environment_variables: dict[str, str] | None = None,
        source_location_override: str | None = None,
        buildspec_override: str | None = None,
        reattach: bool = True,
        log_lines: int = 50,
        deferrable: bool = True,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 480,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.project_name = project_name
        self.environment_variables = environment_variables or {}
        self.source_location_override = source_location_override
        self.buildspec_override = buildspec_override
        self.reattach = reattach
        self.log_lines = log_lines
        self.deferrable = deferrable
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        marker = task_marker(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))
        build = self.hook.find_build(self.project_name, marker) if self.reattach else None
        if build is not None:
            action = "attach"
            self.log.info(
                "Build %s of this task instance is still %s (phase %s): waiting for it instead of starting "
                "another.",
                build["id"],
                build["buildStatus"],
                build.get("currentPhase"),
            )
        else:
            action = "start"
            overrides = {
                key: value
                for key, value in (
                    ("sourceLocationOverride", self.source_location_override),
                    ("buildspecOverride", self.buildspec_override),
                )
                if value
            }
            build = self.hook.start_build(
                self.project_name,
                environment_variables={**self.environment_variables, TASK_MARKER_VARIABLE: marker},
                idempotency_token=idempotency_token(marker, getattr(ti, "try_number", 1)),
                **overrides,
            )
            self.log.info("Started build %s (number %s) of %s", build["id"], build.get("buildNumber"), self.project_name)
        ti.xcom_push(key="build_action", value=action)
        self._persist_link(context, build)
        if build.get("buildStatus") not in TERMINAL_STATUSES:
            self._wait_for(build["id"])
        return self._complete(build["id"], action)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        action = context["ti"].xcom_pull(task_ids=self.task_id, key="build_action") or "start"
        return self._complete(event["build_id"], action, waiter_message=event.get("message"))

    def _wait_for(self, build_id: str) -> None:
        """Defer to the trigger (default), or poll the same waiter in this worker."""
        try:
            self.defer_or_poll(CodeBuildBuildCompleteTrigger(build_id=build_id, **self.trigger_kwargs()))
        except AirflowException:
            if self.hook.get_build(build_id).get("buildStatus") not in TERMINAL_STATUSES:
                raise  # gave up waiting: the build goes on
            # ended without success: _complete explains it

    def _complete(self, build_id: str, action: str, waiter_message: str | None = None) -> dict[str, Any]:
        """Log the phases and the end of the log; fail with the failed phase, or return the build."""
        build = self.hook.get_build(build_id)
        status = build.get("buildStatus")
        if status not in TERMINAL_STATUSES:
            raise AirflowException(
                f"Stopped waiting for CodeBuild build {build_id}: it is still {status} "
                f"(phase {build.get('currentPhase')}). {waiter_message or ''}".rstrip()
            )
        self.log.info("Build %s ended %s. Phases:\n%s", build_id, status, "\n".join(phase_lines(build)))
        tail = self.hook.log_tail(build, self.log_lines)
        if tail:
            logs = build.get("logs") or {}
            self.log.info(
                "Last %d lines of the build log (%s %s):\n%s",
                len(tail),
                logs.get("groupName"),
                logs.get("streamName"),
                "\n".join(tail),
            )
        if status != "SUCCEEDED":
            raise AirflowException(failure_message(build))
        logs = build.get("logs") or {}
        return {
            "build_id": build_id,
            "build_arn": build.get("arn"),
            "build_number": build.get("buildNumber"),
            "project_name": build.get("projectName"),
            "status": status,
            "log_group": logs.get("groupName"),
            "log_stream": logs.get("streamName"),
            "environment": {
                v["name"]: v.get("value")
                for v in (build.get("environment") or {}).get("environmentVariables") or []
                if v.get("type", "PLAINTEXT") == "PLAINTEXT"
            },
            "action": action,
        }

    def _persist_link(self, context: Context, build: dict[str, Any]) -> None:
        arn = build.get("arn") or ""
        CodeBuildBuildConsoleLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            account_id=arn.split(":")[4] if arn.count(":") >= 5 else "",
            project_name=build.get("projectName") or self.project_name,
            build_id=build["id"],
        )
