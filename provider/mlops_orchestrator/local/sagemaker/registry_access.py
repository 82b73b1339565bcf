"""Model package group policies, and the cross-account use of a registered model that they allow.

moto 5.2 has no Put/Get/DeleteModelPackageGroupPolicy and lets a model in any account use any
account's model package. Here, as SageMaker does: a group can hold a resource policy (a JSON
document, kept as given), and CreateModel (directly or through CloudFormation) refuses a
``ModelPackageName`` of another account (one whose group the emulator holds) unless that
package's group policy allows the calling account ``sagemaker:DescribeModelPackage`` on it. That is what a multi-account promotion of a
registered model needs from the orchestrator account, so the emulator checks it.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from mlops_orchestrator.local.lifecycle import LOCK
from mlops_orchestrator.local.patching import Patches

_patches = Patches()
#: (account, region, group name) -> policy document (a JSON string)
_POLICIES: dict[tuple[str, str, str], str] = {}


def install() -> None:
    if _patches.installed:
        return
    _patches.set(SageMakerResponse, "put_model_package_group_policy", _put_policy)
    _patches.set(SageMakerResponse, "get_model_package_group_policy", _get_policy)
    _patches.set(SageMakerResponse, "delete_model_package_group_policy", _delete_policy)
    _patches.set(SageMakerModelBackend, "create_model", _create_model)
    from mlops_orchestrator.local.lifecycle import STATE

    STATE.on_reset(_POLICIES.clear)


def uninstall() -> None:
    _patches.undo()


def _group(response: SageMakerResponse) -> tuple[str, str, str]:
    name = response._get_param("ModelPackageGroupName")
    backend = response.sagemaker_backend
    if name not in backend.model_package_groups:
        raise ValidationError(message=f"ModelPackageGroup {name} does not exist.")
    return backend.account_id, backend.region_name, name


def _put_policy(self: SageMakerResponse) -> ActionResult:
    key = _group(self)
    document = self._get_param("ResourcePolicy")
    try:
        json.loads(document)
    except (TypeError, ValueError):
        raise ValidationError(message="ResourcePolicy is not a valid JSON policy document") from None
    with LOCK:
        _POLICIES[key] = document
    return ActionResult({"ModelPackageGroupArn": self.sagemaker_backend.model_package_groups[key[2]].arn})


def _get_policy(self: SageMakerResponse) -> ActionResult:
    key = _group(self)
    with LOCK:
        document = _POLICIES.get(key)
    if document is None:
        raise ValidationError(message=f"Cannot find resource policy for ModelPackageGroup {key[2]}.")
    return ActionResult({"ResourcePolicy": document})


def _delete_policy(self: SageMakerResponse) -> ActionResult:
    key = _group(self)
    with LOCK:
        _POLICIES.pop(key, None)
    return ActionResult({})


def _create_model(self: SageMakerModelBackend, **kwargs: Any) -> Any:
    """moto's CreateModel (always called with keywords), after checking cross-account packages."""
    containers = [kwargs.get("primary_container"), *(kwargs.get("containers") or [])]
    for container in containers:
        problem = _refusal(self.account_id, (container or {}).get("ModelPackageName") or "")
        if problem:
            raise ValidationError(message=problem)
    return _patches.original(SageMakerModelBackend, "create_model")(self, **kwargs)


def _refusal(caller: str, package_arn: str) -> str | None:
    """Why ``caller`` may not use another account's model package, or None (own, or allowed)."""
    parts = package_arn.split(":")
    if len(parts) < 6 or parts[4] == caller or not parts[5].startswith("model-package/"):
        return None
    owner, region = parts[4], parts[3]
    group = parts[5].split("/")[1]
    from moto.sagemaker.models import sagemaker_backends

    if group not in sagemaker_backends[owner][region].model_package_groups:
        return None  # a package the emulator does not hold: left to moto, as before
    with LOCK:
        document = _POLICIES.get((owner, region, group))
    if document is None or not _allows(json.loads(document), caller, package_arn):
        return (
            f"User: arn:aws:iam::{caller}:root is not authorized to perform: sagemaker:DescribeModelPackage on "
            f"resource: {package_arn} because no resource-based policy allows the sagemaker:DescribeModelPackage "
            f"action (the model package group {group} of account {owner} must share it with account {caller})"
        )
    return None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows(document: dict[str, Any], caller: str, package_arn: str) -> bool:
    for statement in _listed(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        actions = _listed(statement.get("Action", []))
        if not any(fnmatch.fnmatch("sagemaker:DescribeModelPackage", a) for a in actions):
            continue
        principals = _listed((statement.get("Principal") or {}).get("AWS", [])) if isinstance(
            statement.get("Principal"), dict
        ) else _listed(statement.get("Principal"))
        if not any(p == "*" or p == caller or str(p).split(":")[4:5] == [caller] for p in principals):
            continue
        if any(fnmatch.fnmatch(package_arn, r) for r in _listed(statement.get("Resource", []))):
            return True
    return False

