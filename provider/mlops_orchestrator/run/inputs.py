"""Sample inputs for a local run: the buckets and objects a config points at, made when missing.

Only ever used against the local emulator (``run --local`` and ``demo``): on AWS, inputs are the
user's data and are never invented.
"""

from __future__ import annotations

import io
import tarfile
from typing import Any

from botocore.exceptions import ClientError

#: Config fields naming an object the pipeline reads (a sample is written when missing).
OBJECT_FIELDS = ("model_artifact_location", "training_data", "validation_data", "baseline_data",
                 "custom_algorithm_docker")
#: Config fields naming a bucket/prefix the pipeline writes to or reads from.
PREFIX_FIELDS = ("data_capture_location", "batch_inference_data", "batch_job_output_location",
                 "baseline_job_output_location", "monitoring_output_location", "job_output_location")
SAMPLE_IMAGE = "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1"


def sample_model_archive() -> bytes:
    """A small model.tar.gz (the emulator does not run models, it only checks they exist)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        payload = b"sample model created by mlops-orchestrator for a local run\n"
        info = tarfile.TarInfo("model.txt")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def seed_inputs(config: Any, client, region: str) -> list[str]:
    """Create what the config reads, where missing; return a line per thing created."""
    s3 = client("s3")
    created: list[str] = []

    def ensure_bucket(bucket: str) -> None:
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
            created.append(f"s3://{bucket} (bucket)")

    if getattr(config, "assets_bucket", None):
        ensure_bucket(config.assets_bucket)
    for name in PREFIX_FIELDS:
        for value in _stage_values(config, name):
            ensure_bucket(value.removeprefix("s3://").split("/", 1)[0])
    for name in OBJECT_FIELDS:
        if getattr(config, name, None) in (None, ""):
            continue
        uri = config.s3_uri(name)
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        ensure_bucket(bucket)
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            s3.put_object(Bucket=bucket, Key=key, Body=sample_model_archive())
            created.append(f"{uri} (sample object)")
    package = getattr(config, "model_package_name", None)
    if package:
        created += _ensure_model_package(client("sagemaker"), package, config, region, ensure_bucket, s3)
    return created


def _stage_values(config: Any, name: str) -> list[str]:
    value = getattr(config, name, None)
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    return [str(value)]


def _ensure_model_package(sagemaker, arn: str, config: Any, region: str, ensure_bucket, s3) -> list[str]:
    """Register a sample model package version so a registry-variant config has one to deploy."""
    try:
        sagemaker.describe_model_package(ModelPackageName=arn)
        return []
    except ClientError:
        pass
    group, version = arn.rsplit("/", 2)[-2:]
    created = []
    try:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
        created.append(f"model package group {group}")
    except ClientError:
        pass
    bucket = config.assets_bucket or "mlops-local-assets"
    ensure_bucket(bucket)
    key = f"registry/{group}/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=sample_model_archive())
    for _ in range(int(version)):
        made = sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [
                    {"Image": SAMPLE_IMAGE.format(region=region), "ModelDataUrl": f"s3://{bucket}/{key}"}
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        created.append(f"model package {made}")
        if made == arn:
            break
    return created
