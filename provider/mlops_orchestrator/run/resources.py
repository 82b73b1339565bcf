"""What a pipeline left in AWS: its stacks (found by the dag-id tag), their resources and endpoints,
its batch transform jobs with their output objects, its training jobs and registered model
versions, and its monitoring schedules."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from mlops_orchestrator.run.images import repository_images

DAG_ID_TAG = "mlops-orchestrator:dag-id"


def pipeline_resources(session_client, dag_id: str) -> dict[str, Any]:
    """
    Stacks tagged with the pipeline's DAG id, each with its status, outputs and resources, and
    the state of every SageMaker endpoint among them, its transform jobs and the images it pushed.

    :param session_client: ``callable(service_name) -> boto3 client`` (already pointed at the
        emulator or at AWS).
    """
    stacks, endpoints = pipeline_stacks(session_client, dag_id)
    return {
        "stacks": stacks,
        "endpoints": endpoints,
        "transform_jobs": pipeline_transform_jobs(session_client, dag_id),
        "images": repository_images(session_client, stacks),
        "monitoring_schedules": pipeline_monitoring_schedules(session_client, dag_id),
        "training_jobs": pipeline_training_jobs(session_client, dag_id),
        "model_packages": pipeline_model_packages(session_client, dag_id),
        "stack_sets": pipeline_stack_sets(session_client, dag_id),
    }


def pipeline_stacks(session_client, dag_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stacks tagged with the pipeline's DAG id (status, outputs, resources) and the endpoints among them."""
    cloudformation = session_client("cloudformation")
    sagemaker = session_client("sagemaker")
    stacks = []
    endpoints = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if tags.get(DAG_ID_TAG) != dag_id:
                continue
            resources = cloudformation.describe_stack_resources(StackName=stack["StackId"])["StackResources"]
            stacks.append(
                {
                    "name": stack["StackName"],
                    "status": stack["StackStatus"],
                    "reason": stack.get("StackStatusReason"),
                    "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
                    "resources": [
                        {
                            "logical_id": r["LogicalResourceId"],
                            "type": r["ResourceType"],
                            "physical_id": r.get("PhysicalResourceId", ""),
                            "status": r["ResourceStatus"],
                        }
                        for r in resources
                    ],
                }
            )
            for resource in resources:
                if resource["ResourceType"] != "AWS::SageMaker::Endpoint":
                    continue
                name = resource.get("PhysicalResourceId", "").rsplit("/", 1)[-1]
                try:
                    described = sagemaker.describe_endpoint(EndpointName=name)
                except ClientError as err:  # deleted outside the stack, or not yet created
                    missing = {"name": name, "status": "Missing", "endpoint_config": None, "instance_type": None}
                    endpoints.append({**missing, "failure_reason": str(err)})
                    continue
                endpoints.append(
                    {
                        "name": described["EndpointName"],
                        "status": described["EndpointStatus"],
                        "endpoint_config": described.get("EndpointConfigName"),
                        "instance_type": _instance_type(sagemaker, described.get("EndpointConfigName")),
                        "failure_reason": described.get("FailureReason"),
                    }
                )
    return stacks, endpoints


def _instance_type(sagemaker, config_name: str | None) -> str | None:
    if not config_name:
        return None
    try:
        variants = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    except ClientError:
        return None
    return variants[0].get("InstanceType") if variants else None


def pipeline_stack_sets(session_client, dag_id: str) -> list[dict[str, Any]]:
    """The pipeline's stack sets (tagged with its DAG id) and each one's instances, account by account."""
    cloudformation = session_client("cloudformation")
    found = []
    for page in cloudformation.get_paginator("list_stack_sets").paginate(Status="ACTIVE"):
        for summary in page["Summaries"]:
            name = summary["StackSetName"]
            stack_set = cloudformation.describe_stack_set(StackSetName=name)["StackSet"]
            tags = {t["Key"]: t["Value"] for t in stack_set.get("Tags", [])}
            if tags.get(DAG_ID_TAG) != dag_id:
                continue
            instances = cloudformation.list_stack_instances(StackSetName=name)["Summaries"]
            found.append(
                {
                    "name": name,
                    "permission_model": stack_set.get("PermissionModel"),
                    "instances": [
                        {
                            "account": i["Account"],
                            "region": i["Region"],
                            "status": i["Status"],
                            "reason": i.get("StatusReason"),
                        }
                        for i in instances
                    ],
                }
            )
    return found


