"""CloudFormation StackSets: one pipeline stage's stack in its account(s), deployed from this account.

The Amazon provider has nothing for StackSets. MWO deployed each stage of a multi-account pipeline
as a service-managed StackSet, and waited by reading the stack instance's status, which could
still show the previous operation's success; a failed instance blocked every later update. This
hook decides the next operation from what the stack set holds now (``next_deploy_step``), so a
retried task, a re-run and a run after a failure all do the right thing:

- nothing there yet: create the stack set, then its instances;
- the template or a parameter changed: update the stack set (one operation for its instances);
- a target without an instance: create it;
- an instance whose *create* failed (its stack rolled back to nothing usable, which CloudFormation
  will not update): delete the instance, then create it again;
- an instance whose *update* failed (its stack rolled back and still serves): update it again;
- everything current: nothing to do;
- an operation already running (a retried task, or someone else's): wait for it instead of
  starting another (StackSets run one operation at a time anyway).

Operations are waited for by their OperationId (waiters/cloudformation_stackset.json), and their
per-account results (``ListStackSetOperationResults``) explain a failure account by account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

#: Operation statuses that are over.
DONE_STATUSES = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
#: Instance statuses that need another operation (the last one failed or never reached it).
_FAILED_DETAILS = frozenset({"FAILED", "INOPERABLE", "CANCELLED"})


@dataclass(frozen=True)
class StackSetTargets:
    """
    Where a stage's stack instances go: accounts (self-managed), or organizational units
    narrowed to those accounts (service-managed, unless ``whole_org_unit``), in ``regions``.
    """

    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    org_unit_ids: tuple[str, ...] = ()
    whole_org_unit: bool = False

    @property
    def service_managed(self) -> bool:
        return bool(self.org_unit_ids)

    def request(self) -> dict[str, Any]:
        """The targets as the StackSet API takes them (``Accounts`` or ``DeploymentTargets``)."""
        if not self.service_managed:
            return {"Accounts": list(self.accounts), "Regions": list(self.regions)}
        targets: dict[str, Any] = {"OrganizationalUnitIds": list(self.org_unit_ids)}
        if not self.whole_org_unit:
            targets.update(Accounts=list(self.accounts), AccountFilterType="INTERSECTION")
        return {"DeploymentTargets": targets, "Regions": list(self.regions)}

    def covers(self, instance: dict[str, Any]) -> bool:
        """Whether an instance (a ListStackInstances summary) is one of these targets."""
        if instance.get("Region") not in self.regions:
            return False
        if self.service_managed and self.whole_org_unit:
            return instance.get("OrganizationalUnitId") in self.org_unit_ids
        return instance.get("Account") in self.accounts

    def to_dict(self) -> dict[str, Any]:
        return {
            "accounts": list(self.accounts),
            "regions": list(self.regions),
            "org_unit_ids": list(self.org_unit_ids),
            "whole_org_unit": self.whole_org_unit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackSetTargets:
        return cls(
            accounts=tuple(data.get("accounts") or ()),
            regions=tuple(data.get("regions") or ()),
            org_unit_ids=tuple(data.get("org_unit_ids") or ()),
            whole_org_unit=bool(data.get("whole_org_unit")),
        )


@dataclass(frozen=True)
class StackSetSpec:
    """What a stage's stack set should hold: template, parameters, tags and how it is run."""

    template_body: str
    parameters: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ("CAPABILITY_IAM",)
    administration_role_arn: str | None = None
    execution_role_name: str | None = None
    operation_preferences: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackSetStep:
    """
    What ``next_deploy_step`` / ``next_delete_step`` did: ``action`` is ``create``, ``update``,
    ``add_instances``, ``recover`` (delete instances whose create failed), ``retry`` (update
    instances whose update failed), ``delete_instances``, ``attach`` (an operation was running),
    ``deleted`` (the stack set is gone) or ``none`` (nothing left to do); ``operation_id`` is
    the operation to wait for (None when there is none).
    """

    action: str
    operation_id: str | None = None
    accounts: tuple[str, ...] = ()


