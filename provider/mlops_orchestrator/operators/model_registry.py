"""The SageMaker Model Registry steps of a training pipeline: register, decide, approve or reject.

A trained model becomes a new version of a model package group (created when missing), with its
containers, content types and metrics. Its approval status then follows the config: Approved at
once, decided by a metric threshold (``ApprovalThresholdOperator``), or by a person in the Airflow
UI (``ModelApprovalGateOperator``, Airflow's human-in-the-loop branch); ``SetApprovalStatusOperator``
writes the decision to SageMaker. Each approved version is published as an asset event (alias
``mlops-orchestrator/model-package-group/{group}``), so a separate deployment DAG can be scheduled
on the group.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException, Asset, AssetAlias
from airflow.providers.standard.operators.branch import BaseBranchOperator
from airflow.providers.standard.operators.hitl import HITLBranchOperator
from botocore.exceptions import ClientError

from mlops_orchestrator.operators.hitl_answer import HitlAnswer, hours, with_comment_param

if TYPE_CHECKING:
    from airflow.sdk import Context

MODEL_PACKAGE_ALIAS_PREFIX = "mlops-orchestrator/model-package-group/"
#: CustomerMetadataProperties keys tying a version to the DAG run that registered it.
RUN_ID_KEY = "mlops-orchestrator:run-id"
DAG_ID_KEY = "mlops-orchestrator:dag-id"
JOB_KEY = "mlops-orchestrator:training-job"
#: The Sid of the statement that shares a model package group with the stage accounts.
SHARE_SID = "MlopsOrchestratorStageAccounts"
APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"
#: SageMaker allows 50 CustomerMetadataProperties; keep room for ours.
_MAX_METRIC_PROPERTIES = 40
_PROPERTY_KEY_BAD_CHARS = re.compile(r"[^\w\s.:/=+\-@]")
#: How far before the DAG run's start a version of this run may have been created (clock skew).
_CLOCK_SLACK = timedelta(minutes=10)


def model_package_alias_name(group: str) -> str:
    """The asset alias approved versions of a model package group are published under."""
    return f"{MODEL_PACKAGE_ALIAS_PREFIX}{group}"


def model_package_asset_uri(account: str, region: str, group: str) -> str:
    """The asset URI of a model package group: ``sagemaker://{account}/{region}/model-package-group/{group}``."""
    return f"sagemaker://{account}/{region}/model-package-group/{group}"


def package_summary(arn: str, status: str, **extra: Any) -> dict[str, Any]:
    """``{"model_package_arn", "version", "group", "status"}`` from a version ARN (``.../GROUP/VERSION``)."""
    group, version = arn.rsplit("/", 2)[-2:]
    return {"model_package_arn": arn, "version": int(version), "group": group, "status": status, **extra}


def metric_value(training: dict[str, Any], metric: str) -> float | None:
    """A metric of a job's result: one of its ``metrics``, or ``objective`` (by that name or its own)."""
    metrics = training.get("metrics") or {}
    if metric in metrics:
        return float(metrics[metric])
    objective = training.get("objective") or {}
    if objective.get("value") is not None and metric in ("objective", objective.get("name")):
        return float(objective["value"])
    return None


def _publish_approved(operator: AwsBaseOperator, context: Context, alias: str | None, package: dict) -> None:
    """An asset event for an approved version (the group is the asset; the version is in ``extra``)."""
    if not alias or package["status"] != APPROVED:
        return
    _, partition, _, region, account, _ = package["model_package_arn"].split(":", 5)
    group_arn = f"arn:{partition}:sagemaker:{region}:{account}:model-package-group/{package['group']}"
    asset = Asset(name=group_arn, uri=model_package_asset_uri(account, region, package["group"]))
    context["outlet_events"][AssetAlias(name=alias)].add(asset, extra=dict(package))
    operator.log.info("Published approved version %s as asset %s", package["model_package_arn"], asset.uri)


def _card_hook(operator: AwsBaseOperator) -> Any:
    """The model card hook on the operator's connection (imported when a card is written)."""
    from mlops_orchestrator.hooks.sagemaker_model_card import ModelCardHook

    return ModelCardHook(aws_conn_id=operator.aws_conn_id, region_name=operator.region_name, verify=operator.verify)


