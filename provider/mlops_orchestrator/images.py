"""Container image facts: built-in SageMaker images (looked up with the SageMaker SDK) and ECR ARNs."""

from __future__ import annotations

import re

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$"
)


def builtin_image_uri(
    framework: str, version: str, region: str, instance_type: str | None = None, image_scope: str = "inference"
) -> str:
    """
    The inference (or ``image_scope="training"``) image of a SageMaker built-in algorithm or
    framework (e.g. xgboost 1.7-1).

    Called at task run time only: the SageMaker SDK is slow to import and must never be
    imported while the scheduler parses DAG files.
    """
    from sagemaker.core import image_uris

    try:
        return image_uris.retrieve(
            framework=framework,
            region=region,
            version=version,
            instance_type=instance_type,
            image_scope=image_scope,
        )
    except ValueError as err:
        raise ValueError(
            f"model_framework {framework!r} with model_framework_version {version!r} has no "
            f"SageMaker image in {region}: {err}"
        ) from err


def ecr_repository_arn(image_uri: str, partition: str = "aws") -> str:
    """The ARN of the ECR repository an image URI points at (to scope an execution role's pull)."""
    match = _ECR_IMAGE.match(image_uri)
    if not match:
        raise ValueError(f"{image_uri!r} is not an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG)")
    return (
        f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"
    )
