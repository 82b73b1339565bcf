"""The model card of each model version a training DAG registers, kept in step with its approval.

MWO left model cards to hand-written API calls; here every registered version gets one, linked to
it the way SageMaker links cards and versions (``model_package_details`` with the version's ARN,
approval status and approval description), holding the training job (ARN, image, datasets, final
metrics, hyperparameters; for Autopilot the job's metrics and objective), the intended uses from
the config, and which DAG run made it.

- The card is named after the version (``{group}-v{version}``, at most 63 characters), so a
  retried task finds the card its run made instead of creating a second one.
- ``register_model`` writes it when the version is registered; ``approve_model_version`` /
  ``reject_model_version`` refresh its ``model_package_details`` from the version (status,
  description) and its card status: PendingManualApproval -> PendingReview, Approved -> Approved,
  Rejected -> Archived (a rejected version is never deployed).
- Only what changed is written (status and content separately, as the SageMaker SDK does), so a
  retry writes nothing new.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from mlops_orchestrator.hooks.sagemaker_model_card import ModelCardHook
from mlops_orchestrator.model_cards.content import training_job_details

#: A version's approval status -> its card's status.
CARD_STATUS = {"PendingManualApproval": "PendingReview", "Approved": "Approved", "Rejected": "Archived"}
_MAX_NAME = 63


def version_card_name(group: str, version: int) -> str:
    """``{group}-v{version}``, the group cut so the name stays within SageMaker's 63 characters."""
    suffix = f"-v{version}"
    return f"{group[: _MAX_NAME - len(suffix)]}{suffix}"


def package_details(package: dict[str, Any]) -> dict[str, Any]:
    """The card's ``model_package_details`` from DescribeModelPackage (the SDK's field mapping)."""
    details: dict[str, Any] = {
        "model_package_arn": package["ModelPackageArn"],
        "model_package_group_name": package.get("ModelPackageGroupName"),
        "model_package_version": package.get("ModelPackageVersion"),
        "model_package_name": package.get("ModelPackageName"),
        "model_package_status": package.get("ModelPackageStatus"),
        "model_approval_status": package.get("ModelApprovalStatus"),
        "approval_description": package.get("ApprovalDescription"),
        "model_package_description": package.get("ModelPackageDescription"),
    }
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or []
    if containers:
        details["inference_specification"] = {
            "containers": [
                {key: value for key, value in (("image", c.get("Image")), ("model_data_url", c.get("ModelDataUrl"))) if value}
                for c in containers
            ]
        }
    return {key: value for key, value in details.items() if value is not None}


def _training_section(training: dict[str, Any], job: dict[str, Any] | None) -> dict[str, Any]:
    section: dict[str, Any] = {}
    if job is not None:
        section["training_job_details"] = training_job_details(job)
    metrics = training.get("metrics") or {}
    reported = {m["name"] for m in (section.get("training_job_details") or {}).get("training_metrics", [])}
    extra = [
        {"name": name, "value": value}
        for name, value in sorted(metrics.items())
        if name not in reported and isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if extra:
        section.setdefault("training_job_details", {})["user_provided_training_metrics"] = extra[:50]
    objective = training.get("objective") or {}
    kind = training.get("job_type") or "training"
    notes = f"{kind} job {training.get('job_name')}"
    if objective.get("name") is not None:
        notes += f"; objective {objective['name']} = {objective.get('value')}"
    if training.get("best_candidate"):
        notes += f"; best candidate {training['best_candidate']}"
    section["training_observations"] = notes
    return section


def version_card_content(
    package: dict[str, Any],
    training: dict[str, Any],
    training_job: dict[str, Any] | None,
    settings: dict[str, Any],
    *,
    dag_id: str,
    run_id: str,
) -> dict[str, Any]:
    """The whole card of a version: package details, overview, training, intended uses, provenance."""
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or []
    overview: dict[str, Any] = {
        "model_description": package.get("ModelPackageDescription"),
        "model_version": package.get("ModelPackageVersion"),
        "algorithm_type": settings.get("algorithm_type"),
        "problem_type": settings.get("problem_type"),
        "model_creator": f"mlops-orchestrator DAG {dag_id}",
        "model_owner": settings.get("model_owner"),
        "model_artifact": [c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")][:15],
        "inference_environment": {"container_image": [c["Image"] for c in containers if c.get("Image")][:15]},
    }
    content: dict[str, Any] = {
        "model_package_details": package_details(package),
        "model_overview": {k: v for k, v in overview.items() if v not in (None, [], {"container_image": []})},
        "training_details": _training_section(training, training_job),
    }
    if settings.get("intended_uses"):
        content["intended_uses"] = settings["intended_uses"]
    information = dict(settings.get("additional_information") or {})
    information["custom_details"] = {
        **(information.get("custom_details") or {}),
        "dag_id": dag_id,
        "run_id": run_id,
        "training_job": training.get("job_name"),
    }
    content["additional_information"] = information
    return content


def _training_job(hook: ModelCardHook, training: dict[str, Any]) -> dict[str, Any] | None:
    """The training job behind the model: the job itself, or a tuning job's best (Autopilot: none)."""
    name = training.get("best_training_job") or (training.get("job_name") if training.get("job_type") == "training" else None)
    if not name:
        return None
    try:
        return hook.conn.describe_training_job(TrainingJobName=name)
    except ClientError:
        return None


def write_card(hook: ModelCardHook, name: str, content: dict[str, Any], status: str, tags: dict[str, str]) -> str:
    """Create the card, or bring an existing one (a retry's) to this content and status."""
    if hook.describe_card(name) is None:
        try:
            hook.create_card(name, content, status, tags)
            return "created"
        except ClientError as err:
            if "already exists" not in str(err):
                raise  # else created meanwhile by a concurrent try: update it below
    changed = hook.update_card(name, content=content, status=status)
    return f"updated ({', '.join(changed)})" if changed else "unchanged"


def sync_registered_version(
    hook: ModelCardHook,
    package_arn: str,
    training: dict[str, Any],
    settings: dict[str, Any],
    *,
    dag_id: str,
    run_id: str,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Write the card of a version ``register_model`` registered (or found again on retry)."""
    package = hook.conn.describe_model_package(ModelPackageName=package_arn)
    name = version_card_name(package["ModelPackageGroupName"], package["ModelPackageVersion"])
    content = version_card_content(package, training, _training_job(hook, training), settings, dag_id=dag_id, run_id=run_id)
    status = CARD_STATUS.get(package.get("ModelApprovalStatus"), "Draft")
    outcome = write_card(hook, name, content, status, tags or {})
    return {"model_card_name": name, "model_card_status": status, "outcome": outcome}


def sync_approval(
    hook: ModelCardHook, package_arn: str, settings: dict[str, Any], *, dag_id: str, run_id: str
) -> dict[str, Any]:
    """Bring a version's card to its current approval (status and description)."""
    package = hook.conn.describe_model_package(ModelPackageName=package_arn)
    name = version_card_name(package["ModelPackageGroupName"], package["ModelPackageVersion"])
    status = CARD_STATUS.get(package.get("ModelApprovalStatus"), "Draft")
    card = hook.describe_card(name)
    if card is None:  # registered before cards were kept, or its card was deleted: write it whole
        content = version_card_content(package, {}, None, settings, dag_id=dag_id, run_id=run_id)
    else:
        content = {**json.loads(card.get("Content") or "{}"), "model_package_details": package_details(package)}
    outcome = write_card(hook, name, content, status, {})
    return {"model_card_name": name, "model_card_status": status, "outcome": outcome}