class RegisterModelVersionOperator(AwsBaseOperator[SageMakerHook]):
    """
    Register a training job's model as a new version of a model package group.

    The provider's ``SageMakerRegisterModelVersionOperator`` registers a new version on every call;
    a retried task would leave two versions for one DAG run. Here the version carries the DAG id
    and run id in its CustomerMetadataProperties (and a ClientToken derived from them), and a retry
    returns the version its run already registered. The group is created when missing. The job's
    metrics go into CustomerMetadataProperties (``metric:NAME``) and, with ``metrics_location``, into
    a JSON file referenced as the version's ModelMetrics.

    :param model_package_group_name: the group (created when missing).
    :param training: the training operator's XCom (``containers``, ``metrics``, ``objective``,
        ``job_name``, ``job_type``, ``model_data_url``); templated, e.g. ``train.output``.
    :param approval_status: ``PendingManualApproval`` (a decision follows) or ``Approved``.
    :param metrics_location: ``s3://bucket/prefix`` under which ``{job_name}/model-metrics.json`` is written.
    :param asset_alias: alias to publish the version under when it is registered Approved.
    :param model_card: settings of the version's model card (``model_cards.versions``; None: no card):
        the card is written after registering, and brought up to date on a retry.
    :return: ``{"model_package_arn", "version", "group", "status", "metrics", "training_job"}``
        (plus ``model_card``, the card's name).
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields(
        "model_package_group_name", "training", "approval_status", "description", "metrics_location"
    )
    template_fields_renderers = {"training": "json"}
    ui_color = "#e5dbff"

    def __init__(
        self,
        *,
        model_package_group_name: str,
        training: Any,
        approval_status: str = PENDING,
        content_types: Iterable[str] = ("text/csv",),
        response_types: Iterable[str] = ("text/csv",),
        inference_instances: Iterable[str] = (),
        transform_instances: Iterable[str] = (),
        description: str | None = None,
        metrics_location: str | None = None,
        tags: dict[str, str] | None = None,
        asset_alias: str | None = None,
        share_with_accounts: Iterable[str] = (),
        model_card: dict[str, Any] | None = None,
        **kwargs,
    ):
        if asset_alias:
            kwargs["outlets"] = [*(kwargs.get("outlets") or []), AssetAlias(name=asset_alias)]
        super().__init__(**kwargs)
        if approval_status not in (PENDING, APPROVED):
            raise ValueError(f"approval_status must be {PENDING} or {APPROVED}, got {approval_status!r}")
        self.model_package_group_name = model_package_group_name
        self.training = training
        self.approval_status = approval_status
        self.content_types = list(content_types)
        self.response_types = list(response_types)
        self.inference_instances = list(inference_instances)
        self.transform_instances = list(transform_instances)
        self.description = description
        self.metrics_location = metrics_location
        self.tags = tags or {}
        self.asset_alias = asset_alias
        self.share_with_accounts = sorted(set(share_with_accounts))
        self.model_card = model_card

    def execute(self, context: Context) -> dict[str, Any]:
        training = self.training or {}
        group = self.model_package_group_name
        if training.get("definition_only") or not training.get("containers"):
            raise AirflowFailException(
                f"Cannot register a version in model package group {group}: job "
                f"{training.get('job_name')!r} produced no model (definition only, or no containers)"
            )
        dag_run = context["dag_run"]
        self._ensure_group(group)
        if self.share_with_accounts:
            self._share_group(group)
        existing = self._version_of_run(group, dag_run)
        if existing is not None:
            self.log.info(
                "Version %s was already registered by this DAG run (%s): using it, not registering another.",
                existing["ModelPackageArn"],
                dag_run.run_id,
            )
            package = package_summary(
                existing["ModelPackageArn"],
                existing["ModelApprovalStatus"],
                metrics=training.get("metrics") or {},
                training_job=training.get("job_name"),
            )
        else:
            arn = self.hook.conn.create_model_package(**self._request(group, training, dag_run))["ModelPackageArn"]
            self.log.info("Registered %s (%s) from job %s", arn, self.approval_status, training.get("job_name"))
            package = package_summary(
                arn, self.approval_status, metrics=training.get("metrics") or {}, training_job=training.get("job_name")
            )
        if self.model_card is not None:
            from mlops_orchestrator.model_cards.versions import sync_registered_version

            card = sync_registered_version(
                _card_hook(self),
                package["model_package_arn"],
                training,
                self.model_card,
                dag_id=dag_run.dag_id,
                run_id=dag_run.run_id,
                tags=self.tags,
            )
            self.log.info("Model card %s (%s): %s", card["model_card_name"], card["model_card_status"], card["outcome"])
            package["model_card"] = card["model_card_name"]
        _publish_approved(self, context, self.asset_alias, package)
        return package

    # -- helpers -------------------------------------------------------------------------------

    def _ensure_group(self, group: str) -> None:
        try:
            self.hook.conn.describe_model_package_group(ModelPackageGroupName=group)
            return
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ValidationException":
                raise
        self.log.info("Model package group %s does not exist: creating it.", group)
        try:
            self.hook.conn.create_model_package_group(
                ModelPackageGroupName=group,
                ModelPackageGroupDescription=f"Created by mlops-orchestrator DAG {self.dag_id}"[:1024],
                Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
            )
        except ClientError as err:  # created meanwhile by another run
            if "already exists" not in str(err):
                raise

    def _share_group(self, group: str) -> None:
        """
        Let the stage accounts read this group's versions (the group's resource policy), so their
        stacks can deploy a version by its ARN. Only our statement (Sid ``SHARE_SID``) is replaced;
        statements someone else put in the policy are kept. CloudFormation cannot do this: the
        policy is a property of AWS::SageMaker::ModelPackageGroup, and the group is created by the
        first registration, not by a stack.
        """
        conn = self.hook.conn
        group_arn = conn.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
        packages = group_arn.replace(":model-package-group/", ":model-package/", 1) + "/*"
        partition = group_arn.split(":")[1]
        statement = {
            "Sid": SHARE_SID,
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:{partition}:iam::{account}:root" for account in self.share_with_accounts]},
            "Action": ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"],
            "Resource": [group_arn, packages],
        }
        try:
            current = json.loads(conn.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"])
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            current = {"Version": "2012-10-17", "Statement": []}
        statements = [s for s in current.get("Statement", []) if s.get("Sid") != SHARE_SID]
        wanted = {**current, "Statement": [*statements, statement]}
        if wanted == current:
            return
        conn.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=json.dumps(wanted))
        self.log.info(
            "Model package group %s: its versions may be read by the stage accounts %s.",
            group,
            ", ".join(self.share_with_accounts),
        )

    def _version_of_run(self, group: str, dag_run: Any) -> dict[str, Any] | None:
        """The version this DAG run registered before (a retry), found among the group's newest."""
        since = getattr(dag_run, "start_date", None)
        paginator = self.hook.conn.get_paginator("list_model_packages")
        pages = paginator.paginate(
            ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
        )
        for page in pages:
            for summary in page.get("ModelPackageSummaryList", []):
                created = summary.get("CreationTime")
                if since is not None and created is not None and created < since - _CLOCK_SLACK:
                    return None  # older than this run: it cannot have registered anything further down
                package = self.hook.conn.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
                props = package.get("CustomerMetadataProperties") or {}
                if props.get(RUN_ID_KEY) == dag_run.run_id and props.get(DAG_ID_KEY) == dag_run.dag_id:
                    return package
        return None

    def _request(self, group: str, training: dict[str, Any], dag_run: Any) -> dict[str, Any]:
        containers = [
            {key: value for key, value in container.items() if key in ("Image", "ModelDataUrl", "Environment") and value}
            for container in training["containers"]
        ]
        specification: dict[str, Any] = {
            "Containers": containers,
            "SupportedContentTypes": self.content_types,
            "SupportedResponseMIMETypes": self.response_types,
        }
        if self.inference_instances:
            specification["SupportedRealtimeInferenceInstanceTypes"] = self.inference_instances
        if self.transform_instances:
            specification["SupportedTransformInstanceTypes"] = self.transform_instances
        token = hashlib.sha256(f"{dag_run.dag_id}\n{dag_run.run_id}\n{group}".encode()).hexdigest()[:32]
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": (
                self.description or f"{training.get('job_type', 'Training')} job {training.get('job_name')}"
            )[:1024],
            "InferenceSpecification": specification,
            "ModelApprovalStatus": self.approval_status,
            "CustomerMetadataProperties": self._properties(training, dag_run),
            "ClientToken": token,
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
        }
        metrics_uri = self._write_metrics(training)
        if metrics_uri:
            request["ModelMetrics"] = {
                "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}
            }
        return request

    @staticmethod
    def _properties(training: dict[str, Any], dag_run: Any) -> dict[str, str]:
        props = {RUN_ID_KEY: dag_run.run_id[:256], DAG_ID_KEY: dag_run.dag_id[:256]}
        if training.get("job_name"):
            props[JOB_KEY] = str(training["job_name"])[:256]
        metrics = dict(training.get("metrics") or {})
        objective = training.get("objective") or {}
        if objective.get("name") and objective.get("value") is not None:
            props[_PROPERTY_KEY_BAD_CHARS.sub("_", f"objective:{objective['name']}")[:128]] = str(objective["value"])
        for name, value in sorted(metrics.items())[:_MAX_METRIC_PROPERTIES]:
            props[_PROPERTY_KEY_BAD_CHARS.sub("_", f"metric:{name}")[:128]] = str(value)[:256]
        return props

    def _write_metrics(self, training: dict[str, Any]) -> str | None:
        """The job's metrics as JSON next to its output, for the version's ModelMetrics."""
        if not self.metrics_location or not training.get("job_name"):
            return None
        uri = f"{self.metrics_location.rstrip('/')}/{training['job_name']}/model-metrics.json"
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        body = {
            "training_job": training.get("job_name"),
            "job_type": training.get("job_type"),
            "metrics": {name: {"value": value} for name, value in (training.get("metrics") or {}).items()},
            "objective": training.get("objective"),
        }
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)
        s3.load_string(json.dumps(body, indent=2), key=key, bucket_name=bucket, replace=True)
        return uri


