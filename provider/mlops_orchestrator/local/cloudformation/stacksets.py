"""CloudFormation StackSets whose operations take time and deploy real (emulated) stacks in other accounts.

moto 5.2 finishes every StackSet operation at once (SUCCEEDED), creates a self-managed instance's
stack with moto's synchronous stacks and a service-managed one hidden from its account, ignores
``OperationId``, ``OperationPreferences``, ``RetainStacks`` and ``CallAs``, cannot fail an account,
and makes up per-account results. Here, as CloudFormation StackSets do:

- CreateStackInstances, UpdateStackSet, UpdateStackInstances and DeleteStackInstances start an
  operation (``RUNNING``, then ``SUCCEEDED`` or ``FAILED``) that creates, updates or deletes the
  instance's stack ``StackSet-{name}-{id}`` in each target account and region with this
  emulator's timed stacks, so the stack, its resources (endpoints...) and its events are visible
  in that account, and the operation lasts as long as they take (at least ``stack_seconds``);
- an account fails when its stack fails (the instance's ``StatusReason`` and the operation's
  result name the failing resource, its type and CloudFormation's reason, in StackSets' words),
  when a failure rule of kind ``stackset_instance`` matches the account id or the stack set's
  name, or (self-managed) when the account has no role ``ExecutionRoleName``; the operation fails
  when more accounts fail than ``OperationPreferences`` tolerate (default: none);
- instances are ``CURRENT`` after a successful operation, ``OUTDATED`` with DetailedStatus
  ``FAILED`` after a failed one (``INOPERABLE`` after a failed delete); a stack left in
  ``ROLLBACK_COMPLETE`` by a failed create cannot be updated, as in CloudFormation, so its
  instance must be deleted and created again; ``LastOperationId`` says which operation touched
  an instance last;
- one operation at a time per stack set (``OperationInProgressException``); an ``OperationId``
  used before is refused (``OperationIdAlreadyExistsException``); DeleteStackSet refuses a stack
  set with instances (``StackSetNotEmptyException``);
- service-managed targets: ``DeploymentTargets`` with ``AccountFilterType: INTERSECTION`` reach
  only the given accounts; without a filter, every account of the organizational units (from
  moto's Organizations backend).

Operations advance lazily, whenever the stack set is read (see ``lifecycle``). Accounts of one
operation are worked on at the same time (``MaxConcurrentCount`` is not emulated).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation.exceptions import CloudFormationError, StackSetNotFoundException, ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from mlops_orchestrator.local.cloudformation import stacks
from mlops_orchestrator.local.lifecycle import LOCK, STATE, now, register_failure_kind, to_datetime
from mlops_orchestrator.local.patching import Patches

FAILURE_KIND = "stackset_instance"
_DONE = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
_STACK_OK = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"})
_STACK_FAILED = frozenset(
    {
        "CREATE_FAILED",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_FAILED",
        "DELETE_FAILED",
    }
)
_ACTIONS = (
    "create_stack_set",
    "update_stack_set",
    "delete_stack_set",
    "describe_stack_set",
    "list_stack_sets",
    "create_stack_instances",
    "update_stack_instances",
    "delete_stack_instances",
    "describe_stack_instance",
    "list_stack_instances",
    "describe_stack_set_operation",
    "list_stack_set_operations",
    "list_stack_set_operation_results",
    "stop_stack_set_operation",
)

_patches = Patches()


def install() -> None:
    """Answer every StackSet call of the CloudFormation API from this module (idempotent)."""
    if _patches.installed:
        return
    for action in _ACTIONS:
        _patches.set(CloudFormationResponse, action, _response(action))
    register_failure_kind(FAILURE_KIND, "a target account id or the stack set's name")
    STATE.on_reset(_STORES.clear)


def uninstall() -> None:
    _patches.undo()


# --- errors, in the API's words ------------------------------------------------------------------


class OperationInProgress(CloudFormationError):
    code = "OperationInProgressException"


class OperationIdAlreadyExists(CloudFormationError):
    code = "OperationIdAlreadyExistsException"


class OperationNotFound(CloudFormationError):
    code = "OperationNotFoundException"


class StackInstanceNotFound(CloudFormationError):
    code = "StackInstanceNotFoundException"


class StackSetNotEmpty(CloudFormationError):
    code = "StackSetNotEmptyException"


class NameAlreadyExists(CloudFormationError):
    code = "NameAlreadyExistsException"


# --- state -------------------------------------------------------------------------------------------


@dataclass
class _Instance:
    account: str
    region: str
    org_unit_id: str | None
    overrides: dict[str, str] = field(default_factory=dict)
    stack_id: str | None = None
    status: str = "OUTDATED"
    detailed_status: str = "PENDING"
    reason: str | None = None
    last_operation_id: str | None = None


@dataclass
class _Target:
    """One account and region of an operation, and how its work there went."""

    account: str
    region: str
    org_unit_id: str | None
    status: str = "PENDING"  # PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED
    reason: str | None = None
    stack_id: str | None = None
    started: bool = False


@dataclass
class _Operation:
    operation_id: str
    action: str  # CREATE, UPDATE, DELETE
    started_at: float
    targets: list[_Target]
    preferences: dict[str, Any]
    retain_stacks: bool = False
    deployment_targets: dict[str, Any] | None = None
    status: str = "RUNNING"
    ended_at: float | None = None
    reason: str | None = None


@dataclass
class _StackSet:
    name: str
    stack_set_id: str
    arn: str
    admin_account: str
    admin_region: str
    template: str
    parameters: dict[str, str]
    capabilities: list[str]
    tags: dict[str, str]
    description: str | None
    permission_model: str
    administration_role_arn: str | None
    execution_role_name: str | None
    auto_deployment: dict[str, Any] | None
    status: str = "ACTIVE"
    instances: dict[tuple[str, str], _Instance] = field(default_factory=dict)
    operations: list[_Operation] = field(default_factory=list)
    org_unit_ids: list[str] = field(default_factory=list)

    def running(self) -> _Operation | None:
        return next((op for op in self.operations if op.status not in _DONE), None)

    def operation(self, operation_id: str) -> _Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise OperationNotFound(f"Operation {operation_id} not found in stack set {self.name}")


#: (admin account, admin region) -> stack set name -> stack set
_STORES: dict[tuple[str, str], dict[str, _StackSet]] = {}


def _store(response: CloudFormationResponse) -> dict[str, _StackSet]:
    return _STORES.setdefault((response.current_account, response.region), {})


def _find(response: CloudFormationResponse, name: str) -> _StackSet:
    store = _store(response)
    found = store.get(name) or next((s for s in store.values() if s.stack_set_id == name), None)
    if found is None or found.status == "DELETED":
        raise StackSetNotFoundException(name)
    _advance(found)
    return found


# --- operations ----------------------------------------------------------------------------------


def _parameters(raw: list[dict[str, Any]] | None, previous: dict[str, str] | None = None) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in raw or []:
        key = item["ParameterKey"]
        if item.get("UsePreviousValue") in (True, "true") and previous and key in previous:
            result[key] = previous[key]
        else:
            result[key] = str(item.get("ParameterValue", ""))
    return result


def _accounts_of(stack_set: _StackSet, response: CloudFormationResponse) -> list[tuple[str, str | None]]:
    """The (account, OU) pairs a request targets: ``Accounts``, or ``DeploymentTargets``."""
    params = response._get_params()
    targets = params.get("DeploymentTargets") or {}
    accounts = list(response._get_param("Accounts", []) or [])
    if stack_set.permission_model == "SELF_MANAGED":
        if targets.get("OrganizationalUnitIds"):
            raise ValidationError(
                message="StackSets with SELF_MANAGED permission model can only have accounts as target"
            )
        accounts += list(targets.get("Accounts") or [])
        if not accounts:
            raise ValidationError(message="Accounts or DeploymentTargets.Accounts is required")
        return [(account, None) for account in dict.fromkeys(accounts)]
    units = list(targets.get("OrganizationalUnitIds") or [])
    if accounts or not units:
        raise ValidationError(
            message="StackSets with SERVICE_MANAGED permission model can only have OrganizationalUnit as target"
        )
    filter_type = (targets.get("AccountFilterType") or "NONE").upper()
    given = list(targets.get("Accounts") or [])
    if filter_type == "INTERSECTION":
        if not given:
            raise ValidationError(message="DeploymentTargets.Accounts is required with AccountFilterType INTERSECTION")
        members = _org_members(response.current_account, units)
        pairs = []
        for account in given:
            unit = members.get(account, units[0]) if members else units[0]
            if members and account not in members:
                continue  # not in the organizational units: not a target (as INTERSECTION means)
            pairs.append((account, unit))
        return pairs
    if filter_type != "NONE":
        raise ValidationError(message=f"AccountFilterType {filter_type} is not emulated (use INTERSECTION or NONE)")
    members = _org_members(response.current_account, units)
    if not members:
        raise ValidationError(
            message=f"No accounts found in organizational units {', '.join(units)} (the emulator reads them from "
            "Organizations: create the organization, units and accounts, or target accounts with INTERSECTION)"
        )
    return list(members.items())


def _org_members(admin_account: str, units: list[str]) -> dict[str, str]:
    """account id -> OU id, for the accounts directly in ``units`` (and their child units)."""
    from moto.organizations.models import organizations_backends

    try:
        org = organizations_backends[admin_account]["aws"]
        if org.org is None:
            return {}
        wanted = set(units) | {ou.id for ou in org.ou if ou.parent_id in units}
        return {acct.id: acct.parent_id for acct in org.accounts if acct.parent_id in wanted}
    except Exception:  # noqa: BLE001 - no organization: no members
        return {}


def _regions(response: CloudFormationResponse) -> list[str]:
    regions = list(response._get_param("Regions", []) or [])
    if not regions:
        raise ValidationError(message="Regions is required")
    return regions


def _start(
    stack_set: _StackSet,
    response: CloudFormationResponse,
    action: str,
    targets: list[_Target],
    *,
    retain_stacks: bool = False,
) -> _Operation:
    """Register a new operation (its work starts at the next ``_advance``)."""
    _refuse_if_running(stack_set)
    operation_id = response._get_param("OperationId") or str(uuid.uuid4())
    if any(op.operation_id == operation_id for op in stack_set.operations):
        raise OperationIdAlreadyExists(f"The operation ID {operation_id} already exists")
    params = response._get_params()
    operation = _Operation(
        operation_id=operation_id,
        action=action,
        started_at=now(),
        targets=targets,
        preferences=dict(params.get("OperationPreferences") or {}),
        retain_stacks=retain_stacks,
        deployment_targets=params.get("DeploymentTargets"),
    )
    stack_set.operations.insert(0, operation)
    for target in targets:
        instance = stack_set.instances.get((target.account, target.region))
        if instance is not None:
            instance.detailed_status = "PENDING"
            instance.last_operation_id = operation_id
    return operation


def _refuse_if_running(stack_set: _StackSet) -> None:
    running = stack_set.running()
    if running is not None:
        raise OperationInProgress(
            f"Another Operation on StackSet {stack_set.stack_set_id} is in progress: {running.operation_id}"
        )


def _advance(stack_set: _StackSet) -> None:
    """Start the running operation's work in each account, and end it once every account is done."""
    with LOCK:
        operation = stack_set.running()
        if operation is None:
            return
        for target in operation.targets:
            if not target.started:
                target.started = True
                _work(stack_set, operation, target)
            if target.status == "RUNNING":
                _check(stack_set, operation, target)
        if any(t.status in ("PENDING", "RUNNING") for t in operation.targets):
            return
        ends = [operation.started_at + STATE.settings.stack_seconds]
        if now() < max(ends):
            return
        _finish(stack_set, operation, max(ends))