def operation_id_for(*parts: str, step: int) -> str:
    """
    A StackSet OperationId for one step of one task try: ``airflow-{digest}-{step}``.

    The digest of (dag id, run id, task id, try) makes the id unique per try; the API also uses
    it as an idempotency token, so a request retried by botocore never starts a second operation.
    """
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]
    return f"airflow-{digest}-{step}"


class StackSetHook(AwsBaseHook):
    """
    CloudFormation client for StackSets, calling as ``call_as`` (``SELF``, or ``DELEGATED_ADMIN``
    for a delegated administrator of service-managed stack sets).
    """

    def __init__(self, *args: Any, call_as: str = "SELF", **kwargs: Any) -> None:
        kwargs["client_type"] = "cloudformation"
        super().__init__(*args, **kwargs)
        self.call_as = call_as.upper()

    @cached_property
    def waiter_path(self) -> Path:
        return Path(__file__).resolve().parents[1] / "waiters" / "cloudformation_stackset.json"

    # -- reading ----------------------------------------------------------------------------------

    def describe_stack_set(self, name: str) -> dict[str, Any] | None:
        """The stack set, or None when there is none of that name (or it was deleted)."""
        try:
            stack_set = self.conn.describe_stack_set(StackSetName=name, CallAs=self.call_as)["StackSet"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "StackSetNotFoundException":
                return None
            raise
        return None if stack_set.get("Status") == "DELETED" else stack_set

    def list_instances(self, name: str) -> list[dict[str, Any]]:
        paginator = self.conn.get_paginator("list_stack_instances")
        return [
            summary
            for page in paginator.paginate(StackSetName=name, CallAs=self.call_as)
            for summary in page["Summaries"]
        ]

    def running_operation(self, name: str) -> dict[str, Any] | None:
        """The operation in progress on the stack set, if any."""
        paginator = self.conn.get_paginator("list_stack_set_operations")
        for page in paginator.paginate(StackSetName=name, CallAs=self.call_as):
            for summary in page["Summaries"]:
                if summary.get("Status") not in DONE_STATUSES:
                    return summary
        return None

    def describe_operation(self, name: str, operation_id: str) -> dict[str, Any]:
        return self.conn.describe_stack_set_operation(
            StackSetName=name, OperationId=operation_id, CallAs=self.call_as
        )["StackSetOperation"]

    def operation_results(self, name: str, operation_id: str) -> list[dict[str, Any]]:
        paginator = self.conn.get_paginator("list_stack_set_operation_results")
        return [
            summary
            for page in paginator.paginate(StackSetName=name, OperationId=operation_id, CallAs=self.call_as)
            for summary in page["Summaries"]
        ]

    def failure_reasons(self, name: str, operation_id: str) -> list[str]:
        """Each account the operation failed in, with its reason: ``222222222222 us-east-1: reason``."""
        reasons = []
        for result in self.operation_results(name, operation_id):
            if result.get("Status") in ("FAILED", "CANCELLED"):
                why = result.get("StatusReason") or result.get("Status")
                reasons.append(f"account {result['Account']} ({result['Region']}): {result['Status']}: {why}")
        return reasons

    # -- planning ---------------------------------------------------------------------------------

    def next_deploy_step(
        self,
        name: str,
        spec: StackSetSpec,
        targets: StackSetTargets,
        operation_id: str,
    ) -> StackSetStep:
        """Start the next operation that brings the stack set to ``spec`` on ``targets`` (or none)."""
        running = self.running_operation(name) if self.describe_stack_set(name) else None
        if running is not None:
            self.log.info(
                "StackSet %s: operation %s (%s) is already %s; waiting for it instead of starting another.",
                name,
                running["OperationId"],
                running.get("Action"),
                running.get("Status"),
            )
            return StackSetStep("attach", running["OperationId"])
        stack_set = self.describe_stack_set(name)
        common = {"StackSetName": name, "CallAs": self.call_as, "OperationId": operation_id}
        preferences = {"OperationPreferences": spec.operation_preferences} if spec.operation_preferences else {}
        if stack_set is None:
            self.conn.create_stack_set(**self._stack_set_request(name, spec, targets))
            self.log.info("Created StackSet %s.", name)
            self.conn.create_stack_instances(**common, **targets.request(), **preferences)
            self.log.info("Creating its stack instances in %s.", _where(targets))
            return StackSetStep("create", operation_id, targets.accounts)
        instances = [i for i in self.list_instances(name) if targets.covers(i)]
        if self._differs(stack_set, spec):
            self.conn.update_stack_set(**self._update_request(name, spec), OperationId=operation_id, **preferences)
            self.log.info("Updating StackSet %s: its template or parameters changed.", name)
            return StackSetStep("update", operation_id, tuple(i["Account"] for i in instances))
        failed = [i for i in instances if _failed(i)]
        recreate = [i for i in failed if self._last_was_create(name, i)]
        if recreate:
            accounts = tuple(sorted({i["Account"] for i in recreate}))
            self.conn.delete_stack_instances(
                **common, **_narrowed(targets, accounts).request(), RetainStacks=False, **preferences
            )
            self.log.warning(
                "StackSet %s: the instance(s) in %s failed to create (%s); deleting them to create them again.",
                name,
                ", ".join(accounts),
                "; ".join(i.get("StatusReason") or "no reason given" for i in recreate),
            )
            return StackSetStep("recover", operation_id, accounts)
        if failed:
            accounts = tuple(sorted({i["Account"] for i in failed}))
            self.conn.update_stack_set(
                **self._update_request(name, spec),
                OperationId=operation_id,
                **_narrowed(targets, accounts).request(),
                **preferences,
            )
            self.log.warning(
                "StackSet %s: the last update failed in %s (%s); updating them again.",
                name,
                ", ".join(accounts),
                "; ".join(i.get("StatusReason") or "no reason given" for i in failed),
            )
            return StackSetStep("retry", operation_id, accounts)
        missing = _missing(targets, instances)
        if missing is not None:
            self.conn.create_stack_instances(**common, **missing.request(), **preferences)
            self.log.info("StackSet %s: creating stack instances in %s.", name, _where(missing))
            return StackSetStep("add_instances", operation_id, missing.accounts)
        outdated = [i for i in instances if i.get("Status") != "CURRENT"]
        if outdated:
            accounts = tuple(sorted({i["Account"] for i in outdated}))
            self.conn.update_stack_set(
                **self._update_request(name, spec),
                OperationId=operation_id,
                **_narrowed(targets, accounts).request(),
                **preferences,
            )
            return StackSetStep("retry", operation_id, accounts)
        self.log.info("StackSet %s is current in %s: nothing to deploy.", name, _where(targets))
        return StackSetStep("none")

    def next_delete_step(
        self, name: str, targets: StackSetTargets | None, operation_id: str, *, retain_stacks: bool = False
    ) -> StackSetStep:
        """Delete the stack set's instances (all of them, or ``targets``'), then the stack set."""
        if self.describe_stack_set(name) is None:
            return StackSetStep("deleted")
        running = self.running_operation(name)
        if running is not None:
            self.log.info("StackSet %s: waiting for operation %s to end first.", name, running["OperationId"])
            return StackSetStep("attach", running["OperationId"])
        instances = self.list_instances(name)
        if targets is not None:
            instances = [i for i in instances if targets.covers(i)]
        if instances:
            request = _instances_request(instances, targets)
            self.conn.delete_stack_instances(
                StackSetName=name,
                CallAs=self.call_as,
                OperationId=operation_id,
                RetainStacks=retain_stacks,
                **request,
            )
            accounts = tuple(sorted({i["Account"] for i in instances}))
            self.log.info("StackSet %s: deleting its stack instances in %s.", name, ", ".join(accounts))
            return StackSetStep("delete_instances", operation_id, accounts)
        if targets is not None and self.list_instances(name):
            return StackSetStep("none")  # other targets' instances remain: keep the stack set
        self.conn.delete_stack_set(StackSetName=name, CallAs=self.call_as)
        self.log.info("Deleted StackSet %s.", name)
        return StackSetStep("deleted")

    # -- helpers ------------------------------------------------------------------------------

    def _stack_set_request(self, name: str, spec: StackSetSpec, targets: StackSetTargets) -> dict[str, Any]:
        """CreateStackSet: what an update sets, plus the description and the permission model."""
        request = self._update_request(name, spec)
        request["Description"] = f"mlops-orchestrator pipeline stage (stack set {name})"
        if targets.service_managed:
            request.update(PermissionModel="SERVICE_MANAGED", AutoDeployment={"Enabled": False})
        else:
            request["PermissionModel"] = "SELF_MANAGED"
        return request

    def _update_request(self, name: str, spec: StackSetSpec) -> dict[str, Any]:
        request: dict[str, Any] = {
            "StackSetName": name,
            "TemplateBody": spec.template_body,
            "Parameters": _parameters(spec.parameters),
            "Capabilities": list(spec.capabilities),
            "Tags": [{"Key": k, "Value": v} for k, v in spec.tags.items()],
            "CallAs": self.call_as,
        }
        if spec.administration_role_arn:
            request["AdministrationRoleARN"] = spec.administration_role_arn
        if spec.execution_role_name:
            request["ExecutionRoleName"] = spec.execution_role_name
        return request

    @staticmethod
    def _differs(stack_set: dict[str, Any], spec: StackSetSpec) -> bool:
        current = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack_set.get("Parameters", [])}
        current_tags = {t["Key"]: t["Value"] for t in stack_set.get("Tags", [])}
        return (
            stack_set.get("TemplateBody") != spec.template_body
            or current != {k: str(v) for k, v in spec.parameters.items()}
            or current_tags != dict(spec.tags)
        )

    def _last_was_create(self, name: str, instance: dict[str, Any]) -> bool:
        """Whether the operation that left this instance failed was the one creating it."""
        if not instance.get("StackId"):
            return True  # its stack never came to exist: nothing to update
        operation_id = instance.get("LastOperationId")
        if not operation_id:
            return False
        try:
            return self.describe_operation(name, operation_id).get("Action") == "CREATE"
        except ClientError:
            return False


