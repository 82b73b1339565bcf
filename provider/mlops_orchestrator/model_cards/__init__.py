"""MWO's model card operations: the request bodies of ``create_model_card`` ... ``list_model_cards``.

MWO routed these ``pipeline_type`` values of ``POST /provisionpipeline`` to SageMaker model cards
(``solution_model_card.py``); :func:`handle_request` does the same against SageMaker (or the
emulator) and answers with SageMaker's result. The plugin's API calls it; so can any script.

What each operation answers (datetimes as ISO 8601 strings, no ResponseMetadata):

- create, update, describe: DescribeModelCard of the card (``describe`` with ``version``: that
  version), as MWO answered; ``update`` changes only the sections and status the body gives;
- list: ListModelCards (every page), as MWO answered;
- delete: ``{"message": "Model card with the name: NAME has been deleted", "ModelCardName": ...,
  "ModelCardArn": ...}`` (MWO's message; SageMaker answers nothing);
- export: DescribeModelCardExportJob of the finished job (``ExportArtifacts.S3ExportArtifacts`` is
  the PDF under ``s3://{assets_bucket}/model_card_exports/``) plus MWO's ``message``.

A body that is wrong, or names a card, model, job or file that does not exist, raises
:class:`ModelCardRequestError` whose ``problems`` name each field, like config validation. Other
AWS errors (access denied, throttling) propagate as botocore's ``ClientError``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from mlops_orchestrator.config.errors import Problem
from mlops_orchestrator.model_cards.request import OPERATIONS, ModelCardRequest, parse_request

__all__ = [
    "EXPORT_PREFIX",
    "OPERATIONS",
    "ModelCardRequest",
    "ModelCardRequestError",
    "handle_request",
    "is_model_card_request",
]

#: Where exports go in the assets bucket (MWO's ``s3://{ASSETS_BUCKET}/model_card_exports``).
EXPORT_PREFIX = "model_card_exports"
SOURCE = "request body"


class ModelCardRequestError(ValueError):
    """A model card request that cannot be done; ``problems`` say which field and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.format() for p in self.problems))


def is_model_card_request(body: Any) -> bool:
    """Whether a provisionpipeline body is one of the model card operations."""
    return isinstance(body, dict) and body.get("pipeline_type") in OPERATIONS


def handle_request(
    body: dict, *, aws_conn_id: str, region_name: str | None, assets_bucket: str | None
) -> dict:
    """Perform one MWO model card request against SageMaker; SageMaker's result (see the module)."""
    request, problems = parse_request(body, SOURCE)
    if request is None:
        raise ModelCardRequestError(problems)
    if request.pipeline_type == "export_model_card" and not assets_bucket:
        raise ModelCardRequestError(
            [
                Problem(
                    SOURCE,
                    "pipeline_type",
                    "export_model_card writes the PDF to the assets bucket, and none is set "
                    "(assets_bucket in defaults.yaml, or MLOPS_ORCHESTRATOR_ASSETS_BUCKET)",
                )
            ]
        )
    from mlops_orchestrator.model_cards.operations import perform

    return json_safe(perform(request, aws_conn_id=aws_conn_id, region_name=region_name, assets_bucket=assets_bucket))


def export_job_name(card_name: str, now: datetime | None = None) -> str:
    """A fresh export job name: ``{card}-{UTC time}-{random}`` (at most 63 characters), as the SDK made."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{card_name[:63 - 21].rstrip('-')}-{stamp}-{secrets.token_hex(2)}"


def json_safe(value: Any) -> Any:
    """SageMaker's answer as JSON values: datetimes as ISO 8601, no ResponseMetadata."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value