def pipeline_transform_jobs(session_client, dag_id: str, *, recent: int = 100, objects: int = 20) -> list[dict[str, Any]]:
    """
    The batch transform jobs tagged with the pipeline's DAG id (among the account's ``recent``
    latest), newest first, each with its status, output URI and the output objects it wrote.

    Transform jobs are not stack resources (each DAG run starts its own), so they are found by
    the tag the DAG puts on them; their outputs stay in S3 when the pipeline is deprovisioned.
    """
    sagemaker = session_client("sagemaker")
    summaries = sagemaker.list_transform_jobs(
        SortBy="CreationTime", SortOrder="Descending", MaxResults=recent
    )["TransformJobSummaries"]
    jobs = []
    for summary in sorted(summaries, key=lambda s: s["CreationTime"], reverse=True):
        tags = sagemaker.list_tags(ResourceArn=summary["TransformJobArn"]).get("Tags", [])
        if {t["Key"]: t["Value"] for t in tags}.get(DAG_ID_TAG) != dag_id:
            continue
        described = sagemaker.describe_transform_job(TransformJobName=summary["TransformJobName"])
        output_uri = described.get("TransformOutput", {}).get("S3OutputPath", "")
        jobs.append(
            {
                "name": described["TransformJobName"],
                "status": described["TransformJobStatus"],
                "failure_reason": described.get("FailureReason"),
                "model_name": described.get("ModelName"),
                "input_uri": described["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"],
                "output_uri": output_uri,
                "outputs": _objects_under(session_client("s3"), output_uri, objects),
            }
        )
    return jobs


#: job kind -> (list call, summaries key, name key, ARN key, status key) of the training kinds
_TRAINING_KINDS = {
    "training": ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobArn", "TrainingJobStatus"),
    "tuning": (
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobArn",
        "HyperParameterTuningJobStatus",
    ),
    "automl": ("list_auto_ml_jobs", "AutoMLJobSummaries", "AutoMLJobName", "AutoMLJobArn", "AutoMLJobStatus"),
}


def pipeline_training_jobs(session_client, dag_id: str, *, recent: int = 100) -> list[dict[str, Any]]:
    """The training, tuning and Autopilot jobs tagged with the pipeline's DAG id (among the latest ``recent``)."""
    sagemaker = session_client("sagemaker")
    jobs = []
    for kind, (list_call, key, name_key, arn_key, status_key) in _TRAINING_KINDS.items():
        try:
            summaries = getattr(sagemaker, list_call)(
                SortBy="CreationTime", SortOrder="Descending", MaxResults=recent
            ).get(key, [])
        except ClientError:
            continue
        for summary in summaries:
            tags = sagemaker.list_tags(ResourceArn=summary[arn_key]).get("Tags", [])
            if {t["Key"]: t["Value"] for t in tags}.get(DAG_ID_TAG) != dag_id:
                continue
            jobs.append(
                {
                    "kind": kind,
                    "name": summary[name_key],
                    "status": summary[status_key],
                    "failure_reason": summary.get("FailureReason"),
                }
            )
    return jobs


def pipeline_model_packages(session_client, dag_id: str, *, groups: int = 100) -> list[dict[str, Any]]:
    """Model package versions the pipeline registered (its DAG id is in their metadata), oldest first."""
    sagemaker = session_client("sagemaker")
    try:
        listed = sagemaker.list_model_package_groups(MaxResults=groups).get("ModelPackageGroupSummaryList", [])
    except ClientError:
        return []
    packages = []
    for group in listed:
        summaries = sagemaker.list_model_packages(
            ModelPackageGroupName=group["ModelPackageGroupName"], SortBy="CreationTime", SortOrder="Ascending"
        ).get("ModelPackageSummaryList", [])
        for summary in summaries:
            described = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            if (described.get("CustomerMetadataProperties") or {}).get(DAG_ID_TAG) != dag_id:
                continue
            packages.append(
                {
                    "arn": described["ModelPackageArn"],
                    "group": described.get("ModelPackageGroupName"),
                    "version": described.get("ModelPackageVersion"),
                    "status": described.get("ModelApprovalStatus"),
                }
            )
    return packages


