"""
Model Monitor steps: baseline a dataset, schedule monitoring of an endpoint, report the results.

MWO fired its baselining job from a custom resource, so a failed baseline never failed the
pipeline and a re-posted request failed on "already exists". Here:

- ``BaselineJobOperator`` runs the baselining processing job (Model Monitor analyzer for data and
  model quality, SageMaker Clarify for bias and explainability) under a name derived from the DAG
  run, re-attaching on retry as ``BatchTransformOperator`` does, and fails with SageMaker's reason.
- ``MonitoringScheduleOperator`` creates the job definition and the schedule, or updates the
  schedule to a new definition when the monitoring changed: a re-run never fails on "exists".
- ``MonitoringResultsOperator`` reads the schedule's newest execution and its violations report
  (waiting, deferred, for one that is still running), logs a summary, and fails or warns on
  violations as the config asks.
- ``DeleteMonitoringScheduleOperator`` is the deprovision path: schedule and job definitions go.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.amazon.aws.utils.waiter_with_logging import wait
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from botocore.exceptions import ClientError

from mlops_orchestrator.hooks.sagemaker_monitoring import EXECUTION_RUNNING, ModelMonitorHook
from mlops_orchestrator.operators.job_per_run import OneJobPerRun
from mlops_orchestrator.operators.sagemaker_monitoring import (
    CLARIFY_TYPES,
    MONITORING_TYPES,
    baseline_job_name,
    clarify_baseline_request,
    clarify_image,
    job_definition_name,
    job_definition_request,
    model_monitor_baseline_request,
    model_monitor_image,
    schedule_config,
    violation_subject,
    violations_summary,
)
from mlops_orchestrator.operators.waiting import DeferOrPollMixin
from mlops_orchestrator.triggers.sagemaker_monitoring import MonitoringExecutionCompleteTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The most bytes read from the baseline dataset to find its header row.
_HEADER_BYTES = 64 * 1024


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _not_found(err: ClientError) -> bool:
    code = err.response.get("Error", {}).get("Code")
    message = str(err.response.get("Error", {}).get("Message", "")).lower()
    return code in ("ResourceNotFound", "ValidationException") and (
        "not found" in message or "could not find" in message or "does not exist" in message
    )


class BaselineJobOperator(OneJobPerRun, AwsBaseOperator[SageMakerHook]):
    """
    Run a monitor's baselining processing job, one per DAG run, and wait for it (deferrably).

    Data and model quality run the Model Monitor analyzer with ``environment`` (what the SDK's
    ``suggest_baseline`` sets); bias and explainability run Clarify with an analysis config built
    from ``clarify`` and the dataset's header row by the SageMaker SDK, uploaded next to the
    output with the monitoring jobs' own analysis config. Images are looked up at run time in
    the connection's region. The job's output goes to ``{output_location}/{job name}``.
    Starting, re-attaching on retry and waiting are ``OneJobPerRun``'s.

    :return: ``{"job_name", "output_uri", "constraints_uri", "statistics_uri",
        "analysis_config_uri"}`` (the last two None where the monitor has none): what the job
        definition needs.
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields("role_arn", "baseline_data_uri", "output_location")
    ui_color = "#e5dbff"
    label = "Baselining job"
    name_key = "ProcessingJobName"
    status_key = "ProcessingJobStatus"
    sagemaker_job_type = "Processing"
    rerun_hint = "trigger a new DAG run to baseline again"

    def __init__(
        self,
        *,
        pipeline_type: str,
        endpoint_name: str,
        role_arn: str,
        baseline_data_uri: str,
        output_location: str,
        instance_type: str,
        volume_size_gb: int,
        max_runtime_seconds: int | None = None,
        kms_key_arn: str | None = None,
        environment: dict[str, str] | None = None,
        clarify: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        deferrable: bool = True,
        check_interval: int = 30,
        max_attempts: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if pipeline_type not in MONITORING_TYPES:
            raise ValueError(f"not a monitor pipeline type: {pipeline_type!r}")
        if pipeline_type in CLARIFY_TYPES and not clarify:
            raise ValueError(f"{pipeline_type} baselines with Clarify: give clarify (clarify_spec(config))")
        self.pipeline_type = pipeline_type
        self.endpoint_name = endpoint_name
        self.role_arn = role_arn
        self.baseline_data_uri = baseline_data_uri
        self.output_location = output_location
        self.instance_type = instance_type
        self.volume_size_gb = volume_size_gb
        self.max_runtime_seconds = max_runtime_seconds
        self.kms_key_arn = kms_key_arn
        self.environment = environment or {}
        self.clarify = clarify
        self.tags = tags or {}
        self.deferrable = deferrable
        self.check_interval = check_interval
        self.requested_max_attempts = max_attempts

    @property
    def uses_clarify(self) -> bool:
        return self.pipeline_type in CLARIFY_TYPES

    # -- OneJobPerRun ----------------------------------------------------------------------------

    def run_job_name(self, dag_run: Any) -> str:
        return baseline_job_name(self.endpoint_name, self.pipeline_type, dag_run.dag_id, dag_run.run_id)

    def describe_job(self, job_name: str) -> dict[str, Any]:
        return self.hook.describe_processing_job(job_name)

    def create_job(self, request: dict[str, Any]) -> None:
        self.log.info("Baselining %s into %s", self.baseline_data_uri, request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"])
        self.hook.conn.create_processing_job(**request)

    def job_request(self, job_name: str, run_id: str) -> dict[str, Any]:
        output_uri = f"{self.output_location.rstrip('/')}/{job_name}"
        region = self.hook.conn_region_name
        common = {
            "job_name": job_name,
            "role_arn": self.role_arn,
            "baseline_data_uri": self.baseline_data_uri,
            "output_uri": output_uri,
            "instance_type": self.instance_type,
            "volume_size_gb": int(self.volume_size_gb),
            "max_runtime_seconds": self.max_runtime_seconds,
            "kms_key_arn": self.kms_key_arn or None,
        }
        if self.uses_clarify:
            request = clarify_baseline_request(
                image_uri=clarify_image(region),
                analysis_config_uri=self._upload_analysis_configs(output_uri),
                **common,
            )
        else:
            request = model_monitor_baseline_request(
                image_uri=model_monitor_image(region), environment=self.environment, **common
            )
        request["Tags"] = self.run_tags(run_id)
        return request

    def time_limit(self, job: dict[str, Any]) -> int | None:
        return (job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        job_name = job["ProcessingJobName"]
        outputs = job.get("ProcessingOutputConfig", {}).get("Outputs") or [{}]
        output_uri = outputs[0].get("S3Output", {}).get("S3Uri", "").rstrip("/")
        result = {
            "job_name": job_name,
            "output_uri": output_uri,
            "constraints_uri": f"{output_uri}/analysis.json" if self.uses_clarify else f"{output_uri}/constraints.json",
            "statistics_uri": None if self.uses_clarify else f"{output_uri}/statistics.json",
            "analysis_config_uri": self._monitoring_config_uri(output_uri) if self.uses_clarify else None,
        }
        missing = [uri for uri in (result["constraints_uri"], result["statistics_uri"]) if uri and not self._exists(uri)]
        if missing:
            raise AirflowFailException(
                f"Baselining job {job_name} completed but wrote no {', '.join(missing)}; "
                "check the baseline dataset (CSV with a header row) and the job's logs."
            )
        return result

    # -- Clarify's analysis configs and S3 -------------------------------------------------------

    def _upload_analysis_configs(self, output_uri: str) -> str:
        """Build both Clarify analysis configs from the dataset's header; upload; the baseline's URI."""
        from mlops_orchestrator.operators.clarify_analysis import (
            baseline_analysis_config,
            monitoring_analysis_config,
        )

        headers = self._dataset_headers()
        try:
            baseline = baseline_analysis_config(
                self.clarify, headers=headers, dataset_uri=self.baseline_data_uri, output_uri=output_uri
            )
            monitoring = monitoring_analysis_config(self.clarify, headers=headers)
        except (ValueError, TypeError) as err:
            raise AirflowFailException(f"Cannot build the Clarify analysis config: {err}") from err
        baseline_uri = f"{output_uri}/analysis_config.json"
        self._put_json(baseline_uri, baseline)
        self._put_json(self._monitoring_config_uri(output_uri), monitoring)
        self.log.info("Clarify analysis config: %s", json.dumps(baseline))
        return baseline_uri

    @staticmethod
    def _monitoring_config_uri(output_uri: str) -> str:
        return f"{output_uri}/monitoring/analysis_config.json"

    @property
    def _s3(self) -> Any:
        return S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify).conn

    def _put_json(self, uri: str, document: dict[str, Any]) -> None:
        bucket, key = _split_s3(uri)
        extra: dict[str, Any] = {}
        if self.kms_key_arn:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_arn}
        self._s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document, indent=2).encode(), **extra)

    def _dataset_headers(self) -> list[str]:
        """The column names in the first line of the baseline dataset (its first object under a prefix)."""
        bucket, key = _split_s3(self.baseline_data_uri)
        s3 = self._s3
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=10)
        objects = [item["Key"] for item in listing.get("Contents", []) if not item["Key"].endswith("/")]
        if not objects:
            raise AirflowFailException(f"The baseline dataset {self.baseline_data_uri} has no object to read.")
        body = s3.get_object(Bucket=bucket, Key=objects[0], Range=f"bytes=0-{_HEADER_BYTES - 1}")["Body"].read()
        first = body.decode("utf-8", errors="replace").splitlines()[0] if body else ""
        return [name.strip().strip('"') for name in first.split(",")] if first.strip() else []

    def _exists(self, uri: str) -> bool:
        bucket, key = _split_s3(uri)
        try:
            self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True


