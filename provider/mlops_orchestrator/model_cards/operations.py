"""The six MWO model card operations, each as MWO's SageMaker SDK calls did them."""

from __future__ import annotations

import json
from typing import Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from botocore.exceptions import ClientError

from mlops_orchestrator.config.errors import Problem
from mlops_orchestrator.hooks.sagemaker_model_card import NOT_FOUND, ModelCardHook, error_code
from mlops_orchestrator.model_cards import (
    EXPORT_PREFIX,
    SOURCE,
    ModelCardRequestError,
    export_job_name,
)
from mlops_orchestrator.model_cards.content import DiscoveryError, build_content
from mlops_orchestrator.model_cards.request import ModelCardRequest


def _problem(field: str, message: str) -> ModelCardRequestError:
    return ModelCardRequestError([Problem(SOURCE, field, message)])


def perform(request: ModelCardRequest, *, aws_conn_id: str, region_name: str | None, assets_bucket: str | None) -> dict:
    hook = ModelCardHook(aws_conn_id=aws_conn_id, region_name=region_name)
    operation = request.pipeline_type
    try:
        if operation == "list_model_cards":
            return _list(hook)
        if operation == "describe_model_card":
            return _existing(hook, request.name, request.version)
        if operation == "delete_model_card":
            card = _existing(hook, request.name)
            hook.conn.delete_model_card(ModelCardName=request.name)
            return {
                "message": f"Model card with the name: {request.name} has been deleted",
                "ModelCardName": request.name,
                "ModelCardArn": card["ModelCardArn"],
            }
        if operation == "export_model_card":
            return _export(hook, request, assets_bucket)
        s3 = S3Hook(aws_conn_id=aws_conn_id, region_name=region_name).conn
        content = build_content(request, hook.conn, s3)
        if operation == "create_model_card":
            if hook.describe_card(request.name) is not None:
                raise _problem("name", f"a model card named {request.name!r} already exists (update_model_card changes it)")
            hook.create_card(request.name, content, request.status or "Draft")
        else:
            _update(hook, request, content)
        return hook.describe_card(request.name) or {}
    except DiscoveryError as exc:
        raise _problem(exc.field, exc.message) from None
    except ClientError as err:
        if error_code(err) == "ValidationException":
            raise _problem("", f"SageMaker refused the model card: {err.response['Error'].get('Message')}") from None
        raise


def _existing(hook: ModelCardHook, name: str | None, version: int | None = None) -> dict[str, Any]:
    card = hook.describe_card(name or "", version)
    if card is None:
        which = f" with version {version}" if version else ""
        raise _problem("version" if version and hook.describe_card(name or "") else "name", f"no model card named {name!r}{which}")
    return card


def _list(hook: ModelCardHook) -> dict[str, Any]:
    summaries: list[dict[str, Any]] = []
    for page in hook.conn.get_paginator("list_model_cards").paginate():
        summaries.extend(page.get("ModelCardSummaries", []))
    return {"ModelCardSummaries": summaries}


def _update(hook: ModelCardHook, request: ModelCardRequest, content: dict[str, Any]) -> None:
    """MWO's update: load the card (``version`` if given), replace the sections the body gives, write."""
    base = _existing(hook, request.name, request.version)
    merged = {**json.loads(base.get("Content") or "{}"), **content}
    hook.update_card(request.name, content=merged, status=request.status)


def _export(hook: ModelCardHook, request: ModelCardRequest, assets_bucket: str | None) -> dict[str, Any]:
    version = request.model_card_version
    _existing(hook, request.name, version)
    job_name = request.export_job_name or export_job_name(request.name or "card")
    output = f"s3://{assets_bucket}/{EXPORT_PREFIX}"
    try:
        job = hook.export_card(request.name, job_name, output, version=version)
    except ClientError as err:
        if error_code(err) in NOT_FOUND:
            raise _problem("name", f"no model card named {request.name!r}") from None
        if "already exists" in str(err) or error_code(err) == "ConflictException":
            raise _problem("export_job_name", f"an export job named {job_name!r} already exists for this card") from None
        raise
    status = job.get("Status")
    if status != "Completed":
        reason = job.get("FailureReason") or f"still {status} after waiting"
        raise RuntimeError(f"Model card {request.name} export job {job_name} did not complete: {reason}")
    pdf = (job.get("ExportArtifacts") or {}).get("S3ExportArtifacts")
    return {**job, "message": f"Model card with the name: {request.name} has been exported to {output}", "pdf": pdf}
