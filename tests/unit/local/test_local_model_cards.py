"""SageMaker model cards in the emulator: content kept across updates, content checks, PDF exports."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

BUCKET = "card-exports"
CONTENT = {"intended_uses": {"purpose_of_model": "churn", "risk_rating": "Low"}}


@pytest.fixture
def s3(aws_client: Any) -> Any:
    client = aws_client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def card(sagemaker: Any) -> str:
    sagemaker.create_model_card(ModelCardName="churn", Content=json.dumps(CONTENT), ModelCardStatus="Draft")
    return "churn"


def wait_for_export(sagemaker: Any, arn: str) -> dict[str, Any]:
    for _ in range(200):
        described = sagemaker.describe_model_card_export_job(ModelCardExportJobArn=arn)
        if described["Status"] != "InProgress":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{arn} never ended")


def test_a_status_change_keeps_the_content_and_a_content_change_keeps_the_status(sagemaker: Any, card: str) -> None:
    sagemaker.update_model_card(ModelCardName=card, ModelCardStatus="PendingReview")
    described = sagemaker.describe_model_card(ModelCardName=card)
    assert json.loads(described["Content"]) == CONTENT
    assert (described["ModelCardStatus"], described["ModelCardVersion"]) == ("PendingReview", 2)

    changed = {**CONTENT, "additional_information": {"ethical_considerations": "none"}}
    sagemaker.update_model_card(ModelCardName=card, Content=json.dumps(changed))
    described = sagemaker.describe_model_card(ModelCardName=card)
    assert json.loads(described["Content"]) == changed
    assert (described["ModelCardStatus"], described["ModelCardVersion"]) == ("PendingReview", 3)
    assert described["LastModifiedTime"] > described["CreationTime"]
    first = sagemaker.describe_model_card(ModelCardName=card, ModelCardVersion=1)
    assert (json.loads(first["Content"]), first["ModelCardStatus"]) == (CONTENT, "Draft")


def test_content_must_be_a_json_object_of_model_card_sections(sagemaker: Any, card: str) -> None:
    with pytest.raises(ClientError, match="not valid JSON"):
        sagemaker.create_model_card(ModelCardName="bad", Content="{nope", ModelCardStatus="Draft")
    with pytest.raises(ClientError, match="unknown section.*model_overveiw"):
        sagemaker.update_model_card(ModelCardName=card, Content=json.dumps({"model_overveiw": {}}))
    with pytest.raises(ClientError, match="Member must satisfy enum value set"):
        sagemaker.update_model_card(ModelCardName=card, ModelCardStatus="Done")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        sagemaker.update_model_card(ModelCardName="missing", ModelCardStatus="Draft")
    assert sagemaker.describe_model_card(ModelCardName=card)["ModelCardVersion"] == 1


def test_an_export_job_runs_then_writes_a_pdf_of_the_version(sagemaker: Any, s3: Any, card: str) -> None:
    sagemaker.update_model_card(ModelCardName=card, ModelCardStatus="Approved")
    arn = sagemaker.create_model_card_export_job(
        ModelCardName=card,
        ModelCardVersion=1,
        ModelCardExportJobName="export-1",
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/exports"},
    )["ModelCardExportJobArn"]
    assert arn.endswith(":model-card/churn/export-job/export-1")
    assert sagemaker.describe_model_card_export_job(ModelCardExportJobArn=arn)["Status"] == "InProgress"

    done = wait_for_export(sagemaker, arn)
    assert done["Status"] == "Completed"
    assert done["ModelCardVersion"] == 1
    pdf_uri = done["ExportArtifacts"]["S3ExportArtifacts"]
    assert pdf_uri == f"s3://{BUCKET}/exports/churn/export-1/churn-1.pdf"
    pdf = s3.get_object(Bucket=BUCKET, Key="exports/churn/export-1/churn-1.pdf")["Body"].read()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(Model card: churn)" in pdf and b"status Draft" in pdf  # version 1 was a draft
    assert b"intended_uses.purpose_of_model: churn" in pdf

    summaries = sagemaker.list_model_card_export_jobs(ModelCardName=card)["ModelCardExportJobSummaries"]
    assert [(s["ModelCardExportJobName"], s["Status"]) for s in summaries] == [("export-1", "Completed")]
    with pytest.raises(ClientError, match="already exists"):
        sagemaker.create_model_card_export_job(
            ModelCardName=card, ModelCardExportJobName="export-1", OutputConfig={"S3OutputPath": f"s3://{BUCKET}/x"}
        )


def test_an_export_fails_without_its_bucket_or_by_a_rule_and_needs_the_card(
    sagemaker: Any, s3: Any, card: str, control: Any
) -> None:
    arn = sagemaker.create_model_card_export_job(
        ModelCardName=card, ModelCardExportJobName="no-bucket", OutputConfig={"S3OutputPath": "s3://no-such-bucket/x"}
    )["ModelCardExportJobArn"]
    failed = wait_for_export(sagemaker, arn)
    assert failed["Status"] == "Failed"
    assert "no-such-bucket" in failed["FailureReason"] and "ExportArtifacts" not in failed

    control.add_failure("model_card_export", match="ruled", reason="Internal rendering error")
    arn = sagemaker.create_model_card_export_job(
        ModelCardName=card, ModelCardExportJobName="ruled", OutputConfig={"S3OutputPath": f"s3://{BUCKET}/x"}
    )["ModelCardExportJobArn"]
    assert wait_for_export(sagemaker, arn)["FailureReason"] == "Internal rendering error"

    with pytest.raises(ClientError, match="ResourceNotFound"):
        sagemaker.create_model_card_export_job(
            ModelCardName="missing", ModelCardExportJobName="e", OutputConfig={"S3OutputPath": f"s3://{BUCKET}/x"}
        )
    with pytest.raises(ClientError, match="version: 7 does not exist"):
        sagemaker.create_model_card_export_job(
            ModelCardName=card,
            ModelCardVersion=7,
            ModelCardExportJobName="e",
            OutputConfig={"S3OutputPath": f"s3://{BUCKET}/x"},
        )
    statuses = sagemaker.list_model_card_export_jobs(ModelCardName=card, StatusEquals="Failed", SortBy="Name")
    assert [s["ModelCardExportJobName"] for s in statuses["ModelCardExportJobSummaries"]] == ["ruled", "no-bucket"]
