"""ECR repositories as CloudFormation creates, updates and deletes them, and images pushed by builds.

moto 5.2's ``AWS::ECR::Repository`` passes the CloudFormation property casing (``ScanOnPush``,
``EncryptionType``) through to the API's (``scanOnPush``, ``encryptionType``), ignores
``RepositoryPolicyText``, ``LifecyclePolicy`` and ``EmptyOnDelete``, and its delete refuses a
repository with images, so a stack whose builds pushed an image could never be deleted. Here:

- the scanning and encryption settings read as ECR returns them, and the repository policy and
  lifecycle policy of the template are set (and changed by a stack update, in place);
- only a new ``RepositoryName`` or ``EncryptionConfiguration`` replaces the repository;
- deleting the stack deletes a repository that still holds images only when ``EmptyOnDelete`` is
  true; otherwise the resource fails with ECR's RepositoryNotEmptyException, as in CloudFormation;
- ``push_image`` is what a build's ``docker push`` does (see ``codebuild``): an image manifest
  with its own digest under a tag, the tag moved from any previous image.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from moto.ecr.models import Image, Repository, ecr_backends

from mlops_orchestrator.local.cloudformation import resources as cfn_resources
from mlops_orchestrator.local.patching import Patches

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"

_patches = Patches()


def install() -> None:
    if _patches.installed:
        return
    _patches.set(Repository, "create_from_cloudformation_json", classmethod(_create_repository))
    _patches.set(Repository, "delete", _delete_repository)
    cfn_resources.register_handler("AWS::ECR::Repository", RepositoryHandler())


def uninstall() -> None:
    _patches.undo()


def _policy_text(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _scanning(properties: dict[str, Any]) -> dict[str, bool]:
    config = properties.get("ImageScanningConfiguration") or {}
    return {"scanOnPush": str(config.get("ScanOnPush", False)).lower() == "true"}


def _encryption(properties: dict[str, Any]) -> dict[str, str] | None:
    config = properties.get("EncryptionConfiguration") or {}
    if not config:
        return None
    result = {"encryptionType": config.get("EncryptionType", "AES256")}
    if config.get("KmsKey"):
        result["kmsKey"] = config["KmsKey"]
    return result


def _apply_policies(repository: Repository, properties: dict[str, Any]) -> None:
    repository.policy = _policy_text(properties.get("RepositoryPolicyText"))
    lifecycle = properties.get("LifecyclePolicy") or {}
    repository.lifecycle_policy = _policy_text(lifecycle.get("LifecyclePolicyText"))


def _create_repository(
    cls: type[Repository],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Repository:
    properties = dict(cloudformation_json.get("Properties") or {})
    cased = {
        **properties,
        "ImageScanningConfiguration": _scanning(properties),
        "EncryptionConfiguration": _encryption(properties),
    }
    original = _patches.original(Repository, "create_from_cloudformation_json").__func__
    repository = original(
        cls, resource_name, {**cloudformation_json, "Properties": cased}, account_id, region_name, **kwargs
    )
    _apply_policies(repository, properties)
    return repository


def _delete_repository(self: Repository, account_id: str, region_name: str) -> None:
    """CloudFormation's delete: with images, only when the template says ``EmptyOnDelete: true``."""
    info = cfn_resources.info(self)
    force = info is not None and str(info.properties.get("EmptyOnDelete", False)).lower() == "true"
    ecr_backends[account_id][region_name].delete_repository(self.name, force=force)


class RepositoryHandler(cfn_resources.ResourceHandler):
    """AWS::ECR::Repository: everything but the name and the encryption is updated in place."""

    def needs_replacement(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return any(old.get(key) != new.get(key) for key in ("RepositoryName", "EncryptionConfiguration"))

    def update(
        self,
        resource: Repository,
        old: dict[str, Any],
        new: dict[str, Any],
        context: cfn_resources.ResourceContext,
    ) -> Repository:
        backend = ecr_backends[context.account_id][context.region_name]
        resource.image_scanning_configuration = _scanning(new)
        resource.image_tag_mutability = new.get("ImageTagMutability") or "MUTABLE"
        _apply_policies(resource, new)
        backend.tagger.delete_all_tags_for_resource(resource.arn)
        backend.tagger.tag_resource(resource.arn, new.get("Tags") or [])
        return resource


def push_image(account_id: str, region_name: str, repository_name: str, tag: str, content: bytes) -> Image:
    """Put an image built from ``content`` under ``tag``: a new manifest, so a new digest, every build.

    Raises ECR's RepositoryNotFoundException when the repository does not exist.
    """
    backend = ecr_backends[account_id][region_name]
    backend._get_repository(repository_name)  # the registry's own "does not exist" error
    layer = "sha256:" + hashlib.sha256(content).hexdigest()
    # Real builds of the same context differ (timestamps), so each push is a new image.
    config = "sha256:" + hashlib.sha256(content + os.urandom(16)).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1469,
                "digest": config,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(content),
                    "digest": layer,
                }
            ],
        },
        sort_keys=True,
    )
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    return backend.put_image(repository_name, manifest, tag, MANIFEST_MEDIA_TYPE, digest)
