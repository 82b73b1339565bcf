"""Multi-account promotion: the stage accounts and how a pipeline reaches them (MWO's option 2).

``stages`` (in defaults.yaml, or a config) names the dev, staging and prod accounts; when it is
set, deployment pipelines deploy stage by stage in that order, with a gate before each stage but
the first. ``multi_account`` says how a stage's stack gets into its account: as a CloudFormation
StackSet from the orchestrator account (MWO's way), or directly, through an Airflow AWS
connection that assumes a role in the stage's account. Nothing here imports Airflow or boto3.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, WithJsonSchema, model_validator

from .common import STAGES, STRICT, AccountId, IntRange, LaxBool, LaxFloat, OrgUnitId, Region, _pattern

__all__ = [
    "Approval",
    "MultiAccount",
    "OperationPreferences",
    "StageAccount",
    "StageAccounts",
]


def _lower_enum(*values: str) -> Any:
    """A string enum that also takes MWO's / the API's upper-case spelling (SELF_MANAGED, ...)."""

    def convert(value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    return Annotated[
        Literal[values],  # type: ignore[valid-type]
        BeforeValidator(convert),
        WithJsonSchema({"type": "string", "enum": [*values, *(v.upper() for v in values)]}),
    ]


def _upper_enum(*values: str) -> Any:
    """A string enum in the API's upper case that also takes lower case."""

    def convert(value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    return Annotated[
        Literal[values],  # type: ignore[valid-type]
        BeforeValidator(convert),
        WithJsonSchema({"type": "string", "enum": [*values, *(v.lower() for v in values)]}),
    ]


Approval = _lower_enum("manual", "automatic")
ConnectionId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
IamRoleArn = Annotated[
    str,
    _pattern(
        r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$",
        "expected an IAM role ARN like arn:aws:iam::111122223333:role/AWSCloudFormationStackSetAdministrationRole",
    ),
]
IamRoleName = Annotated[
    str,
    _pattern(
        r"^[A-Za-z0-9_+=,.@-]{1,64}$",
        "expected an IAM role name like AWSCloudFormationStackSetExecutionRole (letters, digits and _+=,.@-)",
    ),
]


class StageAccount(BaseModel):
    """Where one stage deploys: the account, its organizational unit, its region, and its gate."""

    model_config = STRICT

    account_id: AccountId
    org_unit_id: OrgUnitId | None = Field(
        None, description="the account's organizational unit (service-managed StackSets target it)"
    )
    region: Region | None = Field(None, description="the stage's region (default: the pipeline's region)")
    approval: Approval | None = Field(
        None,
        description="the gate before deploying to this stage: manual (a person approves in the Airflow UI) or "
        "automatic; default manual, except for the first stage, which has no gate",
    )
    aws_conn_id: ConnectionId | None = Field(
        None,
        description="Airflow AWS connection whose extra has the role_arn to assume in this account "
        "(multi_account.method assume_role; and for the jobs a stage runs, e.g. batch transforms)",
    )


class StageAccounts(BaseModel):
    """The accounts of the dev/staging/prod stages (MWO's multi-account stack parameters)."""

    model_config = STRICT

    dev: StageAccount | None = None
    staging: StageAccount | None = None
    prod: StageAccount | None = None

    def names(self) -> list[str]:
        """The stages that have an account, in promotion order."""
        return [s for s in STAGES if getattr(self, s) is not None]

    def account(self, stage: str) -> StageAccount:
        found = getattr(self, stage, None)
        if found is None:
            raise KeyError(f"stage {stage!r} has no account in stages (stages with one: {', '.join(self.names())})")
        return found

    def gate(self, stage: str) -> str:
        """``manual`` or ``automatic``: the stage's ``approval``, else manual for all but the first stage."""
        chosen = self.account(stage).approval
        if chosen is not None:
            return chosen
        return "automatic" if stage == self.names()[0] else "manual"

    @model_validator(mode="after")
    def _not_empty(self) -> StageAccounts:
        if not self.names():
            raise ValueError("give at least one of dev, staging, prod")
        return self


class OperationPreferences(BaseModel):
    """StackSet operation preferences (the API's, in snake case); each count or its percentage."""

    model_config = STRICT

    region_concurrency_type: _upper_enum("SEQUENTIAL", "PARALLEL") | None = None
    max_concurrent_count: IntRange(1) | None = None
    max_concurrent_percentage: IntRange(1, 100) | None = None
    failure_tolerance_count: IntRange(0) | None = None
    failure_tolerance_percentage: IntRange(0, 100) | None = None
    concurrency_mode: _upper_enum("STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE") | None = None

    @model_validator(mode="after")
    def _count_or_percentage(self) -> OperationPreferences:
        for what in ("max_concurrent", "failure_tolerance"):
            if getattr(self, f"{what}_count") is not None and getattr(self, f"{what}_percentage") is not None:
                raise ValueError(f"give {what}_count or {what}_percentage, not both")
        return self

    def to_api(self) -> dict[str, Any]:
        """The ``OperationPreferences`` of a StackSet request (only what is set)."""
        names = {
            "region_concurrency_type": "RegionConcurrencyType",
            "max_concurrent_count": "MaxConcurrentCount",
            "max_concurrent_percentage": "MaxConcurrentPercentage",
            "failure_tolerance_count": "FailureToleranceCount",
            "failure_tolerance_percentage": "FailureTolerancePercentage",
            "concurrency_mode": "ConcurrencyMode",
        }
        return {api: getattr(self, field) for field, api in names.items() if getattr(self, field) is not None}


class MultiAccount(BaseModel):
    """How stage stacks reach their accounts: StackSets from this account, or assumed roles."""

    model_config = STRICT

    method: _lower_enum("stackset", "assume_role") = Field(
        "stackset",
        description="stackset: one CloudFormation StackSet per stage, run from the orchestrator account "
        "(MWO's way); assume_role: each stage's stack deployed through the stage's aws_conn_id",
    )
    permission_model: _lower_enum("self_managed", "service_managed") = Field(
        "self_managed",
        description="StackSet permissions: self_managed (an administration role here, an execution role in each "
        "stage account) or service_managed (AWS Organizations; stages need org_unit_id)",
    )
    call_as: _lower_enum("self", "delegated_admin") = Field(
        "self",
        description="service_managed: call as the management account (self) or as a delegated administrator",
    )
    administration_role_arn: IamRoleArn | None = Field(
        None, description="self_managed: the role CloudFormation uses here (default AWSCloudFormationStackSetAdministrationRole)"
    )
    execution_role_name: IamRoleName | None = Field(
        None, description="self_managed: the role assumed in each stage account (default AWSCloudFormationStackSetExecutionRole)"
    )
    operation_preferences: OperationPreferences | None = None
    whole_org_unit: LaxBool = Field(
        False,
        description="service_managed: deploy to every account of the stage's org_unit_id (as MWO did) instead of "
        "only the stage's account_id",
    )
    approval_timeout_hours: Annotated[LaxFloat, Field(gt=0)] | None = Field(
        None, description="a manual gate nobody answered within this many hours stops the promotion"
    )

    @model_validator(mode="after")
    def _consistent(self) -> MultiAccount:
        problems = []
        if self.method == "stackset" and self.permission_model == "self_managed":
            if self.call_as != "self":
                problems.append("call_as delegated_admin needs permission_model service_managed")
            if self.whole_org_unit:
                problems.append("whole_org_unit needs permission_model service_managed")
        if self.method == "stackset" and self.permission_model == "service_managed":
            for name in ("administration_role_arn", "execution_role_name"):
                if getattr(self, name) is not None:
                    problems.append(f"{name} is only used with permission_model self_managed")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def uses_stacksets(self) -> bool:
        return self.method == "stackset"


#: The settings a pipeline deploys with when ``stages`` is given and ``multi_account`` is not.
DEFAULT_MULTI_ACCOUNT = MultiAccount()


def stage_problems(
    stages: StageAccounts | None,
    multi_account: MultiAccount | None,
    *,
    promotes: bool,
    stage_api_reason: str | None,
) -> list[tuple[str, str]]:
    """
    What the stages and the multi-account method need of each other, as ``(field, message)``.

    ``promotes``: the pipeline deploys stage by stage. ``stage_api_reason``: why the pipeline
    also calls AWS inside a stage's account (e.g. a batch transform job runs there), in which
    case every stage needs a connection whatever the method, since a StackSet only deploys stacks.
    """
    if stages is None:
        if multi_account is not None and promotes:
            return [("multi_account", "needs stages: the dev, staging and prod accounts to deploy to")]
        return []
    if not promotes:
        return []
    settings = multi_account or DEFAULT_MULTI_ACCOUNT
    problems: list[tuple[str, str]] = []
    seen: dict[tuple[str, str | None], str] = {}
    for stage in stages.names():
        account = stages.account(stage)
        place = (account.account_id, account.region)
        if place in seen:
            problems.append(
                (
                    f"stages.{stage}",
                    f"same account ({account.account_id}) and region as stage {seen[place]}: each stage "
                    "deploys the pipeline's stack once, so stages need different accounts or regions",
                )
            )
        seen.setdefault(place, stage)
        if account.aws_conn_id is None:
            if settings.method == "assume_role":
                problems.append(
                    (
                        f"stages.{stage}.aws_conn_id",
                        f"required with multi_account.method assume_role: an Airflow AWS connection whose "
                        f"extra has the role_arn to assume in account {account.account_id}",
                    )
                )
            elif stage_api_reason:
                problems.append(
                    (
                        f"stages.{stage}.aws_conn_id",
                        f"required for this pipeline ({stage_api_reason}, in account {account.account_id}; a "
                        "StackSet only deploys stacks): an Airflow AWS connection with the role_arn to assume there",
                    )
                )
        if settings.uses_stacksets and settings.permission_model == "service_managed" and account.org_unit_id is None:
            problems.append(
                (
                    f"stages.{stage}.org_unit_id",
                    "required with multi_account.permission_model service_managed (StackSets target "
                    "organizational units)",
                )
            )
    return problems