class SetApprovalStatusOperator(AwsBaseOperator[SageMakerHook]):
    """
    Set a model package version's approval status (Approved or Rejected) with a description.

    Approving publishes the version as an asset event (``asset_alias``); rejecting says in the
    task log why, and that nothing of this version is deployed.

    :param model_package_arn: the version (templated, e.g. from ``register_model``).
    :param approval_status: ``Approved`` or ``Rejected``.
    :param approval_description: why (templated, e.g. the threshold's or the person's decision).
    :param model_card: settings of the version's model card (None: no card); its approval status,
        description and card status are brought in step with the decision.
    :return: ``{"model_package_arn", "version", "group", "status", "description"}``.
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields(
        "model_package_arn", "approval_status", "approval_description"
    )
    ui_color = "#e5dbff"

    def __init__(
        self,
        *,
        model_package_arn: str,
        approval_status: str,
        approval_description: str | None = None,
        asset_alias: str | None = None,
        model_card: dict[str, Any] | None = None,
        **kwargs,
    ):
        if asset_alias and approval_status == APPROVED:
            kwargs["outlets"] = [*(kwargs.get("outlets") or []), AssetAlias(name=asset_alias)]
        super().__init__(**kwargs)
        self.model_package_arn = model_package_arn
        self.approval_status = approval_status
        self.approval_description = approval_description
        self.asset_alias = asset_alias
        self.model_card = model_card

    def execute(self, context: Context) -> dict[str, Any]:
        if self.approval_status not in (APPROVED, REJECTED):
            raise AirflowFailException(
                f"approval_status of {self.model_package_arn} must be {APPROVED} or {REJECTED}, "
                f"got {self.approval_status!r}"
            )
        description = (self.approval_description or "")[:1024]
        request = {"ModelPackageArn": self.model_package_arn, "ModelApprovalStatus": self.approval_status}
        if description:
            request["ApprovalDescription"] = description
        self.hook.conn.update_model_package(**request)
        package = package_summary(self.model_package_arn, self.approval_status, description=description)
        if self.model_card is not None:
            from mlops_orchestrator.model_cards.versions import sync_approval

            dag_run = context["dag_run"]
            card = sync_approval(
                _card_hook(self), self.model_package_arn, self.model_card, dag_id=dag_run.dag_id, run_id=dag_run.run_id
            )
            self.log.info("Model card %s (%s): %s", card["model_card_name"], card["model_card_status"], card["outcome"])
            package["model_card"] = card["model_card_name"]
        if self.approval_status == APPROVED:
            self.log.info("Model package %s is Approved: %s", self.model_package_arn, description)
            _publish_approved(self, context, self.asset_alias, package)
        else:
            self.log.warning(
                "Model package %s is Rejected: %s. Nothing of this version is deployed.",
                self.model_package_arn,
                description,
            )
        return package


class ApprovalThresholdOperator(BaseBranchOperator):
    """
    Decide a version's approval from a metric of its training job: approve when it is within
    ``min``/``max``, reject otherwise; branch to ``approve_task_id`` or ``reject_task_id``.

    A metric the job did not report fails the task (listing those it did): approving or rejecting
    on a misspelt metric name would be a silent wrong decision.

    :param training: the training operator's XCom (templated, e.g. ``train.output``).
    :param metric: a name in its ``metrics``, or ``objective``.
    :return: the branch taken; XCom ``decision`` holds ``{"status", "description", "metric", "value"}``.
    """

    template_fields: Sequence[str] = ("training",)
    template_fields_renderers = {"training": "json"}
    ui_color = "#e5dbff"

    def __init__(
        self,
        *,
        training: Any,
        metric: str,
        approve_task_id: str,
        reject_task_id: str,
        min_value: float | None = None,
        max_value: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if min_value is None and max_value is None:
            raise ValueError("give min_value or max_value")
        self.training = training
        self.metric = metric
        self.min_value = min_value
        self.max_value = max_value
        self.approve_task_id = approve_task_id
        self.reject_task_id = reject_task_id

    def bounds(self) -> str:
        parts = [f">= {self.min_value}"] if self.min_value is not None else []
        parts += [f"<= {self.max_value}"] if self.max_value is not None else []
        return " and ".join(parts)

    def choose_branch(self, context: Context) -> str:
        training = self.training or {}
        value = metric_value(training, self.metric)
        if value is None:
            known = sorted(training.get("metrics") or {})
            objective = (training.get("objective") or {}).get("name")
            raise AirflowFailException(
                f"approval_threshold: job {training.get('job_name')!r} reported no metric {self.metric!r} "
                f"(it reported: {', '.join(known) or 'none'}{f'; objective {objective}' if objective else ''})"
            )
        passed = (self.min_value is None or value >= self.min_value) and (
            self.max_value is None or value <= self.max_value
        )
        status = APPROVED if passed else REJECTED
        verdict = "meets" if passed else "does not meet"
        description = f"{self.metric} = {value:g} {verdict} the threshold {self.metric} {self.bounds()}"
        self.log.info("%s: %s", status, description)
        context["ti"].xcom_push(
            key="decision", value={"status": status, "description": description, "metric": self.metric, "value": value}
        )
        return self.approve_task_id if passed else self.reject_task_id


class ModelApprovalGateOperator(HITLBranchOperator):
    """
    A person approves or rejects the registered version in the Airflow UI (Required Actions).

    Airflow's ``ApprovalOperator`` skips everything downstream on Reject, so the rejection could
    not reach SageMaker; this gate is Airflow's human-in-the-loop branch with the same two options,
    leading to the task that approves and the task that rejects the version. An optional comment
    becomes the version's ApprovalDescription. With ``response_timeout``, a version nobody answered for
    in time is rejected. XCom ``decision`` holds ``{"status", "description", "by"}``.
    """

    APPROVE = "Approve"
    REJECT = "Reject"

    def __init__(
        self, *, approve_task_id: str, reject_task_id: str, response_timeout: timedelta | None = None, **kwargs
    ):
        params = with_comment_param(kwargs, "why (kept with the version)")
        super().__init__(
            options=[self.APPROVE, self.REJECT],
            multiple=False,
            options_mapping={self.APPROVE: approve_task_id, self.REJECT: reject_task_id},
            params=params,
            # Unanswered in time: rejected (a pending version must not block the next runs forever).
            response_timeout=response_timeout,
            defaults=[self.REJECT] if response_timeout else None,
            **kwargs,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        answer = HitlAnswer.of(event)
        status = APPROVED if answer.chosen == self.APPROVE else REJECTED
        if answer.timed_out:
            description = f"{status}: nobody answered in Airflow within {hours(self.response_timeout):g} hour(s)"
        else:
            description = f"{status} by {answer.by} in Airflow" + (f": {answer.comment}" if answer.comment else "")
        context["ti"].xcom_push(key="decision", value={"status": status, "description": description, "by": answer.by})
        return super().execute_complete(context, event)