def _backend(account: str, region: str) -> CloudFormationBackend:
    return cloudformation_backends[account][region]


def _stack(account: str, region: str, stack_id: str | None) -> Stack | None:
    if stack_id is None:
        return None
    backend = _backend(account, region)
    return backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)


def _work(stack_set: _StackSet, operation: _Operation, target: _Target) -> None:
    """Begin the operation in one account: create, update or delete the instance's stack there."""
    instance = stack_set.instances.get((target.account, target.region))
    reason = STATE.failures.take(FAILURE_KIND, [target.account, stack_set.name])
    if reason is None and stack_set.permission_model == "SELF_MANAGED" and operation.action != "DELETE":
        reason = _execution_role_problem(stack_set, target.account)
    if reason is not None:
        target.status, target.reason = "FAILED", reason
        return
    backend = _backend(target.account, target.region)
    parameters = {**stack_set.parameters, **(instance.overrides if instance else {})}
    listed = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    try:
        with stacks.request_options(stack_set.capabilities):
            if operation.action == "CREATE" or (operation.action == "UPDATE" and instance and not instance.stack_id):
                stack = backend.create_stack(
                    name=f"StackSet-{stack_set.name}-{uuid.uuid4()}",
                    template=stack_set.template,
                    parameters=parameters,
                    tags=dict(stack_set.tags),
                )
                target.stack_id = stack.stack_id
            elif operation.action == "UPDATE":
                target.stack_id = instance.stack_id if instance else None
                try:
                    backend.update_stack(
                        name=target.stack_id,
                        template=stack_set.template,
                        role_arn=None,
                        parameters=listed,
                        tags=dict(stack_set.tags),
                    )
                except ValidationError as err:
                    if "No updates are to be performed" not in str(err):
                        raise
                    target.status = "SUCCEEDED"  # StackSets treat an unchanged stack as updated
                    return
            else:  # DELETE
                target.stack_id = instance.stack_id if instance else None
                if operation.retain_stacks or target.stack_id is None:
                    target.status = "SUCCEEDED"
                    return
                backend.delete_stack(target.stack_id)
    except CloudFormationError as err:
        target.status, target.reason = "FAILED", str(getattr(err, "message", None) or err)
        return
    target.status = "RUNNING"
    _check(stack_set, operation, target)


