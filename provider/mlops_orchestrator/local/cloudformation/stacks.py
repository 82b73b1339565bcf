"""CloudFormation stacks that take time, report every resource in their events, and roll back.

moto 5.2 creates, updates and deletes a stack synchronously, reports only stack-level events, turns
a failing resource into an API error (leaving the stack ``CREATE_IN_PROGRESS``), never rolls back,
and on update misses changes that reach a resource through ``Ref``/``Fn::GetAtt`` (a replaced
Model leaves its EndpointConfig pointing at the deleted model). Here, as real CloudFormation does:

- CreateStack/UpdateStack/DeleteStack validate the request at once (template, parameters and
  their AllowedPattern/AllowedValues/limits, IAM capabilities, circular dependencies) and then
  report ``*_IN_PROGRESS`` for at least ``stack_seconds`` and until the resources the operation
  touched (e.g. SageMaker endpoints) have settled;
- resources are created in dependency order, each with ``*_IN_PROGRESS``/``*_COMPLETE`` events;
- a failure (moto raising, or a resource's own lifecycle ending with a failure reason) is reported
  as ``CREATE_FAILED``/``UPDATE_FAILED`` on that logical resource with the reason, then the stack
  rolls back: a create to ``ROLLBACK_COMPLETE`` with its resources deleted (``OnFailure`` /
  ``DisableRollback`` honoured), an update to ``UPDATE_ROLLBACK_COMPLETE`` with the resources,
  template and parameters from before the update;
- an update re-resolves every resource against the new template and parameters, keeps unchanged
  resources, updates in place what the type's ``ResourceHandler`` (see ``resources``) allows
  (an Endpoint's new EndpointConfigName goes through UpdateEndpoint), replaces the rest (new
  physical resource first, old one deleted in the ``*_CLEANUP_IN_PROGRESS`` step) and refuses to
  replace a custom-named resource;
- ``AWS::NoValue`` is dropped from lists (moto leaves ``null`` items, e.g. in policy statements).

All of it is settled lazily (see ``lifecycle``) whenever a stack is read.
"""

from __future__ import annotations

import threading
from bisect import insort
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import CloudFormationBackend, Event, Stack
from moto.cloudformation.parsing import OutputMap, ResourceMap
from moto.cloudformation.responses import CloudFormationResponse, StackResourceDTO
from moto.cloudformation.utils import generate_stack_id
from moto.core.responses import ActionResult

from mlops_orchestrator.local.cloudformation import resources as cfn_resources
from mlops_orchestrator.local.cloudformation import template as cfn_template
from mlops_orchestrator.local.lifecycle import (
    LOCK,
    STATE,
    Done,
    Lifecycle,
    Phase,
    attach,
    lifecycle_of,
    now,
    to_datetime,
    wait_for,
)
from mlops_orchestrator.local.patching import Patches

STACK_TYPE = "AWS::CloudFormation::Stack"
UPDATABLE_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
#: Statuses in which the stack's resources exist as its template says (outputs can be shown).
_OUTPUT_STATUSES = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
        "UPDATE_FAILED",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    }
)
NOT_EMULATED = "Not emulated by the local AWS emulator (moto has no support for this type); skipped."
REPLACING = "Requested update requires the creation of a new physical resource; hence creating one."

_patches = Patches()


def install() -> None:
    """Replace moto's synchronous stack operations with timed ones (idempotent)."""
    if _patches.installed:
        return
    backend = CloudFormationBackend
    _patches.set(backend, "create_stack", _create_stack)
    _patches.set(backend, "update_stack", _update_stack)
    _patches.set(backend, "delete_stack", _delete_stack)
    _patches.set(backend, "execute_change_set", _execute_change_set)
    for name in ("get_stack", "describe_stacks", "list_stacks", "list_exports", "create_change_set"):
        _patches.set(backend, name, _settling(name))
    _patches.set(Stack, "stack_resources", property(_stack_resources))
    _patches.set(Stack, "outputs", property(_stack_outputs))
    _patches.set(parsing, "clean_json", _clean_json)
    _patches.set(StackResourceDTO, "__init__", _stack_resource_dto_init)
    _patches.set(CloudFormationResponse, "create_stack", _with_request_options("create_stack"))
    _patches.set(CloudFormationResponse, "update_stack", _with_request_options("update_stack"))
    _patches.set(CloudFormationResponse, "list_stack_resources", _list_stack_resources_response)
    STATE.on_reset(cfn_resources.forget_all)


