"""SageMaker steps the Amazon provider has no operator for, or whose operator must behave differently."""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.links.sagemaker import SageMakerTransformJobLink
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTransformOperator, serialize
from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger
from airflow.providers.amazon.aws.utils import validate_execute_complete_event
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from botocore.exceptions import ClientError

from mlops_orchestrator.images import builtin_image_uri, ecr_repository_arn
from mlops_orchestrator.operators.stop_jobs import StopPipelineJobsOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class ResolveModelOperator(AwsBaseOperator[SageMakerHook]):
    """
    Work out, at run time, which images and artifacts a model deployment uses.

    Three sources, as in MWO: a built-in framework (image looked up with the SageMaker SDK in the
    connection's region, which the scheduler must not import), a custom image URI, or a model
    package version from the model registry (its containers read from SageMaker). The blueprint
    needs the artifacts and repositories even for a registered model, to scope the execution role
    to exactly them. A registered package may hold several inference containers (an Autopilot
    candidate has two or three, each with its own image and artifact), and the model SageMaker
    builds from it runs all of them, so the role must read every artifact and pull every image.

    :param base_parameters: the stack parameters known at parse time.
    :return: ``base_parameters`` plus ImageUri, ModelArtifactUri, ModelArtifactS3Path,
        EcrRepositoryArn (the one model, or a package's first container) and ModelPackageName; for
        a package also ModelArtifactArns and EcrRepositoryArns: the S3 object ARNs of every
        container's artifact and the ARNs of every container's ECR repository, without repeats
        (lists; the stack operator comma-joins them for the blueprints' CommaDelimitedList).
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
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.base_parameters = base_parameters
        self.model_package_name = model_package_name
        self.image_uri = image_uri
        self.model_framework = model_framework
        self.model_framework_version = model_framework_version
        self.model_artifact_uri = model_artifact_uri
        self.instance_type = instance_type

    def execute(self, context: Context) -> dict[str, Any]:
        if self.model_package_name:
            return self._package_parameters(self.model_package_name)
        image, artifact = self._image_and_artifact()
        if not artifact or not artifact.startswith("s3://"):
            raise AirflowException(f"The model artifact must be an s3:// URI, got {artifact!r}")
        self.log.info("Model image %s, artifact %s", image, artifact)
        return self._model_parameters(image, artifact, self._repository_arn(image, "The model image"))

    def _model_parameters(self, image: str, artifact: str, repository_arn: str) -> dict[str, Any]:
        return {
            **self.base_parameters,
            "ImageUri": image,
            "ModelArtifactUri": artifact,
            "ModelArtifactS3Path": artifact.removeprefix("s3://"),
            "EcrRepositoryArn": repository_arn,
            "ModelPackageName": self.model_package_name or "",
        }

    def _package_parameters(self, package_name: str) -> dict[str, Any]:
        """Every container's artifact and repository; the first ones fill the single-model parameters."""
        containers = self._package_containers(package_name)
        artifacts: list[str] = []
        repositories: list[str] = []
        for number, container in enumerate(containers, start=1):
            where = f"model_package_name {package_name}: container {number}"
            repositories.append(self._repository_arn(container.get("Image") or "", f"{where}: the image"))
            artifact = container.get("ModelDataUrl")
            if artifact is None and container.get("ModelDataSource"):
                raise AirflowException(
                    f"{where} gives its model as ModelDataSource (uncompressed model data), which the "
                    "blueprints cannot scope the execution role to; register a ModelDataUrl (model.tar.gz)"
                )
            if artifact is None:
                continue  # e.g. a container whose model is inside its image: nothing to read
            if not artifact.startswith("s3://"):
                raise AirflowException(f"{where}: the model artifact must be an s3:// URI, got {artifact!r}")
            artifacts.append(artifact)
        if not artifacts:
            raise AirflowException(
                f"model_package_name {package_name}: no inference container has a ModelDataUrl, "
                "so there is no model artifact to deploy"
            )
        partition = self.hook.conn_partition
        parameters = self._model_parameters(containers[0]["Image"], artifacts[0], repositories[0])
        parameters["ModelArtifactArns"] = list(
            dict.fromkeys(f"arn:{partition}:s3:::{a.removeprefix('s3://')}" for a in artifacts)
        )
        parameters["EcrRepositoryArns"] = list(dict.fromkeys(repositories))
        self.log.info(
            "Model package %s: %d container(s), images %s, artifacts %s",
            package_name,
            len(containers),
            ", ".join(c["Image"] for c in containers),
            ", ".join(artifacts),
        )
        return parameters

    def _package_containers(self, package_name: str) -> list[dict[str, Any]]:
        package = self.hook.conn.describe_model_package(ModelPackageName=package_name)
        containers = package.get("InferenceSpecification", {}).get("Containers") or []
        if not containers:
            raise AirflowException(
                f"model_package_name {package_name}: the package has no inference container"
            )
        status = package.get("ModelApprovalStatus")
        if status != "Approved":
            self.log.warning(
                "Model package %s is %s, not Approved; deploying it as the config asks.", package_name, status
            )
        return containers

    def _repository_arn(self, image: str, what: str) -> str:
        try:
            return ecr_repository_arn(image, self.hook.conn_partition)
        except ValueError as err:
            raise AirflowException(f"{what}: {err}; the execution role can only pull from ECR") from err

    def _image_and_artifact(self) -> tuple[str, str | None]:
        if self.model_framework:
            try:
                image = builtin_image_uri(
                    self.model_framework,
                    self.model_framework_version or "",
                    self.hook.conn_region_name,
                    self.instance_type,
                )
            except ValueError as err:
                raise AirflowException(str(err)) from err
            return image, self.model_artifact_uri
        if not self.image_uri:
            raise AirflowException("No model source: give model_package_name, model_framework or custom_image_uri")
        return self.image_uri, self.model_artifact_uri