def _execution_role_problem(stack_set: _StackSet, account: str) -> str | None:
    from moto.iam.models import iam_backends

    role = stack_set.execution_role_name or "AWSCloudFormationStackSetExecutionRole"
    try:
        iam_backends[account]["aws"].get_role(role)
    except Exception:  # noqa: BLE001 - moto raises its NoSuchEntity
        admin = (stack_set.administration_role_arn or "AWSCloudFormationStackSetAdministrationRole").rsplit("/", 1)[-1]
        return (
            f"Account {account} should have '{role}' role with trust relationship to Role '{admin}'."
        )
    return None


def _check(stack_set: _StackSet, operation: _Operation, target: _Target) -> None:
    stack = _stack(target.account, target.region, target.stack_id)
    if stack is None:
        if operation.action == "DELETE":
            target.status = "SUCCEEDED"
        else:
            target.status, target.reason = "FAILED", f"Stack {target.stack_id} is gone from account {target.account}"
        return
    status = stacks.settle(stack)
    if status in _STACK_OK:
        target.status = "SUCCEEDED"
    elif status in _STACK_FAILED:
        target.status, target.reason = "FAILED", _stack_failure(stack)


def _stack_failure(stack: Stack) -> str:
    """A failed stack's reason as StackSets report it: the first failing resource, its type and why."""
    for event in stack.events:  # oldest first
        status = event.resource_status or ""
        if event.resource_type != stacks.STACK_TYPE and status.endswith("FAILED") and event.resource_status_reason:
            reason = event.resource_status_reason
            if reason.startswith(("Resource creation cancelled", "Resource update cancelled")):
                continue
            return (
                f"ResourceLogicalId:{event.logical_resource_id}, ResourceType:{event.resource_type}, "
                f"ResourceStatusReason:{reason}"
            )
    return stack.stack_status_reason or f"Stack {stack.name} ended {stack.status}"


