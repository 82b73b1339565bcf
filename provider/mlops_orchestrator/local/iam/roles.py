"""IAM roles as CloudFormation creates and updates them.

moto stores a CloudFormation role's inline ``Policies`` documents as Python dicts (GetRolePolicy
then returns their ``repr``, not JSON) and its update only changes the description. Here the
documents are stored as JSON, and an update changes the trust policy, inline policies,
description, session duration and tags in place (only RoleName and Path replace the role).
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import Role, iam_backends
from moto.utilities.utils import get_partition

from mlops_orchestrator.local.cloudformation import resources as cfn_resources
from mlops_orchestrator.local.patching import Patches

_patches = Patches()


def install() -> None:
    if _patches.installed:
        return
    _patches.set(Role, "create_from_cloudformation_json", classmethod(_create_role))
    cfn_resources.register_handler("AWS::IAM::Role", RoleHandler())


def uninstall() -> None:
    _patches.undo()


def _as_json(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _create_role(
    cls: type[Role],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Role:
    properties = dict(cloudformation_json.get("Properties") or {})
    properties["Policies"] = [
        {**policy, "PolicyDocument": _as_json(policy.get("PolicyDocument"))}
        for policy in properties.get("Policies") or []
    ]
    original = _patches.original(Role, "create_from_cloudformation_json").__func__
    return original(
        cls,
        resource_name,
        {**cloudformation_json, "Properties": properties},
        account_id,
        region_name,
        **kwargs,
    )


class RoleHandler(cfn_resources.ResourceHandler):
    """AWS::IAM::Role: everything but RoleName and Path is updated in place."""

    def needs_replacement(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return any(old.get(key) != new.get(key) for key in ("RoleName", "Path"))

    def update(
        self,
        resource: Role,
        old: dict[str, Any],
        new: dict[str, Any],
        context: cfn_resources.ResourceContext,
    ) -> Role:
        backend = iam_backends[context.account_id][get_partition(context.region_name)]
        if new.get("AssumeRolePolicyDocument") != old.get("AssumeRolePolicyDocument"):
            backend.update_assume_role_policy(resource.name, _as_json(new.get("AssumeRolePolicyDocument")))
        resource.description = new.get("Description", "")
        resource.max_session_duration = new.get("MaxSessionDuration", 3600)
        new_policies = {p["PolicyName"]: _as_json(p.get("PolicyDocument")) for p in new.get("Policies") or []}
        for name in list(resource.policies):
            if name not in new_policies:
                resource.delete_policy(name)
        for name, document in new_policies.items():
            resource.put_policy(name, document)
        resource.tags = new.get("Tags") or []
        return resource
