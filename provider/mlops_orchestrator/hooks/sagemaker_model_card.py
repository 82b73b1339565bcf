"""SageMaker model cards: the provider's SageMakerHook with the calls a card's life takes.

The Amazon provider has no model card support and boto3 no export waiter. A card is written the
way the SageMaker SDK writes one: status and content in separate UpdateModelCard calls, each only
when it changed (an unchanged update would be a new version for nothing); an export waits with our
``ModelCardExportJobComplete`` waiter (``waiters/sagemaker_model_card.json``).
"""

from __future__ import annotations

import contextlib
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from botocore.exceptions import ClientError, WaiterError

#: The error codes SageMaker answers for a card (or card version) that does not exist.
NOT_FOUND = frozenset({"ResourceNotFound", "ResourceNotFoundException"})


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def canonical(content: dict[str, Any]) -> str:
    """Content as stored: compact JSON with sorted keys, so equal content compares equal."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


class ModelCardHook(SageMakerHook):
    """SageMakerHook whose custom waiters are ours (``ModelCardExportJobComplete``)."""

    @cached_property
    def waiter_path(self) -> Path:
        return Path(__file__).resolve().parents[1] / "waiters" / "sagemaker_model_card.json"

    def describe_card(self, name: str, version: int | None = None) -> dict[str, Any] | None:
        """DescribeModelCard (a version, or the latest); None when there is no such card."""
        request: dict[str, Any] = {"ModelCardName": name}
        if version:
            request["ModelCardVersion"] = int(version)
        try:
            return self.conn.describe_model_card(**request)
        except ClientError as err:
            if error_code(err) in NOT_FOUND:
                return None
            raise

    def create_card(self, name: str, content: dict[str, Any], status: str, tags: dict[str, str] | None = None) -> str:
        request: dict[str, Any] = {"ModelCardName": name, "Content": canonical(content), "ModelCardStatus": status}
        if tags:
            request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        return self.conn.create_model_card(**request)["ModelCardArn"]

    def update_card(
        self, name: str, *, content: dict[str, Any] | None = None, status: str | None = None
    ) -> list[str]:
        """
        Write what differs from the card's latest version (status, then content), as the SDK
        does; returns what changed (``["status", "content"]``, or nothing).
        """
        current = self.describe_card(name)
        if current is None:
            raise ValueError(f"Model card {name} does not exist")
        changed = []
        if status is not None and status != current.get("ModelCardStatus"):
            self.conn.update_model_card(ModelCardName=name, ModelCardStatus=status)
            changed.append("status")
        if content is not None:
            try:
                previous = json.loads(current.get("Content") or "{}")
            except ValueError:
                previous = None
            if previous is None or canonical(previous) != canonical(content):
                self.conn.update_model_card(ModelCardName=name, Content=canonical(content))
                changed.append("content")
        return changed

    def export_card(
        self,
        name: str,
        job_name: str,
        s3_output_path: str,
        *,
        version: int | None = None,
        delay: int = 5,
        max_attempts: int = 120,
    ) -> dict[str, Any]:
        """Run an export job and wait for it; DescribeModelCardExportJob of the finished job."""
        request: dict[str, Any] = {
            "ModelCardName": name,
            "ModelCardExportJobName": job_name,
            "OutputConfig": {"S3OutputPath": s3_output_path},
        }
        if version:
            request["ModelCardVersion"] = int(version)
        arn = self.conn.create_model_card_export_job(**request)["ModelCardExportJobArn"]
        waiter = self.get_waiter("ModelCardExportJobComplete")
        # Failed, or still running: the job's own description says which and why.
        with contextlib.suppress(WaiterError):
            waiter.wait(ModelCardExportJobArn=arn, WaiterConfig={"Delay": delay, "MaxAttempts": max_attempts})
        return self.conn.describe_model_card_export_job(ModelCardExportJobArn=arn)