def uninstall() -> None:
    _patches.undo()


# The request options moto's backend methods are not given (Capabilities, OnFailure), passed from
# our response wrappers to the backend methods of the same request thread.
_REQUEST = threading.local()


def _with_request_options(name: str) -> Callable[[CloudFormationResponse], Any]:
    def handle(self: CloudFormationResponse) -> Any:
        _REQUEST.capabilities = self._get_param("Capabilities", [])
        on_failure = self._get_param("OnFailure") or "ROLLBACK"
        if self._get_param("DisableRollback") in (True, "true", "True"):
            on_failure = "DO_NOTHING"
        _REQUEST.on_failure = on_failure
        try:
            return _patches.original(CloudFormationResponse, name)(self)
        finally:
            _REQUEST.capabilities = None
            _REQUEST.on_failure = None

    handle.__name__ = name
    return handle


@contextmanager
def request_options(capabilities: list[str] | None, on_failure: str = "ROLLBACK") -> Iterator[None]:
    """Backend calls made inside run as a request with these options (e.g. a StackSet's own stacks)."""
    previous = getattr(_REQUEST, "capabilities", None), getattr(_REQUEST, "on_failure", None)
    _REQUEST.capabilities, _REQUEST.on_failure = capabilities, on_failure
    try:
        yield
    finally:
        _REQUEST.capabilities, _REQUEST.on_failure = previous


def settle(stack: Stack) -> str:
    """Bring one stack's status up to date (its operation may have ended) and return it."""
    with LOCK:
        _settle_stack(stack)
        return stack.status


def _message(exc: BaseException, logical_id: str) -> str:
    if isinstance(exc, KeyError):
        return (
            f"Properties validation failed for resource {logical_id} with message: "
            f"required key [{exc.args[0] if exc.args else ''}] not found"
        )
    text = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc)
    return f'Resource handler returned message: "{text or type(exc).__name__}"'


# --- events ------------------------------------------------------------------------------------


