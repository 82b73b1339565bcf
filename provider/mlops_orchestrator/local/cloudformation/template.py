"""The checks and readings of a template that CloudFormation makes and moto does not.

CloudFormation refuses a bad request at once (parameter constraints, missing IAM capabilities,
circular dependencies) and creates resources in dependency order; moto accepts the request and
creates resources in whatever order its lazy map reaches them.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.parsing import ResourceMap

#: IAM resource types (they need CAPABILITY_IAM) and their name property (CAPABILITY_NAMED_IAM).
_IAM_TYPES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::UserToGroupAddition": None,
}


def references(node: Any) -> set[str]:
    """Names a template fragment refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) and value else value
                if isinstance(target, str):
                    found.add(target.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) and value else value
                if isinstance(text, str):
                    found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids so that each comes after what it depends on (DependsOn and references)."""
    names = set(resources)
    dependencies: dict[str, list[str]] = {}
    for name, body in resources.items():
        depends_on = body.get("DependsOn") or []
        depends_on = [depends_on] if isinstance(depends_on, str) else list(depends_on)
        referenced = (set(depends_on) | references(body)) & names
        dependencies[name] = [other for other in resources if other in referenced and other != name]
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name) :]
            raise ValidationError(message=f"Circular dependency between resources: [{', '.join(cycle)}]")
        state[name] = "visiting"
        for other in dependencies[name]:
            visit(other, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in resources:
        visit(name, [])
    return order


def validate_parameters(template: dict[str, Any], resource_map: ResourceMap) -> None:
    """
    Undeclared parameters, AllowedPattern, AllowedValues and the length/value limits, as
    CloudFormation checks them (moto ignores a parameter the template does not declare).
    """
    declared = template.get("Parameters") or {}
    undeclared = sorted(set(getattr(resource_map, "input_parameters", None) or {}) - set(declared))
    if undeclared:
        raise ValidationError(message=f"Parameters: [{', '.join(undeclared)}] do not exist in the template")
    for name, spec in declared.items():
        value = resource_map.resolved_parameters.get(name)
        if value is None or isinstance(value, list):
            continue
        text = str(value)
        if "AllowedValues" in spec and text not in [str(v) for v in spec["AllowedValues"]]:
            raise ValidationError(message=f"Parameter '{name}' must be one of AllowedValues")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and re.fullmatch(pattern, text) is None:
            raise ValidationError(message=f"Parameter '{name}' must match pattern {pattern}")
        if "MinLength" in spec and len(text) < int(spec["MinLength"]):
            raise ValidationError(
                message=f"Parameter '{name}' must contain at least {spec['MinLength']} characters"
            )
        if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
            raise ValidationError(
                message=f"Parameter '{name}' must not contain more than {spec['MaxLength']} characters"
            )
        if "MinValue" in spec or "MaxValue" in spec:
            try:
                number = float(text)
            except ValueError:
                raise ValidationError(message=f"Parameter '{name}' must be a number") from None
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise ValidationError(
                    message=f"Parameter '{name}' must be a number not less than {spec['MinValue']}"
                )
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise ValidationError(
                    message=f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}"
                )


class InsufficientCapabilitiesException(CloudFormationError):
    code = "InsufficientCapabilitiesException"


def check_capabilities(template: dict[str, Any], capabilities: list[str] | None) -> None:
    """IAM resources need CAPABILITY_IAM, named ones CAPABILITY_NAMED_IAM (requests over HTTP)."""
    if capabilities is None:
        return
    needed = None
    for body in (template.get("Resources") or {}).values():
        resource_type = body.get("Type")
        if resource_type in _IAM_TYPES:
            name_property = _IAM_TYPES[resource_type]
            if name_property and name_property in (body.get("Properties") or {}):
                needed = "CAPABILITY_NAMED_IAM"
                break
            needed = "CAPABILITY_IAM"
    if needed == "CAPABILITY_IAM" and {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(capabilities):
        return
    if needed and needed not in capabilities:
        raise InsufficientCapabilitiesException(f"Requires capabilities : [{needed}]")


def resolved_properties(body: dict[str, Any], resource_map: ResourceMap) -> dict[str, Any]:
    return parsing.clean_json(copy.deepcopy(body.get("Properties") or {}), resource_map) or {}


def condition_holds(resource_map: ResourceMap, body: dict[str, Any]) -> bool:
    condition = body.get("Condition")
    return not condition or bool(resource_map.lazy_condition_map[condition])
