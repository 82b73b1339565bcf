"""Stop a pipeline's SageMaker jobs that are still running: the deprovision path of every family.

MWO deleted a pipeline's stack and left its jobs running (and billing). Jobs are not stack
resources here (each DAG run starts its own), so they are found by name (``name_contains``, the
start of the pipeline's job names) and confirmed by tag (``tags``, e.g. the DAG id): another
pipeline's jobs are never touched. Stopping is requested, not waited for: a stopping job keeps
what it already wrote, and nothing of it depends on the stacks deleted next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["JOB_KINDS", "StopPipelineJobsOperator"]


@dataclass(frozen=True)
class _JobCalls:
    """How SageMaker lists and stops one kind of job (the calls differ only in their names)."""

    list_call: str
    summaries: str
    name: str
    arn: str
    stop_call: str


#: job kind -> SageMaker's calls and fields for it
JOB_KINDS = {
    "transform": _JobCalls(
        "list_transform_jobs", "TransformJobSummaries", "TransformJobName", "TransformJobArn", "stop_transform_job"
    ),
    "training": _JobCalls(
        "list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobArn", "stop_training_job"
    ),
    "tuning": _JobCalls(
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobArn",
        "stop_hyper_parameter_tuning_job",
    ),
    "automl": _JobCalls("list_auto_ml_jobs", "AutoMLJobSummaries", "AutoMLJobName", "AutoMLJobArn", "stop_auto_ml_job"),
}


class StopPipelineJobsOperator(AwsBaseOperator[SageMakerHook]):
    """
    Stop the running jobs of one kind (transform, training, tuning, automl) of one pipeline.

    :param job_kind: which kind of job.
    :param name_contains: the start of the pipeline's job names.
    :param tags: tags every job of the pipeline carries (all must match).
    :return: the names of the jobs asked to stop.
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields("name_contains", "tags")
    ui_color = "#ffc9c9"

    def __init__(self, *, job_kind: str, name_contains: str, tags: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        if job_kind not in JOB_KINDS:
            raise ValueError(f"job_kind must be one of {', '.join(JOB_KINDS)}, got {job_kind!r}")
        self.job_kind = job_kind
        self.name_contains = name_contains
        self.tags = tags

    def execute(self, context: Context) -> list[str]:
        calls = JOB_KINDS[self.job_kind]
        conn = self.hook.conn
        stopped = []
        pages = conn.get_paginator(calls.list_call).paginate(NameContains=self.name_contains, StatusEquals="InProgress")
        for page in pages:
            for summary in page.get(calls.summaries, []):
                found = {t["Key"]: t["Value"] for t in conn.list_tags(ResourceArn=summary[calls.arn]).get("Tags", [])}
                if any(found.get(key) != value for key, value in self.tags.items()):
                    continue
                name = summary[calls.name]
                self.log.info("Stopping %s job %s of this pipeline.", self.job_kind, name)
                try:
                    getattr(conn, calls.stop_call)(**{calls.name: name})
                except ClientError as err:  # it ended meanwhile
                    self.log.info("%s job %s could not be stopped: %s", self.job_kind, name, err)
                    continue
                stopped.append(name)
        if not stopped:
            self.log.info("No %s job of this pipeline is running.", self.job_kind)
        return stopped