def _event(
    stack: Stack,
    status: str,
    *,
    at: float,
    logical_id: str | None = None,
    resource_type: str = STACK_TYPE,
    physical_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Add an event at logical time ``at``, keeping the stack's events in time order."""
    is_stack = logical_id is None
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=stack.name if is_stack else logical_id,
        physical_resource_id=stack.stack_id if is_stack else (physical_id or ""),
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    event.timestamp = to_datetime(at)
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    insort(stack.events, event, key=lambda e: e.timestamp)


# --- one stack operation -------------------------------------------------------------------------


@dataclass
class _Pending:
    """A resource whose event waits for its own lifecycle (e.g. an endpoint being created)."""

    logical_id: str
    resource_type: str
    resource: Any
    done_status: str
    failed_status: str


@dataclass
class _Failure:
    logical_id: str
    resource_type: str
    resource: Any
    status: str
    reason: str
    at: float | None = None


class _Operation:
    """A create, update, rollback or delete in progress: what it waits for and what failed."""

    def __init__(self, backend: CloudFormationBackend, stack: Stack) -> None:
        self.backend = backend
        self.stack = stack
        self.pending: list[_Pending] = []
        self.failures: list[_Failure] = []

    def context(self, logical_id: str, resource_type: str) -> cfn_resources.ResourceContext:
        return cfn_resources.ResourceContext(
            logical_id, resource_type, self.stack.name, self.stack.account_id, self.stack.region_name
        )

    def lifecycles(self) -> list[Lifecycle]:
        found = (lifecycle_of(pending.resource) for pending in self.pending)
        return [lifecycle for lifecycle in found if lifecycle is not None]

    def resource_event(
        self,
        logical_id: str,
        resource_type: str,
        resource: Any,
        status: str,
        *,
        at: float,
        reason: str | None = None,
        track: bool = True,
    ) -> None:
        """Add a resource event; ``track`` also makes it the resource's status (DescribeStackResources)."""
        _event(
            self.stack,
            status,
            at=at,
            logical_id=logical_id,
            resource_type=resource_type,
            physical_id=cfn_resources.physical_id(resource),
            reason=reason,
        )
        info = cfn_resources.info(resource) if track else None
        if info is not None:
            info.status, info.updated_at = status, at

    def expect(
        self, logical_id: str, resource_type: str, resource: Any, done: str, failed: str, at: float
    ) -> None:
        """Report ``done`` now, or when the resource's own lifecycle has ended."""
        lifecycle = lifecycle_of(resource)
        if lifecycle is not None and lifecycle.busy:
            self.pending.append(_Pending(logical_id, resource_type, resource, done, failed))
        else:
            self.resource_event(logical_id, resource_type, resource, done, at=at)

    def fail(self, logical_id: str, resource_type: str, resource: Any, status: str, reason: str) -> None:
        """Record a failure; it is reported when the operation's phase ends, as if asynchronous."""
        self.failures.append(_Failure(logical_id, resource_type, resource, status, reason))

    def collect(self, at: float) -> list[str]:
        """Report how the pending resources ended and every failure; return the failed ids."""
        for pending in self.pending:
            lifecycle = lifecycle_of(pending.resource)
            ended = min(lifecycle.settled_at, at) if lifecycle is not None else at
            reason = lifecycle.failure_reason if lifecycle is not None else None
            if reason:
                message = cfn_resources.handler_for(pending.resource_type).failure_message(
                    pending.resource, reason
                )
                self.failures.append(
                    _Failure(
                        pending.logical_id,
                        pending.resource_type,
                        pending.resource,
                        pending.failed_status,
                        message,
                        ended,
                    )
                )
            else:
                self.resource_event(
                    pending.logical_id, pending.resource_type, pending.resource, pending.done_status, at=ended
                )
        self.pending = []
        failed = []
        for failure in sorted(self.failures, key=lambda f: f.at or at):
            self.resource_event(
                failure.logical_id,
                failure.resource_type,
                failure.resource,
                failure.status,
                at=failure.at or at,
                reason=failure.reason,
            )
            failed.append(failure.logical_id)
        self.failures = []
        return failed

    def create(
        self, resource_map: ResourceMap, logical_id: str, at: float, *, done: str = "CREATE_COMPLETE"
    ) -> Any:
        """Create one resource (its dependencies exist already); None when it failed."""
        body = cfn_resources.resources_of(resource_map)[logical_id]
        resource_type = body.get("Type", "")
        failed = "CREATE_FAILED" if done == "CREATE_COMPLETE" else "UPDATE_FAILED"
        if done == "CREATE_COMPLETE":
            self.resource_event(logical_id, resource_type, None, "CREATE_IN_PROGRESS", at=at)
        try:
            resource = resource_map[logical_id]
            properties = cfn_template.resolved_properties(body, resource_map) if resource is not None else {}
        except Exception as exc:  # moto refused: the resource fails, the request does not
            self.fail(logical_id, resource_type, None, failed, _message(exc, logical_id))
            return None
        if resource is None:  # a type moto does not emulate
            self.resource_event(logical_id, resource_type, None, done, at=at, reason=NOT_EMULATED)
            return _SKIPPED
        cfn_resources.remember(resource, properties)
        self.expect(logical_id, resource_type, resource, done, failed, at)
        return resource

    def delete(
        self, resource_map: ResourceMap, items: Iterable[tuple[str, Any, dict[str, Any]]], at: float
    ) -> None:
        """Delete resources, dependents first; each reports DELETE_COMPLETE once it is gone."""
        items = list(items)
        ranks = {logical_id: i for i, logical_id in enumerate(cfn_template.dependency_order(_bodies(items)))}
        for logical_id, resource, body in sorted(items, key=lambda item: ranks.get(item[0], 0), reverse=True):
            resource_type = body.get("Type", "")
            if resource_map._parsed_resources.get(logical_id) is resource:
                del resource_map._parsed_resources[logical_id]
            if body.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate", "Snapshot"):
                self.resource_event(logical_id, resource_type, resource, "DELETE_SKIPPED", at=at)
                continue
            self.resource_event(logical_id, resource_type, resource, "DELETE_IN_PROGRESS", at=at)
            try:
                resource_map._delete_resource(resource, body)
            except Exception as exc:
                self.fail(logical_id, resource_type, resource, "DELETE_FAILED", _message(exc, logical_id))
                continue
            self.expect(logical_id, resource_type, resource, "DELETE_COMPLETE", "DELETE_FAILED", at)


_SKIPPED = object()


def _bodies(items: Iterable[tuple[str, Any, dict[str, Any]]]) -> dict[str, Any]:
    return {logical_id: body for logical_id, _resource, body in items}


def _live_items(resource_map: ResourceMap) -> list[tuple[str, Any, dict[str, Any]]]:
    bodies = cfn_resources.resources_of(resource_map)
    return [
        (logical_id, resource, bodies[logical_id])
        for logical_id, resource in cfn_resources.live(resource_map).items()
    ]


def _failed_list(verb: str, logical_ids: list[str]) -> str:
    return f"The following resource(s) failed to {verb}: [{', '.join(dict.fromkeys(logical_ids))}]. "


def _stack_lifecycle(stack: Stack) -> Lifecycle:
    lifecycle = lifecycle_of(stack)
    if lifecycle is None:
        lifecycle = attach(stack, Lifecycle(stack.status))
    return lifecycle


def _settle_stack(stack: Stack) -> None:
    lifecycle = lifecycle_of(stack)
    if lifecycle is not None:
        stack.status = lifecycle.settle()


def _settle_backend(backend: CloudFormationBackend) -> None:
    for stack in list(backend.stacks.values()):
        _settle_stack(stack)


def _retire(backend: CloudFormationBackend, stack: Stack, at: float) -> None:
    """A deleted stack: only found by its id from now on, its exports gone."""
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]
    stack.deletion_time = to_datetime(at)