class MonitoringScheduleOperator(AwsBaseOperator[ModelMonitorHook]):
    """
    Create or update the monitoring schedule of an endpoint, with its job definition.

    The job definition is named by its content (``job_definition_name``): a re-run with the same
    monitoring finds its definition and leaves the schedule as it is; a changed config (or a new
    baseline) makes one new definition, the schedule is updated to it and the old one deleted.
    Waits (briefly, in the worker) until the schedule is ``Scheduled``.

    :param baseline: the baselining task's result (templated: an XCom).
    :param definition: ``job_definition_request`` arguments but role, image and baseline.
    :return: ``{"schedule_name", "schedule_arn", "job_definition_name", "status", "action"}`` with
        action created, updated or unchanged.
    """

    aws_hook_class = ModelMonitorHook
    template_fields: Sequence[str] = aws_template_fields("role_arn", "baseline")
    template_fields_renderers = {"baseline": "json", "definition": "json"}
    ui_color = "#e5dbff"
    #: How long a schedule may stay Pending before the task fails (seconds).
    schedule_ready_timeout = 300

    def __init__(
        self,
        *,
        pipeline_type: str,
        schedule_name: str,
        schedule_expression: str,
        role_arn: str,
        baseline: Any,
        definition: dict[str, Any],
        tags: dict[str, str] | None = None,
        poll_seconds: float = 5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pipeline_type = pipeline_type
        self.schedule_name = schedule_name
        self.schedule_expression = schedule_expression
        self.role_arn = role_arn
        self.baseline = baseline
        self.definition = definition
        self.tags = tags or {}
        self.poll_seconds = poll_seconds

    @property
    def kind(self) -> str:
        return MONITORING_TYPES[self.pipeline_type]

    def execute(self, context: Context) -> dict[str, Any]:
        baseline = self.baseline if isinstance(self.baseline, dict) else json.loads(self.baseline)
        region = self.hook.conn_region_name
        image = clarify_image(region) if self.pipeline_type in CLARIFY_TYPES else model_monitor_image(region)
        request = job_definition_request(
            self.pipeline_type,
            role_arn=self.role_arn,
            image_uri=image,
            baseline=baseline,
            tags=self.tags,
            **self.definition,
        )
        definition_name = job_definition_name(self.schedule_name, request)
        self._ensure_definition(definition_name, request)
        config = schedule_config(self.pipeline_type, definition_name, self.schedule_expression)
        existing = self._describe_schedule()
        if existing is None:
            self.log.info("Creating monitoring schedule %s (%s, %s)", self.schedule_name, self.kind, self.schedule_expression)
            tags = [{"Key": key, "Value": value} for key, value in sorted(self.tags.items())]
            self.hook.conn.create_monitoring_schedule(
                MonitoringScheduleName=self.schedule_name, MonitoringScheduleConfig=config, Tags=tags
            )
            action = "created"
        else:
            old = existing.get("MonitoringScheduleConfig", {})
            unchanged = (
                old.get("MonitoringJobDefinitionName") == definition_name
                and old.get("ScheduleConfig", {}).get("ScheduleExpression") == self.schedule_expression
            )
            if unchanged:
                self.log.info("Monitoring schedule %s is up to date (job definition %s).", self.schedule_name, definition_name)
                action = "unchanged"
            else:
                self._wait_until_ready()
                self.log.info(
                    "Updating monitoring schedule %s: job definition %s -> %s, %s",
                    self.schedule_name,
                    old.get("MonitoringJobDefinitionName"),
                    definition_name,
                    self.schedule_expression,
                )
                self.hook.conn.update_monitoring_schedule(
                    MonitoringScheduleName=self.schedule_name, MonitoringScheduleConfig=config
                )
                action = "updated"
                previous = old.get("MonitoringJobDefinitionName")
                if previous and previous != definition_name:
                    self._delete_definition(previous)
        if existing is not None and existing.get("MonitoringScheduleStatus") == "Stopped":
            self.log.info("Monitoring schedule %s was stopped; starting it again.", self.schedule_name)
            self._wait_until_ready()
            self.hook.conn.start_monitoring_schedule(MonitoringScheduleName=self.schedule_name)
        schedule = self._wait_until_ready()
        return {
            "schedule_name": self.schedule_name,
            "schedule_arn": schedule["MonitoringScheduleArn"],
            "job_definition_name": definition_name,
            "status": schedule["MonitoringScheduleStatus"],
            "action": action,
        }

    def _ensure_definition(self, name: str, request: dict[str, Any]) -> bool:
        """Create the job definition unless it exists (same name, same content); True when created."""
        try:
            getattr(self.hook.conn, f"describe_{_snake(self.kind)}_job_definition")(JobDefinitionName=name)
            self.log.info("Job definition %s exists (same monitoring as before).", name)
            return False
        except ClientError as err:
            if not _not_found(err):
                raise
        self.log.info("Creating %s job definition %s", self.kind, name)
        getattr(self.hook.conn, f"create_{_snake(self.kind)}_job_definition")(JobDefinitionName=name, **request)
        return True

    def _delete_definition(self, name: str) -> None:
        try:
            getattr(self.hook.conn, f"delete_{_snake(self.kind)}_job_definition")(JobDefinitionName=name)
            self.log.info("Deleted the previous job definition %s", name)
        except ClientError as err:  # still referenced or gone: harmless, said
            self.log.warning("Could not delete the previous job definition %s: %s", name, err)

    def _describe_schedule(self) -> dict[str, Any] | None:
        try:
            return self.hook.conn.describe_monitoring_schedule(MonitoringScheduleName=self.schedule_name)
        except ClientError as err:
            if _not_found(err):
                return None
            raise

    def _wait_until_ready(self) -> dict[str, Any]:
        """Wait (briefly, in the worker) until the schedule is no longer Pending; SageMaker refuses updates meanwhile."""
        try:
            wait(
                waiter=self.hook.get_waiter("MonitoringScheduleReady"),
                waiter_delay=self.poll_seconds,
                waiter_max_attempts=max(1, int(self.schedule_ready_timeout // max(self.poll_seconds, 0.1))),
                args={"MonitoringScheduleName": self.schedule_name},
                failure_message=f"Monitoring schedule {self.schedule_name} is not ready",
                status_message="Monitoring schedule status",
                status_args=["MonitoringScheduleStatus", "FailureReason"],
            )
        except AirflowException as err:
            schedule = self.hook.conn.describe_monitoring_schedule(MonitoringScheduleName=self.schedule_name)
            if schedule["MonitoringScheduleStatus"] == "Failed":
                raise AirflowFailException(
                    f"Monitoring schedule {self.schedule_name} failed: {schedule.get('FailureReason') or 'no reason given'}"
                ) from err
            raise
        return self.hook.conn.describe_monitoring_schedule(MonitoringScheduleName=self.schedule_name)


def _snake(kind: str) -> str:
    """DataQuality -> data_quality (boto3's method names)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in kind).lstrip("_")


class MonitoringResultsOperator(DeferOrPollMixin, AwsBaseOperator[ModelMonitorHook]):
    """
    Report the newest monitoring execution of a schedule and its violations.

    An execution still running is waited for (deferred); none yet (a new schedule runs at its
    next cron time) is reported as such. The summary (``violations_summary``) is logged and
    returned. Violations fail the task when ``fail_on_violations``, else they are a warning; a
    failed execution always fails it, with SageMaker's reason. Violations are sent to
    ``notifiers`` (Airflow notifiers, called with the context and the summary under
    ``notifications.messages.DETAILS_KEY``) before the task ends either way.
    """

    aws_hook_class = ModelMonitorHook
    template_fields: Sequence[str] = aws_template_fields("schedule_name")
    ui_color = "#e5dbff"

    def __init__(
        self,
        *,
        schedule_name: str,
        fail_on_violations: bool = False,
        notifiers: Sequence[Any] = (),
        deferrable: bool = True,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.schedule_name = schedule_name
        self.fail_on_violations = fail_on_violations
        self.notifiers = list(notifiers)
        self.deferrable = deferrable
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    def execute(self, context: Context) -> dict[str, Any]:
        execution = self.hook.latest_execution(self.schedule_name)
        if execution is not None and execution["MonitoringExecutionStatus"] in EXECUTION_RUNNING:
            self.log.info(
                "Execution of %s scheduled at %s is %s; waiting for it.",
                self.schedule_name,
                execution.get("ScheduledTime"),
                execution["MonitoringExecutionStatus"],
            )
            try:
                self.defer_or_poll(
                    MonitoringExecutionCompleteTrigger(schedule_name=self.schedule_name, **self.trigger_kwargs())
                )
            except AirflowException as err:
                self.log.info("Waiting for the execution ended: %s", err)
            execution = self.hook.latest_execution(self.schedule_name)
        return self._report(execution, context)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        if event.get("status") != "success":
            self.log.info("Waiting for the execution ended: %s", event.get("message"))
        return self._report(self.hook.latest_execution(self.schedule_name), context)

    def _report(self, execution: dict[str, Any] | None, context: Context) -> dict[str, Any]:
        if execution is None:
            summary = violations_summary(None, None)
            self.log.info(
                "Monitoring schedule %s has run no execution yet; its first runs at the next time of its "
                "schedule expression. Run this DAG again later to see its results.",
                self.schedule_name,
            )
            return summary
        violations, report_uri = self._violations(execution)
        summary = {**violations_summary(execution, violations), "report_uri": report_uri}
        self.log.info("Latest monitoring execution of %s: %s", self.schedule_name, json.dumps(summary))
        status = summary["status"]
        if status in EXECUTION_RUNNING:
            raise AirflowException(
                f"The latest execution of {self.schedule_name} is still {status}; a retry waits for it again."
            )
        if status in ("Failed", "Stopped"):
            raise AirflowFailException(
                f"The latest execution of monitoring schedule {self.schedule_name} ended {status}: "
                f"{summary['failure_reason'] or 'no FailureReason given'}"
            )
        if summary["violations"]:
            lines = [
                f"- {violation_subject(item)}: {item.get('constraint_check_type', '?')}: {item.get('description', '')}"
                for item in (violations or {}).get("violations", [])[:20]
            ]
            message = (
                f"Monitoring schedule {self.schedule_name} found {summary['violations']} violation(s) "
                f"({report_uri}):\n" + "\n".join(lines)
            )
            self._notify(context, summary, lines)
            if self.fail_on_violations:
                raise AirflowFailException(message)
            self.log.warning("%s\nfail_on_violations is false: reported, not failed.", message)
        return summary

    def _notify(self, context: Context, summary: dict[str, Any], lines: list[str]) -> None:
        from mlops_orchestrator.notifications.messages import DETAILS_KEY

        details = {**summary, "schedule": self.schedule_name, "violation_lines": lines}
        for notifier in self.notifiers:
            notifier({**context, DETAILS_KEY: details})

    def _violations(self, execution: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The execution's constraint_violations.json (from its processing job's output), if it wrote one."""
        arn = execution.get("ProcessingJobArn")
        if not arn:
            return None, None
        try:
            job = self.hook.describe_processing_job(arn.rsplit("/", 1)[-1])
        except ClientError as err:
            self.log.warning("Cannot read the execution's processing job %s: %s", arn, err)
            return None, None
        outputs = job.get("ProcessingOutputConfig", {}).get("Outputs") or []
        if not outputs:
            return None, None
        uri = f"{outputs[0]['S3Output']['S3Uri'].rstrip('/')}/constraint_violations.json"
        bucket, key = _split_s3(uri)
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify).conn
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError:
            return None, uri
        try:
            return json.loads(body), uri
        except ValueError:
            self.log.warning("%s is not JSON", uri)
            return None, uri


class DeleteMonitoringScheduleOperator(AwsBaseOperator[SageMakerHook]):
    """
    Delete a monitor's schedule and every job definition made for it (the deprovision path).

    A missing schedule is not an error (nothing to deprovision). Job definitions are found by
    the schedule's name prefix and confirmed by ``tags`` so another pipeline's are never touched.
    Reports already written to S3 are kept.

    :return: ``{"schedule_deleted": bool, "job_definitions_deleted": [...]}``
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields("schedule_name")
    ui_color = "#ffc9c9"

    def __init__(self, *, pipeline_type: str, schedule_name: str, tags: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.pipeline_type = pipeline_type
        self.schedule_name = schedule_name
        self.tags = tags

    def execute(self, context: Context) -> dict[str, Any]:
        conn = self.hook.conn
        deleted = False
        try:
            conn.delete_monitoring_schedule(MonitoringScheduleName=self.schedule_name)
            deleted = True
            self.log.info("Deleted monitoring schedule %s", self.schedule_name)
        except ClientError as err:
            if not _not_found(err):
                raise
            self.log.info("Monitoring schedule %s does not exist.", self.schedule_name)
        kind = _snake(MONITORING_TYPES[self.pipeline_type])
        definitions = getattr(conn, f"list_{kind}_job_definitions")(NameContains=self.schedule_name[:54])
        removed = []
        for summary in definitions.get("JobDefinitionSummaries", []):
            name = summary["MonitoringJobDefinitionName"]
            arn = summary.get("MonitoringJobDefinitionArn")
            if arn:
                found = {tag["Key"]: tag["Value"] for tag in conn.list_tags(ResourceArn=arn).get("Tags", [])}
                if any(found.get(key) != value for key, value in self.tags.items()):
                    continue
            try:
                getattr(conn, f"delete_{kind}_job_definition")(JobDefinitionName=name)
            except ClientError as err:
                self.log.warning("Could not delete job definition %s: %s", name, err)
                continue
            removed.append(name)
        self.log.info("Deleted job definitions: %s", ", ".join(removed) or "none")
        return {"schedule_deleted": deleted, "job_definitions_deleted": removed}
