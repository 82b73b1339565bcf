"""byom_data_quality_monitor, byom_model_quality_monitor, byom_model_bias_monitor and
byom_model_explainability_monitor: baseline, schedule, report.

DAG::

    choose_action ─┬─> deploy_stack ─> baseline ─> schedule_monitoring ─> monitor_results   (deploy)
                   ├─> monitor_results                                                        (report)
                   └─> delete_schedule ─> delete_stack                                        (deprovision)

The stack (``cloudformation/model-monitor.yaml``) holds the jobs' execution role. The baselining
job runs from the DAG so that its failure fails the run (MWO fired it from a custom resource and
only e-mailed); the job definition and the schedule are made through the SageMaker API, so a
re-run updates the schedule instead of failing on "already exists". ``action: report`` only reads
the newest monitoring execution: give the DAG a ``schedule`` (e.g. ``@daily``) together with
``params: {action: report}`` in a copy of the config, or trigger it with that param, to follow
the results without baselining again. With ``stages`` (multi-account) the four deploying tasks
and monitor_results are built once per stage, in the stage's account (see ``promotion``); the
next stage's gate follows schedule_monitoring, and ``report`` reads every stage's newest execution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import Param
from airflow.providers.standard.operators.python import BranchPythonOperator

from mlops_orchestrator.factory import promotion
from mlops_orchestrator.factory.callables import choose_action
from mlops_orchestrator.factory.dag_options import building, new_dag
from mlops_orchestrator.factory.steps import stack_tags
from mlops_orchestrator.notifications import notifiers_for
from mlops_orchestrator.operators.model_monitor import (
    BaselineJobOperator,
    DeleteMonitoringScheduleOperator,
    MonitoringResultsOperator,
    MonitoringScheduleOperator,
)
from mlops_orchestrator.operators.sagemaker_monitoring import (
    CLARIFY_TYPES,
    baseline_environment,
    monitoring_schedule_name,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator
    from airflow.sdk import DAG

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

BLUEPRINT = "model-monitor.yaml"

MONITOR_ACTION_PARAM = Param(
    "deploy",
    type="string",
    enum=["deploy", "report", "deprovision"],
    description="deploy: baseline the dataset and create or update the monitoring schedule. "
    "report: only report the newest monitoring execution and its violations. "
    "deprovision: delete the schedule, its job definitions and the stack (reports in S3 are kept).",
)


def _bucket_path(value: str) -> str:
    """``bucket/prefix`` of an ``s3://`` URI or a location (as the blueprint's parameters take them)."""
    return value.removeprefix("s3://").rstrip("/")


def stack_parameters(config: PipelineConfig, stage: str) -> dict[str, Any]:
    """The blueprint parameters, all known before run time."""
    ground_truth = getattr(config, "monitor_ground_truth_input", None)
    return {
        "ModelName": config.model_name,
        "EndpointName": config.for_stage("endpoint_name", stage),
        "InvokeEndpoint": "true" if config.pipeline_type in CLARIFY_TYPES else "false",
        "BaselineDataS3Path": _bucket_path(config.s3_uri("baseline_data", stage)),
        "BaselineOutputS3Path": _bucket_path(config.for_stage("baseline_job_output_location", stage)),
        "DataCaptureS3Path": _bucket_path(config.for_stage("data_capture_location", stage)),
        "MonitoringOutputS3Path": _bucket_path(config.for_stage("monitoring_output_location", stage)),
        "GroundTruthS3Path": _bucket_path(config.for_stage("monitor_ground_truth_input", stage))
        if ground_truth is not None
        else "",
        "KmsKeyArn": config.for_stage("kms_key_arn", stage) or "",
        "SubnetIds": ",".join(config.subnet_ids or []),
    }


def endpoint_attributes(config: PipelineConfig) -> dict[str, Any]:
    """The endpoint input's attributes (where the captured output holds what) this monitor uses."""
    if config.pipeline_type == "byom_data_quality_monitor":
        return {}
    attributes: dict[str, Any] = {
        "InferenceAttribute": config.monitor_inference_attribute,
        "ProbabilityAttribute": config.monitor_probability_attribute,
        "ProbabilityThresholdAttribute": config.probability_threshold_attribute,
    }
    if config.pipeline_type in CLARIFY_TYPES:
        attributes["FeaturesAttribute"] = config.features_attribute
    return {key: value for key, value in attributes.items() if value is not None}


def definition_arguments(config: PipelineConfig, stage: str) -> dict[str, Any]:
    """``job_definition_request`` arguments known before run time (not role, image, baseline)."""
    ground_truth = getattr(config, "monitor_ground_truth_input", None)
    return {
        "endpoint_name": config.for_stage("endpoint_name", stage),
        "output_uri": config.s3_uri("monitoring_output_location", stage),
        "instance_type": config.for_stage("instance_type", stage),
        "volume_size_gb": int(config.for_stage("instance_volume_size", stage)),
        "max_runtime_seconds": int(config.for_stage("monitor_max_runtime_seconds", stage)),
        "attributes": endpoint_attributes(config),
        "ground_truth_uri": config.s3_uri("monitor_ground_truth_input", stage) if ground_truth is not None else None,
        "problem_type": getattr(config, "problem_type", None),
        "kms_key_arn": config.for_stage("kms_key_arn", stage) or None,
        "subnet_ids": list(config.subnet_ids or []) or None,
        "security_group_ids": list(config.security_group_ids or []) or None,
    }