def _register_exports(backend: CloudFormationBackend, stack: Stack) -> str | None:
    """Publish the stack's exports; the reason it cannot when another stack exports a name."""
    exports = stack.output_map.exports
    for export in exports:
        owner = backend.exports.get(export.name)
        if owner is not None and owner.exporting_stack_id != stack.stack_id:
            return f"Export with name {export.name} is already exported by stack {owner.exporting_stack_id}"
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]
    for export in exports:
        backend.exports[export.name] = export
    return None


def _begin_create(backend: CloudFormationBackend, stack: Stack, on_failure: str) -> None:
    at = now()
    seconds = STATE.settings.stack_seconds
    operation = _Operation(backend, stack)
    stack.status, stack.stack_status_reason = "CREATE_IN_PROGRESS", None
    _event(stack, "CREATE_IN_PROGRESS", at=at, reason="User Initiated")
    for logical_id in cfn_template.dependency_order(cfn_resources.resources_of(stack.resource_map)):
        body = cfn_resources.resources_of(stack.resource_map)[logical_id]
        if (
            cfn_template.condition_holds(stack.resource_map, body)
            and operation.create(stack.resource_map, logical_id, at) is None
        ):
            break  # CloudFormation starts nothing new once a resource failed

    def created(t: float) -> Phase | Done:
        failed = operation.collect(t)
        reason = _failed_list("create", failed) if failed else _register_exports(backend, stack)
        if reason is None:
            _event(stack, "CREATE_COMPLETE", at=t)
            return Done("CREATE_COMPLETE")
        if on_failure == "DO_NOTHING":
            stack.stack_status_reason = reason
            _event(stack, "CREATE_FAILED", at=t, reason=reason)
            return Done("CREATE_FAILED", reason)
        reason += "Rollback requested by user."
        stack.stack_status_reason = reason
        _event(stack, "ROLLBACK_IN_PROGRESS", at=t, reason=reason)
        operation.delete(stack.resource_map, _live_items(stack.resource_map), t)
        return Phase(
            "ROLLBACK_IN_PROGRESS",
            seconds,
            wait_for("ROLLBACK_IN_PROGRESS", operation.lifecycles, rolled_back),
        )

    def rolled_back(t: float) -> Done:
        failed = operation.collect(t)
        if failed:
            stack.stack_status_reason = _failed_list("delete", failed)
            _event(stack, "ROLLBACK_FAILED", at=t, reason=stack.stack_status_reason)
            return Done("ROLLBACK_FAILED", stack.stack_status_reason)
        _event(stack, "ROLLBACK_COMPLETE", at=t)
        if on_failure == "DELETE":
            _event(stack, "DELETE_COMPLETE", at=t)
            _retire(backend, stack, t)
            return Done("DELETE_COMPLETE")
        return Done("ROLLBACK_COMPLETE", stack.stack_status_reason)

    phase = Phase(
        "CREATE_IN_PROGRESS", seconds, wait_for("CREATE_IN_PROGRESS", operation.lifecycles, created)
    )
    attach(stack, Lifecycle("CREATE_IN_PROGRESS", at)).start(phase, at)