def _tolerated(operation: _Operation) -> int:
    prefs = operation.preferences
    if prefs.get("FailureToleranceCount") is not None:
        return int(prefs["FailureToleranceCount"])
    if prefs.get("FailureTolerancePercentage") is not None:
        return int(len(operation.targets) * int(prefs["FailureTolerancePercentage"]) / 100)
    return 0


def _finish(stack_set: _StackSet, operation: _Operation, at: float) -> None:
    failed = [t for t in operation.targets if t.status == "FAILED"]
    operation.status = "FAILED" if len(failed) > _tolerated(operation) else "SUCCEEDED"
    operation.ended_at = at
    if operation.status == "FAILED":
        operation.reason = f"{len(failed)} of {len(operation.targets)} stack instance(s) failed"
    for target in operation.targets:
        key = (target.account, target.region)
        instance = stack_set.instances.get(key)
        if operation.action == "DELETE":
            if target.status == "SUCCEEDED":
                stack_set.instances.pop(key, None)
            elif instance is not None:
                instance.status, instance.detailed_status, instance.reason = "INOPERABLE", "FAILED", target.reason
            continue
        if instance is None:
            continue
        if target.stack_id:
            instance.stack_id = target.stack_id
        if target.status == "SUCCEEDED":
            instance.status, instance.detailed_status, instance.reason = "CURRENT", "SUCCEEDED", None
        else:
            instance.status, instance.detailed_status, instance.reason = "OUTDATED", "FAILED", target.reason