def _from_task(task_id: str, expression: str) -> str:
    return "{{ ti.xcom_pull(task_ids='" + task_id + "')" + expression + " }}"


def monitor_stage_tasks(
    config: PipelineConfig, ctx: BuildContext, stage: str, stack_name: str
) -> tuple[BaseOperator, BaseOperator, MonitoringResultsOperator]:
    """
    ``deploy_stack -> baseline -> schedule_monitoring -> monitor_results`` of one stage; the
    baseline job and the schedule are made in the stage's account. Returns (first task, the
    last deploying task, monitor_results), since results also run alone (``action: report``).
    """
    endpoint = config.for_stage("endpoint_name", stage)
    schedule_name = monitoring_schedule_name(endpoint, config.pipeline_type)
    aws = promotion.stage_aws(config, stage)
    tags = promotion.stage_tags(config, stage, stack_tags(config, ctx, model_name=config.model_name))
    owner_tags = {"mlops-orchestrator:dag-id": ctx.dag_id}
    clarify = config.pipeline_type in CLARIFY_TYPES
    if clarify:
        from mlops_orchestrator.operators.clarify_analysis import clarify_spec  # pure; no SDK import here

        clarify_options = clarify_spec(config, stage)
    runtime = config.for_stage("baseline_max_runtime_seconds", stage)
    deploy = promotion.deploy_stack_task(
        config, ctx, stage, stack_name=stack_name, blueprint=BLUEPRINT, parameters=stack_parameters(config, stage), tags=tags
    )
    role_arn = _from_task(deploy.task_id, "['outputs']['ExecutionRoleArn']")
    baseline = BaselineJobOperator(
        task_id="baseline",
        pipeline_type=config.pipeline_type,
        endpoint_name=endpoint,
        role_arn=role_arn,
        baseline_data_uri=config.s3_uri("baseline_data", stage),
        output_location=config.s3_uri("baseline_job_output_location", stage),
        instance_type=config.for_stage("instance_type", stage),
        volume_size_gb=int(config.for_stage("instance_volume_size", stage)),
        max_runtime_seconds=int(runtime) if runtime is not None else None,
        kms_key_arn=config.for_stage("kms_key_arn", stage) or None,
        environment=None if clarify else baseline_environment(config),
        clarify=clarify_options if clarify else None,
        tags={**tags, **owner_tags},
        check_interval=ctx.poll_seconds,
        **aws,
    )
    schedule = MonitoringScheduleOperator(
        task_id="schedule_monitoring",
        pipeline_type=config.pipeline_type,
        schedule_name=schedule_name,
        schedule_expression=config.for_stage("schedule_expression", stage),
        role_arn=role_arn,
        baseline=_from_task(baseline.task_id, " | tojson"),
        definition=definition_arguments(config, stage),
        tags={**tags, **owner_tags},
        poll_seconds=min(ctx.poll_seconds, 5),
        **aws,
    )
    results = MonitoringResultsOperator(
        task_id="monitor_results",
        schedule_name=schedule_name,
        fail_on_violations=config.fail_on_violations,
        notifiers=notifiers_for(config, "violations", ctx.relative_path),
        waiter_delay=ctx.poll_seconds,
        trigger_rule="none_failed_min_one_success",
        **aws,
    )
    deploy >> baseline >> schedule >> results
    return deploy, schedule, results


def monitor_removal_tasks(
    config: PipelineConfig, ctx: BuildContext, stack_name: str
) -> tuple[BaseOperator, BaseOperator]:
    """``delete_schedule -> delete_stack`` of every stage, last stage first; returns (first, last)."""

    def stage_tasks(stage: str) -> tuple[BaseOperator, BaseOperator]:
        endpoint = config.for_stage("endpoint_name", stage)
        delete_schedule = DeleteMonitoringScheduleOperator(
            task_id="delete_schedule",
            pipeline_type=config.pipeline_type,
            schedule_name=monitoring_schedule_name(endpoint, config.pipeline_type),
            tags={"mlops-orchestrator:dag-id": ctx.dag_id},
            **promotion.stage_aws(config, stage),
        )
        delete = promotion.delete_stack_task(config, ctx, stage, stack_name=stack_name)
        delete_schedule >> delete
        return delete_schedule, delete

    return promotion.deprovision(config, stage_tasks)


def build_monitor_dag(config: PipelineConfig, ctx: BuildContext) -> DAG:
    dag = new_dag(config, ctx, action_param=MONITOR_ACTION_PARAM)
    stack_name = config.stack_name_or_default(ctx.dag_id)
    results: list[MonitoringResultsOperator] = []

    def stage_tasks(stage: str) -> tuple[BaseOperator, BaseOperator]:
        first, last, result = monitor_stage_tasks(config, ctx, stage, stack_name)
        results.append(result)
        return first, last

    with building(dag):
        first, _ = promotion.promote(config, stage_tasks)
        remove, _ = monitor_removal_tasks(config, ctx, stack_name)
        report = [result.task_id for result in results]
        choose = BranchPythonOperator(
            task_id="choose_action",
            python_callable=choose_action,
            # monitor_results is downstream of choose_action too (for report): deploy must keep it
            op_kwargs={"deploy": [first.task_id, *report], "deprovision": remove.task_id, "report": report},
        )
        choose >> first
        choose >> results
        choose >> remove
    return dag