def _begin_update(
    backend: CloudFormationBackend,
    stack: Stack,
    template: str,
    parameters: dict[str, Any],
    role_arn: str | None,
    tags: dict[str, str] | None,
    *,
    capabilities: list[str] | None = None,
    changes_required: bool = True,
) -> None:
    """Validate an update at once, apply it resource by resource, then settle it lazily."""
    template_dict = Stack.parse_template(template)
    new_map = ResourceMap(
        stack.stack_id,
        stack.name,
        parameters,
        tags if tags is not None else stack.tags,
        region_name=stack.region_name,
        account_id=stack.account_id,
        template=template_dict,
        cross_stack_resources=backend.exports,
    )
    new_map.load()
    cfn_template.validate_parameters(template_dict, new_map)
    cfn_template.check_capabilities(template_dict, capabilities)
    order = cfn_template.dependency_order(cfn_resources.resources_of(new_map))
    old_map = stack.resource_map
    if (
        changes_required
        and template == stack.template
        and new_map.resolved_parameters == old_map.resolved_parameters
        and (tags is None or tags == stack.tags)
    ):
        raise ValidationError(stack.name, message="No updates are to be performed.")

    at = now()
    seconds = STATE.settings.stack_seconds
    operation = _Operation(backend, stack)
    stack.status, stack.stack_status_reason = "UPDATE_IN_PROGRESS", None
    stack.last_updated_time = to_datetime(at)
    _event(stack, "UPDATE_IN_PROGRESS", at=at, reason="User Initiated")

    old_live = cfn_resources.live(old_map)
    old_bodies = cfn_resources.resources_of(old_map)
    created: list[tuple[str, Any, dict[str, Any]]] = []  # new physical resources (undone by a rollback)
    updated: list[tuple[str, str, Any, dict[str, Any], dict[str, Any]]] = []  # in place (reverted)

    for logical_id in order:
        body = cfn_resources.resources_of(new_map)[logical_id]
        resource_type = body.get("Type", "")
        if not cfn_template.condition_holds(new_map, body):
            continue
        old = old_live.get(logical_id)
        if old is None or old_bodies[logical_id].get("Type") != resource_type:
            resource = operation.create(new_map, logical_id, at)
            if resource is None:
                break
            if resource is not _SKIPPED:
                created.append((logical_id, resource, body))
            continue
        try:
            new_props = cfn_template.resolved_properties(body, new_map)
        except Exception as exc:
            operation.resource_event(logical_id, resource_type, old, "UPDATE_IN_PROGRESS", at=at)
            operation.fail(logical_id, resource_type, old, "UPDATE_FAILED", _message(exc, logical_id))
            break
        info = cfn_resources.info(old)
        old_props = (
            info.properties
            if info is not None
            else cfn_template.resolved_properties(old_bodies[logical_id], old_map)
        )
        if new_props == old_props:
            new_map._parsed_resources[logical_id] = old
            continue
        handler = cfn_resources.handler_for(resource_type)
        if handler.needs_replacement(old_props, new_props):
            name_property = cfn_resources.name_property(resource_type)
            custom_name = new_props.get(name_property) if name_property else None
            if custom_name and custom_name == old_props.get(name_property):
                operation.resource_event(logical_id, resource_type, old, "UPDATE_IN_PROGRESS", at=at)
                operation.fail(
                    logical_id,
                    resource_type,
                    old,
                    "UPDATE_FAILED",
                    "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                    f"Rename {custom_name} and update the stack again.",
                )
                break
            operation.resource_event(
                logical_id, resource_type, old, "UPDATE_IN_PROGRESS", at=at, reason=REPLACING, track=False
            )
            resource = operation.create(new_map, logical_id, at, done="UPDATE_COMPLETE")
            if resource is None:
                break
            created.append((logical_id, resource, body))  # the old one goes at cleanup
            continue
        operation.resource_event(logical_id, resource_type, old, "UPDATE_IN_PROGRESS", at=at)
        try:
            resource = handler.update(old, old_props, new_props, operation.context(logical_id, resource_type))
        except Exception as exc:
            operation.fail(logical_id, resource_type, old, "UPDATE_FAILED", _message(exc, logical_id))
            break
        new_map._parsed_resources[logical_id] = resource
        cfn_resources.remember(resource, new_props)
        updated.append((logical_id, resource_type, resource, old_props, new_props))
        operation.expect(logical_id, resource_type, resource, "UPDATE_COMPLETE", "UPDATE_FAILED", at)

    def applied(t: float) -> Phase | Done:
        failed = operation.collect(t)
        if failed:
            return roll_back(t, _failed_list("update", failed))
        # Old resources not kept (replaced or removed) go; an in-place update moto made by
        # re-creating under the same physical id must not delete the new resource.
        kept = cfn_resources.live(new_map).values()
        kept_objects, kept_ids = {id(res) for res in kept}, {cfn_resources.physical_id(res) for res in kept}
        gone = [
            (lid, res, old_bodies[lid])
            for lid, res in old_live.items()
            if id(res) not in kept_objects and cfn_resources.physical_id(res) not in kept_ids
        ]
        _event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", at=t)
        stack.template, stack.template_dict = template, template_dict
        stack.description = template_dict.get("Description")
        stack.parameters = parameters
        stack.resource_map = new_map
        stack.output_map = OutputMap(new_map, template_dict, stack.stack_id)
        stack.role_arn = role_arn or stack.role_arn
        if tags is not None:
            stack.tags = tags
        _register_exports(backend, stack)
        operation.delete(old_map, gone, t)
        return Phase(
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            0,
            wait_for("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", operation.lifecycles, cleaned_up),
        )

    def cleaned_up(t: float) -> Done:
        operation.collect(t)  # like CloudFormation, a failed cleanup does not fail the update
        _event(stack, "UPDATE_COMPLETE", at=t)
        return Done("UPDATE_COMPLETE")

    def roll_back(t: float, reason: str) -> Phase:
        stack.stack_status_reason = reason
        _event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", at=t, reason=reason)
        for logical_id, resource_type, resource, old_props, new_props in reversed(updated):
            operation.resource_event(logical_id, resource_type, resource, "UPDATE_IN_PROGRESS", at=t)
            try:
                restored = cfn_resources.handler_for(resource_type).update(
                    resource, new_props, old_props, operation.context(logical_id, resource_type)
                )
            except Exception as exc:
                operation.fail(
                    logical_id, resource_type, resource, "UPDATE_FAILED", _message(exc, logical_id)
                )
                continue
            if restored is not resource:
                old_map._parsed_resources[logical_id] = restored
            cfn_resources.remember(restored, old_props)
            operation.expect(logical_id, resource_type, restored, "UPDATE_COMPLETE", "UPDATE_FAILED", t)
        return Phase(
            "UPDATE_ROLLBACK_IN_PROGRESS",
            seconds,
            wait_for("UPDATE_ROLLBACK_IN_PROGRESS", operation.lifecycles, reverted),
        )

    def reverted(t: float) -> Phase | Done:
        failed = operation.collect(t)
        if failed:
            stack.stack_status_reason = _failed_list("update", failed)
            _event(stack, "UPDATE_ROLLBACK_FAILED", at=t, reason=stack.stack_status_reason)
            return Done("UPDATE_ROLLBACK_FAILED", stack.stack_status_reason)
        _event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", at=t)
        operation.delete(new_map, created, t)
        status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
        return Phase(status, 0, wait_for(status, operation.lifecycles, rollback_cleaned_up))

    def rollback_cleaned_up(t: float) -> Done:
        operation.collect(t)
        _event(stack, "UPDATE_ROLLBACK_COMPLETE", at=t)
        return Done("UPDATE_ROLLBACK_COMPLETE", stack.stack_status_reason)

    phase = Phase(
        "UPDATE_IN_PROGRESS", seconds, wait_for("UPDATE_IN_PROGRESS", operation.lifecycles, applied)
    )
    _stack_lifecycle(stack).start(phase, at)


