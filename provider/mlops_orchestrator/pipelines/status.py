"""A pipeline's state in our words: its config, its Airflow runs, and what it deployed where.

What MWO's ``pipelinestatus`` answered with a raw CodePipeline dump is said here in the terms of
the pipeline: the last run and each of its steps, then each stage with its account, its stacks (or
stack-set instances), its endpoints and its monitoring schedules with their recent violations.
AWS is read through ``run/resources.py`` (the reader ``run`` and ``demo`` report with), each stage
through its own connection, so a stage account is seen as the DAG's tasks see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlops_orchestrator.pipelines.catalog import PipelineEntry

#: ``client_factory(aws_conn_id, region_name) -> (service_name -> boto3 client)``
ClientFactory = Callable[[str, "str | None"], Callable[[str], Any]]

#: monitoring executions per schedule kept for the violations chart
HISTORY = 10


def airflow_clients(aws_conn_id: str, region_name: str | None) -> Callable[[str], Any]:
    """Clients through an Airflow AWS connection, as the pipeline's tasks make them (role, endpoint, region)."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = AwsBaseHook(aws_conn_id=aws_conn_id, client_type=service, region_name=region_name).conn
        return cache[service]

    return client


def runs_of(dag_id: str, limit: int = 10) -> dict[str, Any]:
    """The DAG's state in Airflow: whether it exists and is paused, its latest runs, the last run's steps."""
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        dag = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
        runs = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc()).limit(limit)
        ).all()
        result: dict[str, Any] = {
            "dag": None
            if dag is None
            else {"is_paused": bool(dag.is_paused), "tags": sorted(t.name for t in dag.tags)},
            "runs": [_run(r) for r in runs],
            "last_run": None,
        }
        if runs:
            last = runs[0]
            instances = session.scalars(
                select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == last.run_id)
            ).all()
            steps = sorted(instances, key=lambda ti: (ti.start_date is None, ti.start_date or 0, ti.task_id))
            result["last_run"] = {
                **_run(last),
                "steps": [
                    {
                        "task_id": ti.task_id,
                        "map_index": ti.map_index,
                        "state": str(ti.state) if ti.state else None,
                        "try_number": ti.try_number,
                        "start_date": _iso(ti.start_date),
                        "end_date": _iso(ti.end_date),
                    }
                    for ti in steps
                ],
            }
    return result


def _run(run: Any) -> dict[str, Any]:
    conf = run.conf if isinstance(run.conf, dict) else {}
    return {
        "run_id": run.run_id,
        "state": str(run.state) if run.state else None,
        "run_type": str(run.run_type),
        "action": conf.get("action", "deploy"),
        "run_after": _iso(run.run_after),
        "start_date": _iso(run.start_date),
        "end_date": _iso(run.end_date),
        "triggered_by": getattr(run, "triggering_user_name", None),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None


def stage_status(entry: PipelineEntry, client_factory: ClientFactory) -> list[dict[str, Any]]:
    """
    Each stage the pipeline deploys to, with the account it is in and what the pipeline holds there.

    A single-account pipeline has one stage (its ``stage`` setting). A multi-account one: its stack
    sets are read in the orchestrator account (each instance's account and status), and each
    stage with a connection is read in its own account (stacks, endpoints, monitoring). An account
    that cannot be read says why instead of failing the whole status.
    """
    from mlops_orchestrator.run.resources import (
        pipeline_monitoring_schedules,
        pipeline_stack_sets,
        pipeline_stacks,
        pipeline_training_jobs,
    )

    config = entry.config
    if config is None:
        return []
    dag_id = entry.dag_id

    def read(conn_id: str | None, region: str | None, with_stack_sets: bool = False) -> dict[str, Any]:
        if not conn_id:
            return {"error": "no aws_conn_id for this stage: its account is read through its stack set only"}
        try:
            client = client_factory(conn_id, region)
            stacks, endpoints = pipeline_stacks(client, dag_id)
            found: dict[str, Any] = {
                "account": _account(client),
                "stacks": [{k: s[k] for k in ("name", "status", "reason")} for s in stacks],
                "endpoints": endpoints,
                "monitoring_schedules": pipeline_monitoring_schedules(client, dag_id, history=HISTORY),
            }
            if config.pipeline_type.startswith("model_"):
                found["training_jobs"] = pipeline_training_jobs(client, dag_id, recent=20)[:5]
            if with_stack_sets:
                found["stack_sets"] = pipeline_stack_sets(client, dag_id)
            return found
        except Exception as err:  # noqa: BLE001 - one unreadable account must not hide the others
            return {"error": f"{type(err).__name__}: {err}"}

    if not config.is_multi_account:
        found = read(config.aws_conn_id, config.region_name)
        return [{"stage": config.stage, "aws_conn_id": config.aws_conn_id, "region": config.region_name, **found}]

    orchestrator = read(config.aws_conn_id, config.region_name, with_stack_sets=True)
    stack_sets = orchestrator.get("stack_sets", [])
    stages = []
    for name in config.stages.names():
        account = config.stages.account(name)
        region = account.region or config.region_name
        stage: dict[str, Any] = {
            "stage": name,
            "account": account.account_id,
            "region": region,
            "aws_conn_id": account.aws_conn_id,
            "approval": getattr(account, "approval", None),
            "stack_set_instances": [
                {"stack_set": s["name"], **instance}
                for s in stack_sets
                if s["name"].endswith(f"-{name}")
                for instance in s["instances"]
                if instance["account"] == account.account_id
            ],
        }
        found = read(account.aws_conn_id, region) if account.aws_conn_id else {}
        if found.get("account") not in (None, account.account_id):
            found["error"] = (
                f"connection {account.aws_conn_id} reaches account {found['account']}, not the stage's {account.account_id}"
            )
        stage.update({k: v for k, v in found.items() if k != "account"})
        stages.append(stage)
    if "error" in orchestrator:
        stages.insert(0, {"stage": "orchestrator", "aws_conn_id": config.aws_conn_id, "error": orchestrator["error"]})
    return stages


def _account(client: Callable[[str], Any]) -> str | None:
    try:
        return client("sts").get_caller_identity()["Account"]
    except Exception:  # noqa: BLE001 - the account is information, not a requirement
        return None


def pipeline_status(entry: PipelineEntry, client_factory: ClientFactory | None, *, runs: int = 10) -> dict[str, Any]:
    """
    The whole status of one pipeline (what ``POST /pipelinestatus`` and ``mlops-orchestrator status`` answer).

    ``client_factory`` None leaves AWS out (the state from the config and Airflow only).
    """
    status = entry.to_dict()
    status.update(runs_of(entry.dag_id, runs))
    status["state"] = summary_state(status)
    if client_factory is not None and entry.config is not None:
        status["stages"] = stage_status(entry, client_factory)
    return status


def summary_state(status: dict[str, Any]) -> str:
    """One word for the page and the CLI: invalid, not_parsed, never_run, or the last run's state."""
    if not status["valid"]:
        return "invalid"
    if status.get("dag") is None:
        return "not_parsed"
    last = status.get("last_run")
    return last["state"] if last else "never_run"