def _failed(instance: dict[str, Any]) -> bool:
    detailed = (instance.get("StackInstanceStatus") or {}).get("DetailedStatus")
    return instance.get("Status") == "INOPERABLE" or detailed in _FAILED_DETAILS


def _parameters(parameters: dict[str, Any]) -> list[dict[str, str]]:
    return [{"ParameterKey": key, "ParameterValue": str(value)} for key, value in parameters.items()]


def _narrowed(targets: StackSetTargets, accounts: Sequence[str]) -> StackSetTargets:
    """The same kind of targets, limited to ``accounts``."""
    return StackSetTargets(tuple(accounts), targets.regions, targets.org_unit_ids, whole_org_unit=False)


def _missing(targets: StackSetTargets, instances: list[dict[str, Any]]) -> StackSetTargets | None:
    """The targets that have no instance yet (None when every target has one)."""
    if targets.service_managed and targets.whole_org_unit:
        have = {(i.get("OrganizationalUnitId"), i.get("Region")) for i in instances}
        if all((ou, r) in have for ou in targets.org_unit_ids for r in targets.regions):
            return None
        return targets  # creating instances for an OU skips the accounts that have them
    have_pairs = {(i["Account"], i["Region"]) for i in instances}
    accounts = tuple(a for a in targets.accounts if any((a, r) not in have_pairs for r in targets.regions))
    return _narrowed(targets, accounts) if accounts else None


def _instances_request(instances: list[dict[str, Any]], targets: StackSetTargets | None) -> dict[str, Any]:
    accounts = sorted({i["Account"] for i in instances})
    regions = sorted({i["Region"] for i in instances})
    units = sorted({i["OrganizationalUnitId"] for i in instances if i.get("OrganizationalUnitId")})
    if units:
        return {
            "DeploymentTargets": {
                "OrganizationalUnitIds": units,
                "Accounts": accounts,
                "AccountFilterType": "INTERSECTION",
            },
            "Regions": regions,
        }
    return {"Accounts": accounts, "Regions": regions}


def _where(targets: StackSetTargets) -> str:
    accounts = ", ".join(targets.accounts) or "every account"
    units = f" of {', '.join(targets.org_unit_ids)}" if targets.org_unit_ids else ""
    return f"{accounts}{units} ({', '.join(targets.regions)})"