def _begin_delete(backend: CloudFormationBackend, stack: Stack) -> None:
    at = now()
    operation = _Operation(backend, stack)
    lifecycle = _stack_lifecycle(stack)
    lifecycle.cancel(at)  # a create still in progress is abandoned
    stack.status, stack.stack_status_reason = "DELETE_IN_PROGRESS", None
    _event(stack, "DELETE_IN_PROGRESS", at=at, reason="User Initiated")
    operation.delete(stack.resource_map, _live_items(stack.resource_map), at)

    def deleted(t: float) -> Done:
        failed = operation.collect(t)
        if failed:
            stack.stack_status_reason = _failed_list("delete", failed)
            _event(stack, "DELETE_FAILED", at=t, reason=stack.stack_status_reason)
            return Done("DELETE_FAILED", stack.stack_status_reason)
        _event(stack, "DELETE_COMPLETE", at=t)
        _retire(backend, stack, t)
        return Done("DELETE_COMPLETE")

    status = "DELETE_IN_PROGRESS"
    lifecycle.start(
        Phase(status, STATE.settings.stack_seconds, wait_for(status, operation.lifecycles, deleted)), at
    )


# --- moto's backend and responses, patched -----------------------------------------------------


def _settling(name: str) -> Callable[..., Any]:
    """A backend method that first brings every stack of the backend up to date."""

    def method(self: CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            _settle_backend(self)
            return _patches.original(CloudFormationBackend, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


def _create_stack(
    self: CloudFormationBackend,
    name: str,
    template: str,
    parameters: dict[str, Any],
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
    enable_termination_protection: bool | None = False,
    timeout_in_mins: int | None = None,
    stack_policy_body: str | None = None,
) -> Stack:
    with LOCK:
        _settle_backend(self)
        if any(stack.name == name for stack in self.stacks.values()):
            raise AlreadyExistsException(f"Stack [{name}] already exists")
        stack = Stack(
            stack_id=generate_stack_id(name, self.region_name, self.account_id),
            name=name,
            template=template,
            parameters=parameters,
            account_id=self.account_id,
            region_name=self.region_name,
            notification_arns=notification_arns,
            tags=tags,
            role_arn=role_arn,
            cross_stack_resources=self.exports,
            enable_termination_protection=enable_termination_protection,
            timeout_in_mins=timeout_in_mins,
            stack_policy_body=stack_policy_body,
        )
        cfn_template.validate_parameters(stack.template_dict, stack.resource_map)
        cfn_template.check_capabilities(stack.template_dict, getattr(_REQUEST, "capabilities", None))
        cfn_template.dependency_order(cfn_resources.resources_of(stack.resource_map))
        on_failure = getattr(_REQUEST, "on_failure", None) or "ROLLBACK"
        stack.disable_rollback = on_failure == "DO_NOTHING"
        self.stacks[stack.stack_id] = stack
        _begin_create(self, stack, on_failure)
        return stack


def _update_stack(
    self: CloudFormationBackend,
    name: str,
    template: str,
    role_arn: str | None,
    parameters: list[dict[str, Any]],
    tags: dict[str, str] | None,
) -> Stack:
    with LOCK:
        stack = self.get_stack(name)
        if stack.status not in UPDATABLE_STATUSES:
            raise ValidationError(
                message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )
        resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
        _begin_update(
            self,
            stack,
            template,
            resolved,
            role_arn,
            tags,
            capabilities=getattr(_REQUEST, "capabilities", None),
        )
        return stack


def _delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
    with LOCK:
        _settle_backend(self)
        stack = self.stacks.get(name_or_stack_id) or next(
            (stack for stack in self.stacks.values() if stack.name == name_or_stack_id), None
        )
        if stack is None or stack.status == "DELETE_IN_PROGRESS":
            return  # deleting a deleted stack succeeds, as in CloudFormation
        if stack.status.endswith("_IN_PROGRESS") and stack.status not in (
            "CREATE_IN_PROGRESS",
            "REVIEW_IN_PROGRESS",
        ):
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while in status {stack.status}"
            )
        _begin_delete(self, stack)


def _execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    """ExecuteChangeSet runs the same timed create or update as CreateStack/UpdateStack."""
    with LOCK:
        _settle_backend(self)
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None
        )
        if change_set is None:
            raise ValidationError(stack_name)
        stack = self.stacks[change_set.stack_id]
        if change_set.change_set_type == "CREATE":
            stack.template, stack.parameters = change_set.template, change_set.parameters
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            stack.resource_map = stack._create_resource_map()
            stack.output_map = stack._create_output_map()
            cfn_template.validate_parameters(stack.template_dict, stack.resource_map)
            cfn_template.dependency_order(cfn_resources.resources_of(stack.resource_map))
            _begin_create(self, stack, "ROLLBACK")
        else:
            if stack.status not in UPDATABLE_STATUSES:
                raise ValidationError(
                    message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
                )
            _begin_update(
                self,
                stack,
                change_set.template,
                change_set.parameters,
                change_set.role_arn,
                change_set.tags,
                changes_required=False,
            )
        change_set.execution_status = "EXECUTE_COMPLETE"