# --- the API -----------------------------------------------------------------------------------------


def _response(action: str):
    handler = globals()[f"_{action}"]

    def handle(self: CloudFormationResponse) -> ActionResult:
        with LOCK:
            return ActionResult(handler(self))

    handle.__name__ = action
    return handle


def _create_stack_set(r: CloudFormationResponse) -> dict[str, Any]:
    name = r._get_param("StackSetName")
    store = _store(r)
    existing = store.get(name)
    if existing is not None and existing.status != "DELETED":
        raise NameAlreadyExists(f"StackSet {name} already exists")
    template = r._get_param("TemplateBody")
    if not template:
        raise ValidationError(message="TemplateBody is required (TemplateURL is not emulated)")
    stack_set_id = f"{name}:{uuid.uuid4()}"
    permission_model = (r._get_param("PermissionModel") or "SELF_MANAGED").upper()
    stack_set = _StackSet(
        name=name,
        stack_set_id=stack_set_id,
        arn=f"arn:aws:cloudformation:{r.region}:{r.current_account}:stackset/{stack_set_id}",
        admin_account=r.current_account,
        admin_region=r.region,
        template=template,
        parameters=_parameters(r._get_param("Parameters", [])),
        capabilities=list(r._get_param("Capabilities", []) or []),
        tags={t["Key"]: t["Value"] for t in r._get_param("Tags", []) or []},
        description=r._get_param("Description"),
        permission_model=permission_model,
        administration_role_arn=r._get_param("AdministrationRoleARN"),
        execution_role_name=r._get_param("ExecutionRoleName"),
        auto_deployment=r._get_params().get("AutoDeployment"),
    )
    Stack.parse_template(template)  # a template that does not parse is refused at once
    store[name] = stack_set
    return {"StackSetId": stack_set_id}


