"""SageMaker steps the Amazon provider has no operator for, or whose operator must behave differently."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.links.sagemaker import SageMakerTransformJobLink
from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTransformOperator, serialize
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from botocore.exceptions import ClientError

from mlops_orchestrator.model_source import ModelResolver
from mlops_orchestrator.operators.flat_aws import NOTSET, ArgNotSet, FlatAwsOperator
from mlops_orchestrator.operators.job_per_run import OneJobPerRun
from mlops_orchestrator.operators.stop_jobs import StopPipelineJobsOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class ResolveModelOperator(FlatAwsOperator[SageMakerHook]):
    """
    Work out, at run time, which images and artifacts a model deployment uses, as a task of its own.

    The pipelines' deploy stack operators do this themselves (their ``model_source``), which saves
    a task process per deployment; this operator is for DAGs of your own that want the parameters
    in XCom before anything deploys. What it resolves, and why: see model_source.py.

    :param base_parameters: the stack parameters known at parse time.
    :param image_region: the region the model is deployed in, whose built-in image is looked up
        (default: the connection's).
    :return: ``base_parameters`` plus the model's (``ModelResolver.parameters``).
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields(
        "base_parameters", "model_package_name", "image_uri", "model_artifact_uri"
    )
    template_fields_renderers = {"base_parameters": "json"}
    ui_color = "#d0ebff"

    def __init__(
        self,
        *,
        base_parameters: dict[str, Any],
        model_package_name: str | None = None,
        image_uri: str | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        model_artifact_uri: str | None = None,
        instance_type: str | None = None,
        image_region: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
        region: str | None | ArgNotSet = NOTSET,  # AwsBaseOperator's, for `.partial`'s signature check
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._init_aws(aws_conn_id, region_name, verify, botocore_config)
        self.base_parameters = base_parameters
        self.model_package_name = model_package_name
        self.image_uri = image_uri
        self.model_framework = model_framework
        self.model_framework_version = model_framework_version
        self.model_artifact_uri = model_artifact_uri
        self.instance_type = instance_type
        self.image_region = image_region

    def execute(self, context: Context) -> dict[str, Any]:
        resolver = ModelResolver(
            self.hook,
            self.log,
            model_package_name=self.model_package_name,
            image_uri=self.image_uri,
            model_framework=self.model_framework,
            model_framework_version=self.model_framework_version,
            model_artifact_uri=self.model_artifact_uri,
            instance_type=self.instance_type,
            image_region=self.image_region,
        )
        return resolver.parameters(self.base_parameters)


# --------------------------------------------------------------------------------------------
# batch transform: one job per DAG run
# --------------------------------------------------------------------------------------------

#: SageMaker job names: letters, digits and hyphens, at most 63 characters.
MAX_JOB_NAME = 63
_RUN_FOLDER_BAD_CHARS = re.compile(r"[^A-Za-z0-9._=-]+")


def transform_job_name(prefix: str, dag_id: str, run_id: str) -> str:
    """
    ``{prefix}-{12 hex digits of sha256(dag_id, run_id)}``, at most 63 characters.

    The same for every try of the task in one DAG run (so a retry finds the job of its run),
    different for every run and every DAG (a realtime and a batch pipeline may share a model
    name). MWO named its job ``{model}-batch-transform-{8 random chars}``, new at every call.
    """
    digest = hashlib.sha256(f"{dag_id}\n{run_id}".encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9-]+", "-", prefix)[: MAX_JOB_NAME - len(digest) - 1].strip("-")
    return f"{stem}-{digest}" if stem else f"transform-{digest}"


def run_output_folder(run_id: str, logical_date: datetime | None) -> str:
    """
    The folder of one DAG run's output: ``{YYYY-MM-DD}/{run_id made S3-safe}``.

    The date (the run's logical date, else when it was due) groups a nightly run's output by
    day; the run id makes it unique, so no run overwrites another's output, and a retried
    task writes where its first try did.
    """
    safe_run_id = _RUN_FOLDER_BAD_CHARS.sub("-", run_id).strip("-") or "run"
    if logical_date is None:
        return safe_run_id
    return f"{logical_date:%Y-%m-%d}/{safe_run_id}"


class BatchTransformOperator(OneJobPerRun, SageMakerTransformOperator):
    """
    Run one SageMaker batch transform job per DAG run, and wait for it (deferrably by default).

    The provider's ``SageMakerTransformOperator`` gives the request handling, the link and the
    lineage; starting, re-attaching and waiting are ``OneJobPerRun``'s, because a pipeline that
    is retried and scheduled needs:

    - a job name derived from the DAG run (``transform_job_name``), so every try of the task in
      one run addresses the same job. The provider's ``check_if_job_exists`` would fail
      (``action_if_job_exists="fail"``) or start a second job under a timestamped name
      (``"timestamp"``); here a retry re-attaches: a job still ``InProgress`` (or ``Stopping``) is
      waited for again, a ``Completed`` one gives its result, and a ``Failed`` or ``Stopped`` one
      fails the task with its ``FailureReason`` without retrying. No retry ever starts a second
      job for the same DAG run; a new run (its own name) transforms again.
    - output under ``{output_location}/{run_output_folder}``, so no run overwrites an earlier
      run's output; the URI is pushed to XCom (key ``output_uri``) and returned.

    :param config: the transform job request without ``TransformJobName``, ``ModelName`` and
        ``TransformOutput.S3OutputPath`` (those are set per run).
    :param model_name: the SageMaker model to run (templated: e.g. from the stack's outputs).
    :param job_name_prefix: the start of the job name, usually the pipeline's model name.
    :param output_location: ``s3://bucket/prefix`` under which each run writes its own folder.
    :param tags: tags of the job (the DAG run's id is added).
    :return: ``{"Model", "Transform"}`` as the provider's operator, plus ``output_uri``.
    """

    template_fields: Sequence[str] = (
        *SageMakerTransformOperator.template_fields,
        "model_name",
        "job_name_prefix",
        "output_location",
        "tags",
    )
    template_fields_renderers = {"config": "json", "tags": "json"}
    ui_color = "#c3fae8"
    label = "Transform job"
    name_key = "TransformJobName"
    status_key = "TransformJobStatus"
    sagemaker_job_type = "Transform"
    link = SageMakerTransformJobLink
    rerun_hint = "trigger a new DAG run to transform again (it writes to its own output folder)"

    def __init__(
        self,
        *,
        config: dict[str, Any],
        model_name: str,
        job_name_prefix: str,
        output_location: str,
        tags: dict[str, str] | None = None,
        deferrable: bool = True,
        max_attempts: int | None = None,
        check_interval: int = 30,
        **kwargs,
    ):
        super().__init__(
            config=config,
            deferrable=deferrable,
            check_interval=check_interval,
            max_attempts=max_attempts or 60,
            check_if_job_exists=False,
            check_if_model_exists=False,
            **kwargs,
        )
        self.model_name = model_name
        self.job_name_prefix = job_name_prefix
        self.output_location = output_location
        self.tags = tags or {}
        self.requested_max_attempts = max_attempts
        self._output_uri: str | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        dag_run = context["dag_run"]
        when = context.get("logical_date") or getattr(dag_run, "run_after", None)
        self._output_uri = f"{self.output_location.rstrip('/')}/{run_output_folder(dag_run.run_id, when)}"
        context["ti"].xcom_push(key="output_uri", value=self._output_uri)
        return super().execute(context)

    # -- OneJobPerRun ----------------------------------------------------------------------------

    def run_job_name(self, dag_run: Any) -> str:
        return transform_job_name(self.job_name_prefix, dag_run.dag_id, dag_run.run_id)

    def describe_job(self, job_name: str) -> dict[str, Any]:
        return self.hook.describe_transform_job(job_name)

    def create_job(self, request: dict[str, Any]) -> None:
        self.config = request
        self.preprocess_config()
        self.log.info("Transform job %s writes to %s", request["TransformJobName"], self._output_uri)
        self.hook.create_transform_job(self.config, wait_for_completion=False)

    def job_request(self, job_name: str, run_id: str) -> dict[str, Any]:
        request = dict(self.config)
        request["TransformJobName"] = job_name
        request["ModelName"] = self.model_name
        request["TransformOutput"] = {**(request.get("TransformOutput") or {}), "S3OutputPath": self._output_uri}
        request["Tags"] = self.run_tags(run_id)
        return request

    def time_limit(self, job: dict[str, Any]) -> int | None:
        return None  # a transform job has no time limit of its own: wait DEFAULT_WAIT_SECONDS

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        job_name = job["TransformJobName"]
        output_uri = job.get("TransformOutput", {}).get("S3OutputPath")
        self.log.info("Transform job %s completed; its output is under %s", job_name, output_uri)
        try:
            result = self.serialize_result(job_name)
        except ClientError as err:  # its model was replaced since (a later deployment)
            self.log.info("The model of transform job %s is gone: %s", job_name, err)
            self.serialized_model, self.serialized_transform = {}, serialize(job)
            result = {"Model": None, "Transform": self.serialized_transform}
        return {**result, "output_uri": output_uri}

    def result_summary(self, result: dict[str, Any]) -> str:
        return f"output under {result['output_uri']}"


class StopTransformJobsOperator(StopPipelineJobsOperator):
    """Stop a pipeline's transform jobs that are still running (``StopPipelineJobsOperator`` for transforms)."""

    def __init__(self, *, name_contains: str, tags: dict[str, str], **kwargs):
        super().__init__(job_kind="transform", name_contains=name_contains, tags=tags, **kwargs)
