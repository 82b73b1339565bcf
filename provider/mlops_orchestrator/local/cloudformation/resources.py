"""How the emulated CloudFormation treats each resource type, and what it knows of each resource.

moto's CloudFormation models know how to create and delete a resource, not how CloudFormation
updates it: which property changes replace the resource (a new physical resource, the old one
deleted at cleanup) and which are applied in place (an Endpoint's new EndpointConfigName goes
through UpdateEndpoint). A ``ResourceHandler`` per type says so; extensions register theirs (the
SageMaker and IAM modules here, CodeBuild and model registry ones later). A stack also needs each
resource's resolved properties, to tell on update what changed, and its status.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.parsing import ResourceMap

from mlops_orchestrator.local.lifecycle import now


@dataclass(frozen=True)
class ResourceContext:
    """Where a resource lives, for handlers that call moto's backends."""

    logical_id: str
    resource_type: str
    stack_name: str
    account_id: str
    region_name: str


class ResourceHandler:
    """How the emulated CloudFormation updates one resource type (moto does not model this).

    A change to any property outside ``updatable`` replaces the resource (a new physical resource);
    a change inside it is applied in place by ``update``. Rolling back an in-place update is
    ``update`` again, from the new properties to the old ones.
    """

    updatable: frozenset[str] = frozenset({"Tags"})

    def needs_replacement(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return any(old.get(key) != new.get(key) for key in set(old) | set(new) if key not in self.updatable)

    def update(
        self, resource: Any, old: dict[str, Any], new: dict[str, Any], context: ResourceContext
    ) -> Any:
        if hasattr(resource, "tags"):
            resource.tags = new.get("Tags") or []
        return resource

    def failure_message(self, resource: Any, reason: str) -> str:
        """The ResourceStatusReason of a resource whose own operation failed with ``reason``."""
        return f'Resource handler returned message: "{reason}" (HandlerErrorCode: GeneralServiceException)'


class MotoUpdateHandler(ResourceHandler):
    """Types without a handler of ours: moto's own update, seen by CloudFormation as in place."""

    def needs_replacement(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return False

    def update(
        self, resource: Any, old: dict[str, Any], new: dict[str, Any], context: ResourceContext
    ) -> Any:
        resource_class = parsing.resource_class_from_type(context.resource_type)
        name_property = resource_class.cloudformation_name_type()
        if name_property and new.get(name_property):
            name = new[name_property]
        else:
            name = parsing.generate_resource_name(
                context.resource_type, context.stack_name, context.logical_id
            )
        updated = resource_class.update_from_cloudformation_json(
            original_resource=resource,
            new_resource_name=name,
            cloudformation_json={"Type": context.resource_type, "Properties": new},
            account_id=context.account_id,
            region_name=context.region_name,
        )
        return updated if updated is not None else resource


HANDLERS: dict[str, ResourceHandler] = {}
_DEFAULT_HANDLER = MotoUpdateHandler()


def register_handler(resource_type: str, handler: ResourceHandler) -> None:
    HANDLERS[resource_type] = handler


def handler_for(resource_type: str) -> ResourceHandler:
    return HANDLERS.get(resource_type, _DEFAULT_HANDLER)


# --- what the stack knows about its resources ----------------------------------------------


@dataclass
class ResourceInfo:
    """A stack resource's resolved properties (to diff on update) and its last status."""

    properties: dict[str, Any]
    status: str = "CREATE_IN_PROGRESS"
    updated_at: float = 0.0


# Keyed by moto's resource objects (weakly: moto's reset drops them).
_RESOURCES: weakref.WeakKeyDictionary[Any, ResourceInfo] = weakref.WeakKeyDictionary()


def forget_all() -> None:
    _RESOURCES.clear()


def info(resource: Any) -> ResourceInfo | None:
    try:
        return _RESOURCES.get(resource)
    except TypeError:
        return None


def remember(resource: Any, properties: dict[str, Any]) -> None:
    with contextlib.suppress(TypeError):  # not weak-referenceable: re-resolved on update
        _RESOURCES[resource] = ResourceInfo(properties, updated_at=now())


def resources_of(resource_map: ResourceMap) -> dict[str, Any]:
    return resource_map._resource_json_map


def live(resource_map: ResourceMap) -> dict[str, Any]:
    """Logical id -> resource, for the resources that exist (never creating any, unlike moto)."""
    parsed = resource_map._parsed_resources
    return {
        logical_id: parsed[logical_id]
        for logical_id in resources_of(resource_map)
        if parsed.get(logical_id) is not None and not isinstance(parsed[logical_id], str)
    }


def physical_id(resource: Any) -> str:
    return str(getattr(resource, "physical_resource_id", "") or "") if resource is not None else ""


def name_property(resource_type: str) -> str | None:
    resource_class = parsing.resource_class_from_type(resource_type)
    if resource_class is None:
        return None
    return resource_class.cloudformation_name_type() or None
