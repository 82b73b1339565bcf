"""
Container image facts: SageMaker's own images (from the table built from the SageMaker SDK) and ECR ARNs.

The image of a built-in algorithm or framework, of Model Monitor and of Clarify is what the SageMaker
SDK's ``image_uris.retrieve`` answers; the SDK cannot be installed under Amazon MWAA's pins, so its
answers are recorded in ``data/sagemaker_images.json`` (``mlops_orchestrator.sdk_tables`` builds it,
CI checks it against the SDK) and looked up here without importing anything heavy.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files
from typing import Any

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$"
)
#: the SDK's rule for an instance type's family: "ml.<family>.<size>" or "ml_<family>"
_FAMILY = re.compile(r"^ml[\._]([a-z\d\-]+)\.?\w*$")
#: see mlops_orchestrator.sdk_tables
_ANY = "*"
_NONE = ""
#: the family of an instance type the SDK cannot parse (a group of its own in the table)
_UNPARSED = "?"


def instance_family(instance_type: str | None) -> str:
    """``ml.m5.large`` -> ``m5`` (empty when it is not a SageMaker instance type)."""
    match = _FAMILY.match(instance_type) if isinstance(instance_type, str) else None
    return match[1] if match else ""


@lru_cache(maxsize=1)
def image_table() -> dict[str, Any]:
    """The recorded answers of the SageMaker SDK (read once per process)."""
    return json.loads(files("mlops_orchestrator").joinpath("data/sagemaker_images.json").read_text())


class ImageNotFound(ValueError):
    """The SageMaker SDK has no image for this framework, version, scope, region or instance type."""


def sagemaker_image_uri(
    framework: str,
    region: str,
    version: str | None = None,
    instance_type: str | None = None,
    image_scope: str | None = None,
) -> str:
    """What ``sagemaker.core.image_uris.retrieve`` returns for these arguments (ImageNotFound where it raises)."""
    table = image_table()
    sdk = f"sagemaker-core {table['sagemaker_core']}"
    by_scope = table["images"].get(framework)
    if by_scope is None:
        raise ImageNotFound(f"{framework!r} is not a framework or algorithm with a SageMaker image ({sdk})")
    by_version = by_scope.get(image_scope or _NONE)
    if by_version is None:
        scopes = ", ".join(scope or "(none)" for scope in by_scope)
        raise ImageNotFound(f"{framework!r} has no {image_scope or 'default'} image; image scopes: {scopes}")
    entries = by_version.get(version or _NONE) or by_version.get(_ANY)
    if entries is None:
        known = ", ".join(v for v in by_version if v not in (_NONE, _ANY))
        raise ImageNotFound(f"{framework!r} has no version {version!r}; versions: {known}")
    family = instance_family(instance_type) if instance_type else _NONE
    if instance_type and not family:
        family = _UNPARSED
    for repository, registry_index, group_index in entries:
        group = table["family_groups"][group_index]
        if _ANY in group or family in group:
            registries = table["registries"][registry_index]
            if region not in registries:
                raise ImageNotFound(
                    f"{framework!r} {version or ''} has no image in region {region!r}; "
                    f"regions: {', '.join(sorted(registries))}"
                )
            return f"{registries[region]}.dkr.{table['hostnames'][region]}/{repository}"
    if family not in (_NONE, _UNPARSED) and family not in table["instance_families"]:
        raise ImageNotFound(
            f"instance type {instance_type!r} is newer than the image table ({sdk}, botocore "
            f"{table['botocore']}): run `make sdk-tables` with newer pins, or give an image URI"
        )
    what = f"instance type {instance_type!r}" if instance_type else "no instance type"
    raise ImageNotFound(f"{framework!r} {version or ''} has no image for {what}")


def builtin_image_uri(
    framework: str, version: str, region: str, instance_type: str | None = None, image_scope: str = "inference"
) -> str:
    """
    The inference (or ``image_scope="training"``) image of a SageMaker built-in algorithm or
    framework (e.g. xgboost 1.7-1), as the SageMaker SDK's image lookup gives it.
    """
    try:
        return sagemaker_image_uri(framework, region, version, instance_type, image_scope)
    except ImageNotFound as err:
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