def _update_stack_set(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    _refuse_if_running(stack_set)
    if r._get_param("TemplateBody"):
        Stack.parse_template(r._get_param("TemplateBody"))
        stack_set.template = r._get_param("TemplateBody")
    elif not r._get_param("UsePreviousTemplate"):
        raise ValidationError(message="Either TemplateBody or UsePreviousTemplate must be given")
    if r._get_param("Parameters") is not None:
        stack_set.parameters = _parameters(r._get_param("Parameters", []), stack_set.parameters)
    if r._get_param("Capabilities") is not None:
        stack_set.capabilities = list(r._get_param("Capabilities") or [])
    if r._get_param("Tags") is not None:
        stack_set.tags = {t["Key"]: t["Value"] for t in r._get_param("Tags") or []}
    for key, attr in (("AdministrationRoleARN", "administration_role_arn"), ("ExecutionRoleName", "execution_role_name")):
        if r._get_param(key):
            setattr(stack_set, attr, r._get_param(key))
    if r._get_param("Description") is not None:
        stack_set.description = r._get_param("Description")
    limited = r._get_param("Accounts") or (r._get_params().get("DeploymentTargets") or {})
    if limited:
        wanted = {(a, reg) for a, _ in _accounts_of(stack_set, r) for reg in _regions(r)}
        missing = sorted(wanted - set(stack_set.instances))
        if missing:
            raise StackInstanceNotFound(
                f"Stack instances not found for account(s)/region(s): "
                f"{', '.join(f'{a}/{reg}' for a, reg in missing)}"
            )
        chosen = [stack_set.instances[key] for key in sorted(wanted)]
    else:
        chosen = list(stack_set.instances.values())
    targets = [_Target(i.account, i.region, i.org_unit_id) for i in chosen]
    operation = _start(stack_set, r, "UPDATE", targets)
    _advance(stack_set)
    return {"OperationId": operation.operation_id}


def _delete_stack_set(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    _refuse_if_running(stack_set)
    if stack_set.instances:
        raise StackSetNotEmpty(
            f"StackSet {stack_set.name} has {len(stack_set.instances)} stack instance(s); delete them first"
        )
    stack_set.status = "DELETED"
    return {}


def _stack_set_dict(stack_set: _StackSet) -> dict[str, Any]:
    result: dict[str, Any] = {
        "StackSetName": stack_set.name,
        "StackSetId": stack_set.stack_set_id,
        "StackSetARN": stack_set.arn,
        "Status": stack_set.status,
        "TemplateBody": stack_set.template,
        "Parameters": dict(stack_set.parameters),
        "Capabilities": list(stack_set.capabilities),
        "Tags": dict(stack_set.tags),
        "PermissionModel": stack_set.permission_model,
        "ManagedExecution": {"Active": False},
    }
    if stack_set.description:
        result["Description"] = stack_set.description
    if stack_set.permission_model == "SELF_MANAGED":
        result["AdministrationRoleARN"] = stack_set.administration_role_arn or (
            f"arn:aws:iam::{stack_set.admin_account}:role/AWSCloudFormationStackSetAdministrationRole"
        )
        result["ExecutionRoleName"] = stack_set.execution_role_name or "AWSCloudFormationStackSetExecutionRole"
    else:
        result["AutoDeployment"] = stack_set.auto_deployment or {"Enabled": False}
        result["OrganizationalUnitIds"] = sorted({i.org_unit_id for i in stack_set.instances.values() if i.org_unit_id})
    return result


def _describe_stack_set(r: CloudFormationResponse) -> dict[str, Any]:
    return {"StackSet": _stack_set_dict(_find(r, r._get_param("StackSetName")))}


def _list_stack_sets(r: CloudFormationResponse) -> dict[str, Any]:
    wanted = r._get_param("Status")
    summaries = []
    for stack_set in _store(r).values():
        if wanted and stack_set.status != wanted:
            continue
        _advance(stack_set)
        summaries.append(
            {
                "StackSetName": stack_set.name,
                "StackSetId": stack_set.stack_set_id,
                "Status": stack_set.status,
                "PermissionModel": stack_set.permission_model,
            }
        )
    return {"Summaries": summaries}


def _create_stack_instances(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    regions = _regions(r)
    overrides = _parameters(r._get_param("ParameterOverrides", []))
    targets = []
    for account, unit in _accounts_of(stack_set, r):
        for region in regions:
            if (account, region) in stack_set.instances:
                continue  # CreateStackInstances is idempotent for existing instances
            targets.append(_Target(account, region, unit))
    operation = _start(stack_set, r, "CREATE", targets)
    for target in targets:
        stack_set.instances[(target.account, target.region)] = _Instance(
            target.account, target.region, target.org_unit_id, overrides, last_operation_id=operation.operation_id
        )
    _advance(stack_set)
    return {"OperationId": operation.operation_id}


def _update_stack_instances(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    regions = _regions(r)
    overrides = _parameters(r._get_param("ParameterOverrides", []))
    chosen = []
    for account, _unit in _accounts_of(stack_set, r):
        for region in regions:
            instance = stack_set.instances.get((account, region))
            if instance is None:
                raise StackInstanceNotFound(f"Stack instance not found for account {account} in region {region}")
            chosen.append(instance)
    targets = [_Target(i.account, i.region, i.org_unit_id) for i in chosen]
    operation = _start(stack_set, r, "UPDATE", targets)
    for instance in chosen:
        instance.overrides.update(overrides)
    _advance(stack_set)
    return {"OperationId": operation.operation_id}


def _delete_stack_instances(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    regions = _regions(r)
    retain = r._get_param("RetainStacks") in (True, "true", "True")
    targets = []
    for account, unit in _accounts_of(stack_set, r):
        for region in regions:
            if (account, region) in stack_set.instances:
                targets.append(_Target(account, region, unit))
    operation = _start(stack_set, r, "DELETE", targets, retain_stacks=retain)
    _advance(stack_set)
    return {"OperationId": operation.operation_id}


def _instance_dict(stack_set: _StackSet, instance: _Instance) -> dict[str, Any]:
    result: dict[str, Any] = {
        "StackSetId": stack_set.stack_set_id,
        "Region": instance.region,
        "Account": instance.account,
        "Status": instance.status,
        "StackInstanceStatus": {"DetailedStatus": instance.detailed_status},
        "DriftStatus": "NOT_CHECKED",
    }
    optional = {
        "StackId": instance.stack_id,
        "StatusReason": instance.reason,
        "OrganizationalUnitId": instance.org_unit_id,
        "LastOperationId": instance.last_operation_id,
    }
    result.update({key: value for key, value in optional.items() if value})
    return result


def _describe_stack_instance(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    key = (r._get_param("StackInstanceAccount"), r._get_param("StackInstanceRegion"))
    instance = stack_set.instances.get(key)
    if instance is None:
        raise StackInstanceNotFound(
            f"Stack instance not found for account {key[0]} in region {key[1]} of stack set {stack_set.name}"
        )
    result = _instance_dict(stack_set, instance)
    result["ParameterOverrides"] = [{"ParameterKey": k, "ParameterValue": v} for k, v in instance.overrides.items()]
    return {"StackInstance": result}


def _list_stack_instances(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    account = r._get_param("StackInstanceAccount")
    region = r._get_param("StackInstanceRegion")
    summaries = [
        _instance_dict(stack_set, instance)
        for instance in stack_set.instances.values()
        if (not account or instance.account == account) and (not region or instance.region == region)
    ]
    return {"Summaries": summaries}


def _operation_dict(stack_set: _StackSet, operation: _Operation, *, full: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "OperationId": operation.operation_id,
        "Action": operation.action,
        "Status": operation.status,
        "CreationTimestamp": to_datetime(operation.started_at),
        "StatusDetails": {"FailedStackInstancesCount": sum(t.status == "FAILED" for t in operation.targets)},
    }
    if operation.preferences:
        result["OperationPreferences"] = operation.preferences
    if operation.ended_at is not None:
        result["EndTimestamp"] = to_datetime(operation.ended_at)
    if operation.reason:
        result["StatusReason"] = operation.reason
    if full:
        result["StackSetId"] = stack_set.stack_set_id
        result["RetainStacks"] = operation.retain_stacks
        if operation.deployment_targets:
            result["DeploymentTargets"] = operation.deployment_targets
        if stack_set.permission_model == "SELF_MANAGED":
            settings = _stack_set_dict(stack_set)
            result["AdministrationRoleARN"] = settings["AdministrationRoleARN"]
            result["ExecutionRoleName"] = settings["ExecutionRoleName"]
    return result


def _describe_stack_set_operation(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    operation = stack_set.operation(r._get_param("OperationId"))
    return {"StackSetOperation": _operation_dict(stack_set, operation, full=True)}


def _list_stack_set_operations(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    return {"Summaries": [_operation_dict(stack_set, op, full=False) for op in stack_set.operations]}


def _list_stack_set_operation_results(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    operation = stack_set.operation(r._get_param("OperationId"))
    summaries = []
    for target in operation.targets:
        summary: dict[str, Any] = {
            "Account": target.account,
            "Region": target.region,
            "Status": target.status,
            "AccountGateResult": {
                "Status": "SKIPPED",
                "StatusReason": f"Function not found: arn:aws:lambda:{target.region}:{target.account}:"
                "function:AWSCloudFormationStackSetAccountGate",
            },
        }
        if target.reason:
            summary["StatusReason"] = target.reason
        if target.org_unit_id:
            summary["OrganizationalUnitId"] = target.org_unit_id
        summaries.append(summary)
    return {"Summaries": summaries}


def _stop_stack_set_operation(r: CloudFormationResponse) -> dict[str, Any]:
    stack_set = _find(r, r._get_param("StackSetName"))
    operation = stack_set.operation(r._get_param("OperationId"))
    if operation.status not in _DONE:
        for target in operation.targets:
            if target.status == "PENDING":
                target.status = "CANCELLED"
        operation.status, operation.ended_at = "STOPPED", now()
    return {}