# --------------------------------------------------------------------------------------------
# batch transform: one job per DAG run
# --------------------------------------------------------------------------------------------

#: SageMaker job names: letters, digits and hyphens, at most 63 characters.
MAX_JOB_NAME = 63
_RUN_FOLDER_BAD_CHARS = re.compile(r"[^A-Za-z0-9._=-]+")
#: Statuses of a transform job that has ended without output worth using.
_TRANSFORM_FAILED = ("Failed", "Stopped")
#: How long a transform may run before the wait gives up (the task then fails and a retry re-attaches).
DEFAULT_TRANSFORM_WAIT = timedelta(days=2)


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


class BatchTransformOperator(SageMakerTransformOperator):
    """
    Run one SageMaker batch transform job per DAG run, and wait for it (deferrably by default).

    The provider's ``SageMakerTransformOperator`` starts the job and waits with its
    ``SageMakerTrigger``; this subclass keeps that wait, its link and lineage, and changes what
    must differ for a pipeline that is retried and scheduled:

    - The job name is derived from the DAG run (``transform_job_name``), so every try of the task
      in one run addresses the same job. The provider's ``check_if_job_exists`` would fail
      (``action_if_job_exists="fail"``) or start a second job under a timestamped name
      (``"timestamp"``); here a retry re-attaches instead: a job still ``InProgress`` (or
      ``Stopping``) is waited for again, a ``Completed`` one gives its result, and a ``Failed``
      or ``Stopped`` one fails the task with its ``FailureReason`` without retrying. No retry
      ever starts a second job for the same DAG run; a new run (its own name) transforms again.
    - The output goes to ``{output_location}/{run_output_folder}``, so no run overwrites an
      earlier run's output; the URI is pushed to XCom (key ``output_uri``) and returned.
    - A failed job fails the task with SageMaker's ``FailureReason``, not the raw trigger event.

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
        if max_attempts is None:
            max_attempts = max(60, int(DEFAULT_TRANSFORM_WAIT.total_seconds() // max(check_interval, 1)))
        super().__init__(
            config=config,
            deferrable=deferrable,
            check_interval=check_interval,
            max_attempts=max_attempts,
            check_if_job_exists=False,
            check_if_model_exists=False,
            **kwargs,
        )
        self.model_name = model_name
        self.job_name_prefix = job_name_prefix
        self.output_location = output_location
        self.tags = tags or {}

    def execute(self, context: Context) -> dict[str, Any]:
        dag_run = context["dag_run"]
        job_name = transform_job_name(self.job_name_prefix, dag_run.dag_id, dag_run.run_id)
        when = context.get("logical_date") or getattr(dag_run, "run_after", None)
        output_uri = f"{self.output_location.rstrip('/')}/{run_output_folder(dag_run.run_id, when)}"
        self.config = self._job_request(job_name, output_uri, dag_run.run_id)
        context["ti"].xcom_push(key="output_uri", value=output_uri)
        self._persist_job_link(context, job_name)

        job = self._describe(job_name)
        if job is None:
            self.preprocess_config()
            self.log.info("Starting transform job %s, writing to %s", job_name, output_uri)
            try:
                self.hook.create_transform_job(self.config, wait_for_completion=False)
            except ClientError as err:
                if "already exists" not in str(err):
                    raise
                self.log.info("Transform job %s was started meanwhile; attaching to it.", job_name)
            job = self._describe(job_name)
            if job is None:
                raise AirflowException(f"Transform job {job_name} was created but cannot be described.")
        else:
            self.log.info(
                "Transform job %s of this DAG run already exists (%s): attaching to it instead of "
                "starting another.",
                job_name,
                job["TransformJobStatus"],
            )
        return self._wait_or_finish(job)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = validate_execute_complete_event(event)
        job_name = event["job_name"]
        if event["status"] == "success":
            self.log.info("Transform job %s completed.", job_name)
        job = self._describe(job_name)
        if job is None:
            raise AirflowException(f"Transform job {job_name} no longer exists: {event.get('message', '')}")
        return self._finish(job, event.get("message"))

    # -- helpers -------------------------------------------------------------------------------

    def _job_request(self, job_name: str, output_uri: str, run_id: str) -> dict[str, Any]:
        request = dict(self.config)
        request["TransformJobName"] = job_name
        request["ModelName"] = self.model_name
        request["TransformOutput"] = {**(request.get("TransformOutput") or {}), "S3OutputPath": output_uri}
        tags = {**self.tags, "mlops-orchestrator:run-id": run_id[:256]}
        request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        return request

    def _describe(self, job_name: str) -> dict[str, Any] | None:
        try:
            return self.hook.describe_transform_job(job_name)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ValidationException":
                return None  # SageMaker's "Could not find transform job"
            raise

    def _persist_job_link(self, context: Context, job_name: str) -> None:
        SageMakerTransformJobLink.persist(
            context=context,
            operator=self,
            region_name=self.hook.conn_region_name,
            aws_partition=self.hook.conn_partition,
            job_name=urllib.parse.quote(job_name, safe=""),
        )

    def _wait_or_finish(self, job: dict[str, Any]) -> dict[str, Any]:
        """Defer (or poll) while the job runs; otherwise its result or its failure."""
        job_name = job["TransformJobName"]
        if job["TransformJobStatus"] not in self.hook.non_terminal_states:
            return self._finish(job)
        if self.deferrable:
            timeout = self.execution_timeout
            if self.max_ingestion_time:
                timeout = timedelta(seconds=self.max_ingestion_time)
            self.defer(
                timeout=timeout,
                trigger=SageMakerTrigger(
                    job_name=job_name,
                    job_type="Transform",
                    waiter_delay=self.check_interval,
                    waiter_max_attempts=self.max_attempts,
                    aws_conn_id=self.aws_conn_id,
                    region_name=self.region_name,
                    verify=self.verify,
                    botocore_config=self.botocore_config,
                ),
                method_name="execute_complete",
            )
        try:
            self.hook.check_status(
                job_name,
                "TransformJobStatus",
                self.hook.describe_transform_job,
                self.check_interval,
                self.max_ingestion_time,
            )
        except AirflowException as err:
            self.log.info("Waiting for transform job %s ended: %s", job_name, err)
        return self._finish(self.hook.describe_transform_job(job_name))

    def _finish(self, job: dict[str, Any], wait_message: str | None = None) -> dict[str, Any]:
        job_name = job["TransformJobName"]
        status = job["TransformJobStatus"]
        output_uri = job.get("TransformOutput", {}).get("S3OutputPath")
        if status == "Completed":
            self.log.info("Transform job %s completed; its output is under %s", job_name, output_uri)
            try:
                result = self.serialize_result(job_name)
            except ClientError as err:  # its model was replaced since (a later deployment)
                self.log.info("The model of transform job %s is gone: %s", job_name, err)
                self.serialized_model, self.serialized_transform = {}, serialize(job)
                result = {"Model": None, "Transform": self.serialized_transform}
            return {**result, "output_uri": output_uri}
        if status in _TRANSFORM_FAILED:
            reason = job.get("FailureReason") or wait_message or "no FailureReason given"
            # Not retried: a retry would find this same job, and must not start a second one.
            raise AirflowFailException(
                f"Transform job {job_name} ended {status}: {reason}\n"
                "The job of this DAG run is not started again on retry; trigger a new DAG run "
                "to transform again (it writes to its own output folder)."
            )
        raise AirflowException(
            f"Transform job {job_name} is still {status} after waiting ({wait_message or 'wait ended'}); "
            "a retry of this task waits for the same job again."
        )


class StopTransformJobsOperator(StopPipelineJobsOperator):
    """Stop a pipeline's transform jobs that are still running (``StopPipelineJobsOperator`` for transforms)."""

    def __init__(self, *, name_contains: str, tags: dict[str, str], **kwargs):
        super().__init__(job_kind="transform", name_contains=name_contains, tags=tags, **kwargs)
