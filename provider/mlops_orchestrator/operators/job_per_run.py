"""
One job per DAG run: start it unless it exists, wait for it deferrably, re-attach on retry.

SageMaker jobs (training, tuning, Autopilot, processing) are paid and long; a retried task must
never start a second one for the same DAG run. The run's job has a name derived from the run, so
every try of the task addresses it: a job still running is waited for again, a Completed one
gives its result, a Failed or Stopped one fails the task with SageMaker's ``FailureReason``
without retrying (a retry could only find the same job). The wait is deferred to a waiter
trigger (no worker slot held) or, when not deferrable, polls the same waiter in the worker.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from botocore.exceptions import ClientError

from mlops_orchestrator.operators.waiting import DeferOrPollMixin

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink
    from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
    from airflow.sdk import Context

__all__ = ["DEFAULT_WAIT_SECONDS", "ENDED_BADLY", "RUNNING", "WAIT_MARGIN_SECONDS", "OneJobPerRun", "already_exists"]

#: Statuses of a job that is still working.
RUNNING = frozenset({"InProgress", "Stopping"})
#: Statuses of a job that ended without a result worth using.
ENDED_BADLY = frozenset({"Failed", "Stopped"})
#: Added to a job's own time limit to get how long to wait for it (queueing, uploads).
WAIT_MARGIN_SECONDS = 3600
#: How long to wait when a job's description gives no limit.
DEFAULT_WAIT_SECONDS = 2 * 86400


def already_exists(err: ClientError) -> bool:
    """A create refused because the job exists (SageMaker says ResourceInUse or "already exists")."""
    error = err.response.get("Error", {})
    return error.get("Code") == "ResourceInUse" or "already exists" in str(error.get("Message", ""))


class OneJobPerRun(DeferOrPollMixin):
    """
    Start this DAG run's job unless it exists, then wait (deferred or polling) and return its
    ``result``. Subclasses say how the run's job is named, described, created, waited for and read.
    """

    label: ClassVar[str]
    name_key: ClassVar[str]
    status_key: ClassVar[str]
    link: ClassVar[type[BaseAwsLink] | None] = None
    #: the job type of the provider's ``SageMakerTrigger`` (Training, Tuning, Transform, Processing)
    sagemaker_job_type: ClassVar[str | None] = None
    #: what the user does to run the job again (a retry never does)
    rerun_hint: ClassVar[str] = "trigger a new DAG run to run it again"

    tags: dict[str, str]
    check_interval: int
    deferrable: bool
    requested_max_attempts: int | None

    # -- to implement ---------------------------------------------------------------------------

    def run_job_name(self, dag_run: Any) -> str:
        """The name of this DAG run's job: the same for every try of the task in the run."""
        raise NotImplementedError

    def describe_job(self, job_name: str) -> dict[str, Any]:
        raise NotImplementedError

    def create_job(self, request: dict[str, Any]) -> None:
        raise NotImplementedError

    def job_request(self, job_name: str, run_id: str) -> dict[str, Any]:
        """The full create request of this run's job (name, image, role, tags set)."""
        raise NotImplementedError

    def wait_trigger(self, job_name: str, max_attempts: int) -> AwsBaseWaiterTrigger:
        """The provider's ``SageMakerTrigger`` for ``sagemaker_job_type``; kinds it lacks override this."""
        if self.sagemaker_job_type is None:
            raise NotImplementedError
        return SageMakerTrigger(
            job_name=job_name, job_type=self.sagemaker_job_type, **{**self.trigger_kwargs(), "waiter_max_attempts": max_attempts}
        )

    def time_limit(self, job: dict[str, Any]) -> int | None:
        """The job's own time limit in seconds (from its description), if it has one."""
        raise NotImplementedError

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def result_summary(self, result: dict[str, Any]) -> str:
        """One line for the log about a completed job's result."""
        return json.dumps(result, default=str)

    def persist_link(self, context: Context, job_name: str) -> None:
        if self.link is None:
            return
        self.link.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            job_name=urllib.parse.quote(job_name, safe=""),
        )

    # -- the flow ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        dag_run = context["dag_run"]
        job_name = self.run_job_name(dag_run)
        self.persist_link(context, job_name)
        job = self._describe(job_name)
        if job is None:
            request = self.job_request(job_name, dag_run.run_id)
            self.log.info("Starting %s %s.", self.label.lower(), job_name)
            try:
                self.create_job(request)
            except ClientError as err:
                if not already_exists(err):
                    raise
                self.log.info("%s %s was started meanwhile; attaching to it.", self.label, job_name)
            job = self._describe(job_name)
            if job is None:
                raise AirflowException(f"{self.label} {job_name} was created but cannot be described.")
        else:
            self.log.info(
                "%s %s of this DAG run already exists (%s): attaching to it instead of starting another.",
                self.label,
                job_name,
                job[self.status_key],
            )
        return self._wait_or_finish(job)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        job_name = event["job_name"]
        job = self._describe(job_name)
        if job is None:
            raise AirflowException(f"{self.label} {job_name} no longer exists: {event.get('message', '')}")
        return self._finish(job, event.get("message"))

    def _describe(self, job_name: str) -> dict[str, Any] | None:
        try:
            return self.describe_job(job_name)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in ("ValidationException", "ResourceNotFound"):
                return None  # SageMaker's "Requested resource not found" / "Could not find job"
            raise

    def _max_attempts(self, job: dict[str, Any]) -> int:
        if self.requested_max_attempts:
            return self.requested_max_attempts
        limit = self.time_limit(job)
        budget = limit + WAIT_MARGIN_SECONDS if limit else DEFAULT_WAIT_SECONDS
        return max(60, budget // max(self.check_interval, 1) + 1)

    def _wait_or_finish(self, job: dict[str, Any]) -> dict[str, Any]:
        """Defer (or poll) while the job runs; otherwise its result or its failure."""
        if job[self.status_key] not in RUNNING:
            return self._finish(job)
        job_name = job[self.name_key]
        self.waiter_delay = self.check_interval
        self.waiter_max_attempts = self._max_attempts(job)
        try:
            self.wait(self.wait_trigger(job_name, self.waiter_max_attempts))
        except AirflowException as err:  # the job failed, or the wait gave up: the description says which
            self.log.info("Waiting for %s %s ended: %s", self.label.lower(), job_name, err)
        return self._finish(self.describe_job(job_name))

    def wait(self, trigger: AwsBaseWaiterTrigger) -> None:
        """Defer to the trigger, or poll its waiter here (the training operator also tails the log)."""
        self.defer_or_poll(trigger)

    def _finish(self, job: dict[str, Any], wait_message: str | None = None) -> dict[str, Any]:
        job_name = job[self.name_key]
        status = job[self.status_key]
        if status == "Completed":
            result = self.result(job)
            self.log.info("%s %s completed: %s", self.label, job_name, self.result_summary(result))
            return result
        if status in ENDED_BADLY:
            reason = job.get("FailureReason") or wait_message or "no FailureReason given"
            # Not retried: a retry would find this same job, and must not start a second one.
            raise AirflowFailException(
                f"{self.label} {job_name} ended {status}: {reason}\n"
                f"The job of this DAG run is not started again on retry; {self.rerun_hint}."
            )
        raise AirflowException(
            f"{self.label} {job_name} is still {status} after waiting ({wait_message or 'wait ended'}); "
            "a retry of this task waits for the same job again."
        )

    def run_tags(self, run_id: str) -> list[dict[str, str]]:
        tags = {**(self.tags or {}), "mlops-orchestrator:run-id": run_id[:256]}
        return [{"Key": key, "Value": str(value)} for key, value in tags.items()]
