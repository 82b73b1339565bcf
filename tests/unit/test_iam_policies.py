"""Every policy in every CloudFormation template: no wildcard action is allowed on a wildcard resource.

The scan finds policy documents wherever they sit in a resource's properties (role and managed
policies, bucket, key, registry and repository policies, both branches of an ``!If``), so a policy
added to any template later is scanned too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((REPO / "cloudformation").glob("*.yaml"))


class _CfnLoader(yaml.SafeLoader):
    """Keeps CloudFormation short forms as {"!Tag": value}."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {f"!{suffix}": loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {f"!{suffix}": loader.construct_sequence(node, deep=True)}
    return {f"!{suffix}": loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _tagged)


def _branches(value: Any) -> Iterator[Any]:
    """A value, or each branch of a conditional (``!If [cond, a, b]`` / ``Fn::If``)."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("!If", "Fn::If"):
        _, yes, no = next(iter(value.values()))
        yield from _branches(yes)
        yield from _branches(no)
    elif not (isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"):
        yield value


def _strings(value: Any) -> list[str]:
    """An Action or Resource as strings (intrinsics shown as their text, so '*' inside one is seen)."""
    found: list[str] = []
    for branch in _branches(value):
        if isinstance(branch, list):
            for item in branch:
                found += _strings(item)
        elif isinstance(branch, str):
            found.append(branch)
        elif isinstance(branch, dict):
            found.append(str(branch))
    return found


def _policy_documents(value: Any, where: str) -> Iterator[tuple[str, dict]]:
    if isinstance(value, dict):
        if "Statement" in value:
            yield where, value
            return
        for key, item in value.items():
            yield from _policy_documents(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _policy_documents(item, f"{where}[{i}]")


def statements(template: dict) -> Iterator[tuple[str, str, dict]]:
    """(resource type, where, statement) of every policy statement of a template."""
    for name, resource in (template.get("Resources") or {}).items():
        for where, document in _policy_documents(resource.get("Properties") or {}, name):
            for i, raw in enumerate(_strings_or_statements(document["Statement"])):
                for statement in _branches(raw):
                    yield resource["Type"], f"{where}.Statement[{i}]", statement


def _strings_or_statements(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _account_root_administers_its_key(resource_type: str, statement: dict) -> bool:
    """
    A key policy's statement that gives the key's own account full control. KMS requires it (without
    it the key can become unmanageable), and ``Resource: "*"`` in a key policy means this key only.
    """
    principal = statement.get("Principal")
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    return resource_type == "AWS::KMS::Key" and ":iam::${AWS::AccountId}:root" in str(aws)


def wildcard_grants(template: dict) -> list[str]:
    """Allow statements whose actions hold a wildcard on a resource that is a wildcard."""
    found = []
    for resource_type, where, statement in statements(template):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            found.append(f"{where}: Allow with NotAction/NotResource")
            continue
        actions = [a for a in _strings(statement.get("Action")) if "*" in a]
        resources = [r for r in _strings(statement.get("Resource", "*")) if r.strip() == "*"]
        if actions and resources and not _account_root_administers_its_key(resource_type, statement):
            found.append(f"{where} ({statement.get('Sid', 'no Sid')}): {actions} on {resources}")
    return found


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


def test_every_template_is_scanned():
    names = {p.name for p in TEMPLATES}
    assert {"orchestrator.yaml", "target-account.yaml", "realtime-endpoint.yaml", "training-role.yaml"} <= names
    for path in TEMPLATES:
        found = list(statements(_load(path)))
        assert found, f"{path.name}: no policy statement found: the scan would prove nothing"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_wildcard_action_is_allowed_on_a_wildcard_resource(path):
    assert wildcard_grants(_load(path)) == []


def test_the_scan_finds_a_wildcard_grant_wherever_it_hides():
    template = _load(REPO / "cloudformation" / "realtime-endpoint.yaml")
    role = next(r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role")
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"!If": ["SomeCondition", {"Sid": "Hidden", "Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"},
                 {"Ref": "AWS::NoValue"}]}
    )
    template["Resources"]["Extra"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": ["*"]}}},
    }
    template["Resources"]["Key"] = {
        "Type": "AWS::KMS::Key",
        "Properties": {"KeyPolicy": {"Statement": [
            {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
        ]}},
    }
    grants = wildcard_grants(template)
    assert len(grants) == 3, grants
    assert any("(Hidden): ['s3:Get*'] on ['*']" in g for g in grants)
    assert any(g.startswith("Extra.PolicyDocument.Statement[0]") for g in grants)
    assert any("(Anyone)" in g for g in grants)