def _stack_resources(self: Stack) -> list[Any]:
    """The resources that exist (moto's lazy map would create missing ones when listed)."""
    return list(cfn_resources.live(self.resource_map).values())


def _stack_outputs(self: Stack) -> list[dict[str, Any]] | None:
    """Outputs once the resources exist (evaluating them earlier would make moto create them)."""
    if self.status not in _OUTPUT_STATUSES:
        return None
    return _patches.original(Stack, "outputs").fget(self)


def _clean_json(resource_json: Any, resources_map: ResourceMap) -> Any:
    """moto's clean_json, except that ``AWS::NoValue`` items are dropped from lists."""
    if isinstance(resource_json, list):
        cleaned = (_clean_json(item, resources_map) for item in resource_json)
        return [item for item in cleaned if item is not None]
    return _patches.original(parsing, "clean_json")(resource_json, resources_map)


def _resource_status(resource: Any, stack: Stack) -> tuple[str, Any]:
    info = cfn_resources.info(resource)
    if info is None:
        return stack.status, stack.creation_time
    return info.status, to_datetime(info.updated_at)


def _stack_resource_dto_init(self: StackResourceDTO, stack: Stack, resource: Any) -> None:
    _patches.original(StackResourceDTO, "__init__")(self, stack, resource)
    self.resource_status, self.timestamp = _resource_status(resource, stack)
    self.last_updated_timestamp = self.timestamp


def _list_stack_resources_response(self: CloudFormationResponse) -> ActionResult:
    stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
    summaries = []
    for resource in resources:
        status, updated = _resource_status(resource, stack)
        summaries.append(
            {
                "ResourceStatus": status,
                "LogicalResourceId": getattr(resource, "logical_resource_id", ""),
                "LastUpdatedTimestamp": updated,
                "PhysicalResourceId": getattr(resource, "physical_resource_id", ""),
                "ResourceType": getattr(resource, "cf_resource_type", ""),
            }
        )
    return ActionResult({"StackResourceSummaries": summaries})
