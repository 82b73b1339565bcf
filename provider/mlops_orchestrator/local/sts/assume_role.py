"""AssumeRole that checks the role, as STS does, so a multi-account set-up is tested for real.

moto 5.2 answers AssumeRole for any ARN, existing or not, trusted or not, and hands out
credentials of the ARN's account. Here the role must exist in its account and its trust policy
must name the calling account (``arn:aws:iam::ACCOUNT:root``, the bare account id, or a role or
user of that account) or ``*``; a condition on ``sts:ExternalId`` must match the request's
``ExternalId``. Otherwise the call is refused with STS's AccessDenied, naming the caller and the
role, as it would be in AWS. Only the trust policy is read: identity policies of the caller are
not evaluated (moto does not evaluate IAM policies).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import ServiceException
from moto.sts.responses import TokenResponse

from mlops_orchestrator.local.patching import Patches

_patches = Patches()


def install() -> None:
    if _patches.installed:
        return
    _patches.set(TokenResponse, "assume_role", _assume_role)


def uninstall() -> None:
    _patches.undo()


class AccessDenied(ServiceException):
    code = "AccessDenied"


def _assume_role(self: TokenResponse) -> Any:
    role_arn = self._get_param("RoleArn") or ""
    problem = _refusal(self.current_account, role_arn, self._get_param("ExternalId"))
    if problem is not None:
        raise AccessDenied(
            f"User: arn:aws:iam::{self.current_account}:root is not authorized to perform: "
            f"sts:AssumeRole on resource: {role_arn} ({problem})"
        )
    return _patches.original(TokenResponse, "assume_role")(self)


def _refusal(caller: str, role_arn: str, external_id: str | None) -> str | None:
    """Why ``caller`` may not assume ``role_arn``, or None when it may."""
    from moto.iam.models import iam_backends

    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return "not a role ARN"
    account, partition = parts[4], parts[1]
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's NoSuchEntity
        return f"no such role in account {account}"
    policy = role.assume_role_policy_document
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow" or not _allows_assume(statement.get("Action")):
            continue
        if not _names_caller(statement.get("Principal"), caller):
            continue
        wanted = _external_id_condition(statement.get("Condition") or {})
        if wanted is not None and wanted != external_id:
            return "the trust policy requires another ExternalId"
        return None
    return f"the role's trust policy does not allow account {caller}"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows_assume(action: Any) -> bool:
    return any(a in ("sts:AssumeRole", "sts:*", "*") for a in _listed(action))


def _names_caller(principal: Any, caller: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for entry in _listed(principal.get("AWS", [])):
        entry = str(entry)
        if entry in ("*", caller) or entry.split(":")[4:5] == [caller]:
            return True
    return False


def _external_id_condition(condition: dict[str, Any]) -> str | None:
    for operator in ("StringEquals", "StringLike"):
        value = (condition.get(operator) or {}).get("sts:ExternalId")
        if value is not None:
            return _listed(value)[0]
    return None