def pipeline_monitoring_schedules(session_client, dag_id: str, *, history: int = 0) -> list[dict[str, Any]]:
    """
    The monitoring schedules tagged with the pipeline's DAG id: status, type, cron, job
    definition and the newest execution (made through the SageMaker API, not stacks); with
    ``history``, also that many latest executions with their violation counts (``monitoring_history``).
    """
    sagemaker = session_client("sagemaker")
    try:
        summaries = sagemaker.list_monitoring_schedules(MaxResults=100).get("MonitoringScheduleSummaries", [])
    except ClientError:  # an account (or emulator) without Model Monitor
        return []
    schedules = []
    for summary in summaries:
        tags = sagemaker.list_tags(ResourceArn=summary["MonitoringScheduleArn"]).get("Tags", [])
        if {t["Key"]: t["Value"] for t in tags}.get(DAG_ID_TAG) != dag_id:
            continue
        described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=summary["MonitoringScheduleName"])
        config = described.get("MonitoringScheduleConfig", {})
        last = described.get("LastMonitoringExecutionSummary") or {}
        schedules.append(
            {
                "name": described["MonitoringScheduleName"],
                "status": described["MonitoringScheduleStatus"],
                "type": described.get("MonitoringType") or config.get("MonitoringType"),
                "endpoint": described.get("EndpointName"),
                "schedule_expression": config.get("ScheduleConfig", {}).get("ScheduleExpression"),
                "job_definition": config.get("MonitoringJobDefinitionName"),
                "last_execution": last.get("MonitoringExecutionStatus"),
            }
        )
        if history:
            schedules[-1]["history"] = monitoring_history(session_client, described["MonitoringScheduleName"], history)
    return schedules


def monitoring_history(session_client, schedule_name: str, recent: int = 10) -> list[dict[str, Any]]:
    """
    The schedule's ``recent`` latest executions, oldest first, each summarised as the monitor
    DAG's ``monitor_results`` task does (status, violations, by check, features) from the
    ``constraint_violations.json`` its processing job wrote.
    """
    from mlops_orchestrator.operators.sagemaker_monitoring import violations_summary

    sagemaker = session_client("sagemaker")
    try:
        executions = sagemaker.list_monitoring_executions(
            MonitoringScheduleName=schedule_name, SortBy="ScheduledTime", SortOrder="Descending", MaxResults=recent
        ).get("MonitoringExecutionSummaries", [])
    except ClientError:
        return []
    return [violations_summary(e, _execution_violations(session_client, e)) for e in reversed(executions)]


def _execution_violations(session_client, execution: dict[str, Any]) -> dict[str, Any] | None:
    """An execution's constraint_violations.json, or None when it wrote none (or it cannot be read)."""
    arn = execution.get("ProcessingJobArn")
    if not arn:
        return None
    try:
        job = session_client("sagemaker").describe_processing_job(ProcessingJobName=arn.rsplit("/", 1)[-1])
    except ClientError:
        return None
    outputs = job.get("ProcessingOutputConfig", {}).get("Outputs") or []
    if not outputs:
        return None
    uri = f"{outputs[0]['S3Output']['S3Uri'].rstrip('/')}/constraint_violations.json"
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body = session_client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return json.loads(body)
    except (ClientError, ValueError):
        return None


def _objects_under(s3, uri: str, limit: int) -> list[str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        return []
    try:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix.rstrip('/')}/" if prefix else "", MaxKeys=limit)
    except ClientError:  # the bucket is gone, or not ours to read
        return []
    return [f"s3://{bucket}/{o['Key']}" for o in listed.get("Contents", [])]
