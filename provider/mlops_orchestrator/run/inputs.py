"""Sample inputs for a local run: the buckets and objects a config points at, made when missing.

Only ever used against the local emulator (``run --local`` and ``demo``): on AWS, inputs are the
user's data and are never invented.
"""

from __future__ import annotations

import io
import tarfile
from typing import Any

from botocore.exceptions import ClientError

from mlops_orchestrator.config.common import StageValues
from mlops_orchestrator.run.build_context import seed_build_context

#: Config fields naming an object the pipeline reads (a sample is written when missing).
OBJECT_FIELDS = ("model_artifact_location", "custom_algorithm_docker")
#: Config fields naming a CSV dataset (an object, or a prefix that gets one object) the pipeline reads.
DATASET_FIELDS = ("training_data", "validation_data", "baseline_data")
#: The sample dataset's features (what a churn model sees); the label comes first.
SAMPLE_FEATURES = ("account_length", "gender", "day_mins", "intl_plan")
#: Config fields naming a bucket/prefix the pipeline writes to or reads from.
PREFIX_FIELDS = ("data_capture_location", "batch_inference_data", "batch_job_output_location",
                 "monitor_ground_truth_input",
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
    assets_keys = set(getattr(type(config), "ASSETS_KEY_FIELDS", ()))
    for name in PREFIX_FIELDS:
        if name in assets_keys:  # a key in the assets bucket (training's job_output_location)
            if getattr(config, name, None):
                ensure_bucket(config.s3_uri(name).removeprefix("s3://").split("/", 1)[0])
            continue
        for value in _stage_values(config, name):
            ensure_bucket(value.removeprefix("s3://").split("/", 1)[0])
    deployment = getattr(config, "deploy", None)  # a training pipeline's deploy section
    for name in PREFIX_FIELDS if deployment is not None else ():
        for value in _stage_values(deployment, name):
            ensure_bucket(value.removeprefix("s3://").split("/", 1)[0])
    created += seed_build_context(config, s3, ensure_bucket)  # byom_image_builder: a zipped Docker context
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
    for name in DATASET_FIELDS:
        if getattr(config, name, None) in (None, ""):
            continue
        created += _ensure_dataset(config.s3_uri(name), sample_dataset(config, name), s3, ensure_bucket)
    package = getattr(config, "model_package_name", None)
    if package:
        created += _ensure_model_package(client("sagemaker"), package, config, region, ensure_bucket, s3)
    for source in (config, deployment):  # every stage's input: a multi-account run transforms in each
        for location in dict.fromkeys(_stage_values(source, "batch_inference_data")):
            created += _ensure_batch_inputs(location, s3)
    return created


def _stage_values(config: Any, name: str) -> list[str]:
    value = getattr(config, name, None)
    if value is None or value == "":
        return []
    if isinstance(value, StageValues):  # {dev: .., prod: ..}: every stage's location
        return [str(value.get(stage)) for stage in value.given()]
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


def sample_batch_csv(number: int) -> bytes:
    """A few rows of numeric features (no header), as a built-in algorithm's CSV input expects."""
    rows = [[round((number * 7 + row * 3 + col) % 10 / 10, 1) for col in range(4)] for row in range(3)]
    return "".join(",".join(str(v) for v in values) + "\n" for values in rows).encode()


def _ensure_batch_inputs(location: str, s3) -> list[str]:
    """Two small CSV objects under ``batch_inference_data`` when nothing is there.

    A location naming a file (``input/data.csv``) gets that one object; a prefix gets
    ``sample-1.csv`` and ``sample-2.csv`` under it.
    """
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    if s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0):
        return []
    names_a_file = "." in prefix.rsplit("/", 1)[-1]
    keys = [prefix] if names_a_file else [f"{prefix}/sample-{n}.csv".lstrip("/") for n in (1, 2)]
    created = []
    for number, key in enumerate(keys, start=1):
        s3.put_object(Bucket=bucket, Key=key, Body=sample_batch_csv(number), ContentType="text/csv")
        created.append(f"s3://{bucket}/{key} (sample batch input)")
    return created


def sample_dataset(config: Any, field: str, rows: int = 40) -> bytes:
    """
    A CSV a pipeline can read, shaped by its config: label first, as built-in algorithms take it.

    Training data has no header (built-in XGBoost); Autopilot and monitor baselines have one
    (the target or label column first, then the features, plus any bias facet). A model quality
    baseline holds the ground truth, the prediction and its probability, as its config names them.
    """
    pipeline_type = getattr(config, "pipeline_type", "")
    if pipeline_type == "byom_model_quality_monitor":
        header = [config.baseline_ground_truth_attribute, config.baseline_inference_attribute]
        if config.baseline_probability_attribute:
            header.append(config.baseline_probability_attribute)
        lines = [",".join(header)]
        for row in range(rows):
            probability = ((row * 37) % 100) / 100
            prediction = int(probability >= 0.5)
            label = prediction if row % 5 else 1 - prediction  # 80 % right
            values = [label, prediction, probability][: len(header)]
            lines.append(",".join(str(value) for value in values))
        return ("\n".join(lines) + "\n").encode()
    features = list(SAMPLE_FEATURES)
    bias = getattr(config, "bias_config", None)
    for facet in getattr(bias, "facet_name", None) or []:
        if isinstance(facet, str) and facet not in features:
            features.append(facet)
    label = getattr(config, "target_attribute", None) or "label"
    lines = [] if pipeline_type in ("model_training_builtin", "model_tuner_builtin") else [",".join([label, *features])]
    for row in range(rows):
        values = [((row * 7 + col * 13) % 50) + (col * 0.5) for col in range(len(features))]
        values[1] = row % 2  # a binary facet (gender)
        churn = int((values[0] + values[2]) % 3 == 0)
        lines.append(",".join(str(value) for value in [churn, *values]))
    return ("\n".join(lines) + "\n").encode()


def _ensure_dataset(uri: str, body: bytes, s3, ensure_bucket) -> list[str]:
    """Write ``body`` at ``uri`` (a file) or as ``{uri}/sample.csv`` (a prefix) when nothing is there."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    ensure_bucket(bucket)
    if s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount", 0):
        return []
    names_a_file = "." in key.rsplit("/", 1)[-1]
    target = key if names_a_file else f"{key.rstrip('/')}/sample.csv".lstrip("/")
    s3.put_object(Bucket=bucket, Key=target, Body=body, ContentType="text/csv")
    return [f"s3://{bucket}/{target} (sample dataset)"]
