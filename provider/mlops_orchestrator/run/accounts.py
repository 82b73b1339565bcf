"""Stage accounts on the local emulator: set up as a user sets up real ones, then reached as Airflow does.

Only for the emulator (``run --local``, ``demo``, tests). On AWS an administrator of each stage
account deploys ``cloudformation/target-account.yaml`` once (or the orchestrator account deploys
it as a StackSet); here the emulator's "root" of each account does it, through moto's
``x-moto-account-id`` header. The stages' Airflow connections then assume the account's
deployment role through STS, exactly as they would on AWS (the emulator checks the role exists
and trusts the orchestrator account).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from mlops_orchestrator.blueprint_files import read_blueprint
from mlops_orchestrator.run.airflow_env import LOCAL_CREDENTIALS

TARGET_ACCOUNT_STACK = "mlops-orchestrator-target-account"
#: The emulator's own account (moto's default), which plays the orchestrator account.
ORCHESTRATOR_ACCOUNT = "123456789012"


def account_client(endpoint_url: str, region: str, account_id: str) -> Callable[[str], Any]:
    """``client("cloudformation")`` acting as the administrator of ``account_id`` on the emulator."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["login"],
        aws_secret_access_key=LOCAL_CREDENTIALS["password"],
        region_name=region,
    )

    def client(service: str) -> Any:
        made = session.client(service, endpoint_url=endpoint_url)
        made.meta.events.register(
            "before-send.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account_id)
        )
        return made

    return client


def bootstrap_stage_account(
    endpoint_url: str, region: str, account_id: str, *, orchestrator_account: str = ORCHESTRATOR_ACCOUNT
) -> str:
    """Deploy the target-account template in one emulated account (once); return the deployment role ARN."""
    cloudformation = account_client(endpoint_url, region, account_id)("cloudformation")
    try:
        stack = cloudformation.describe_stacks(StackName=TARGET_ACCOUNT_STACK)["Stacks"][0]
    except cloudformation.exceptions.ClientError:
        stack = None
    if stack is None or stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        if stack is not None:
            cloudformation.delete_stack(StackName=stack["StackId"])
            _wait(cloudformation, stack["StackId"], ("DELETE_COMPLETE",))
        stack_id = cloudformation.create_stack(
            StackName=TARGET_ACCOUNT_STACK,
            TemplateBody=read_blueprint("target-account.yaml"),
            Parameters=[{"ParameterKey": "OrchestratorAccountId", "ParameterValue": orchestrator_account}],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )["StackId"]
        stack = _wait(cloudformation, stack_id, ("CREATE_COMPLETE",))
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return outputs["DeploymentRoleArn"]


def _wait(cloudformation: Any, stack_id: str, wanted: tuple[str, ...], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
        status = stack["StackStatus"]
        if status in wanted:
            return stack
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
            reasons = [
                f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}"
                for e in events
                if e["ResourceStatus"].endswith("FAILED") and e.get("ResourceStatusReason")
            ]
            raise RuntimeError(
                f"stack {TARGET_ACCOUNT_STACK} in the emulator ended {status}, not {wanted[0]}: "
                + ("; ".join(reasons) or "no reason given")
            )
        time.sleep(0.2)


def set_stage_connection(conn_id: str, endpoint_url: str, region: str, role_arn: str) -> None:
    """An Airflow AWS connection (environment variable) that assumes ``role_arn`` on the emulator."""
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
        {
            "conn_type": "aws",
            **LOCAL_CREDENTIALS,
            "extra": {
                "endpoint_url": endpoint_url,
                "region_name": region,
                "role_arn": role_arn,
                # the provider never sends AssumeRole to endpoint_url: STS needs its own
                "service_config": {"sts": {"endpoint_url": endpoint_url}},
            },
        }
    )


def prepare_stage_accounts(config: Any, endpoint_url: str, region: str) -> list[str]:
    """Set up every stage account of a multi-account config and its connection; a line per stage."""
    if not getattr(config, "is_multi_account", False):
        return []
    lines = []
    for stage in config.stages.names():
        account = config.stages.account(stage)
        stage_region = account.region or config.region_name or region
        role_arn = bootstrap_stage_account(endpoint_url, stage_region, account.account_id)
        if account.aws_conn_id:
            set_stage_connection(account.aws_conn_id, endpoint_url, stage_region, role_arn)
        lines.append(f"stage {stage}: account {account.account_id} ({stage_region}) set up, deployment role {role_arn}")
    return lines


def stage_clients(config: Any, endpoint_url: str, region: str) -> dict[str, tuple[str, Callable[[str], Any]]]:
    """stage -> (account id, ``client(service)`` acting in that account) on the emulator."""
    if not getattr(config, "is_multi_account", False):
        return {}
    result = {}
    for stage in config.stages.names():
        account = config.stages.account(stage)
        stage_region = account.region or config.region_name or region
        result[stage] = (account.account_id, account_client(endpoint_url, stage_region, account.account_id))
    return result
