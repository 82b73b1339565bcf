"""Deferrable wait on a CodeBuild build, run by the triggerer so no worker slot is held."""

from __future__ import annotations

from mlops_orchestrator.hooks.codebuild import CodeBuildHook
from mlops_orchestrator.triggers.base import HookWaiterTrigger


class CodeBuildBuildCompleteTrigger(HookWaiterTrigger):
    """
    Fires when a build has ended: ``status`` success when it SUCCEEDED, error (with the status)
    when it FAILED, FAULTed, was STOPPED or TIMED_OUT. The event carries ``build_id``.

    :param build_id: the build's id (``project:uuid``).
    """

    aws_hook_class = CodeBuildHook

    def __init__(
        self,
        *,
        build_id: str,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 480,
        aws_conn_id: str | None = "aws_default",
        **kwargs,
    ):
        super().__init__(
            serialized_fields={"build_id": build_id},
            waiter_name="BuildComplete",
            waiter_args={"ids": [build_id]},
            failure_message=f"CodeBuild build {build_id} did not succeed",
            status_message="Build status",
            status_queries=["builds[0].buildStatus", "builds[0].currentPhase"],
            return_key="build_id",
            return_value=build_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            **kwargs,
        )
