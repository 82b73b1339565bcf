"""The DAG-level settings every generated DAG shares: schedule, tags, owner, retries, params, failure notifications."""

from __future__ import annotations

import functools
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import DAG, Param

from mlops_orchestrator.notifications import notifiers_for

if TYPE_CHECKING:
    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

PROVIDER_TAG = "mlops-orchestrator"
#: The tag of a config's error DAG (error_dag.py); here, so telling a good DAG needs no import of it.
INVALID_TAG = "invalid-config"

ACTION_PARAM = Param(
    "deploy",
    type="string",
    enum=["deploy", "deprovision"],
    description="deploy: create or update what this pipeline deploys. "
    "deprovision: delete it (the CloudFormation stack and its resources).",
)


def new_dag(
    config: PipelineConfig,
    ctx: BuildContext,
    *,
    with_action: bool = True,
    schedule: Any = None,
    action_param: Param | None = None,
) -> DAG:
    """
    A DAG carrying the config's schedule (or ``schedule``, e.g. assets), tags, owner, retries, params.

    ``action_param`` replaces the deploy/deprovision ``action`` param (a family with more actions).
    """
    params: dict[str, Any] = {"action": action_param or ACTION_PARAM} if with_action else {}
    params.update(_user_params(config))
    default_args: dict[str, Any] = {
        "owner": config.owner,
        "retries": config.retries,
        "retry_delay": timedelta(seconds=config.retry_delay_seconds),
    }
    relative_path = ctx.relative_path
    on_failure = notifiers_for(config, "failure", relative_path)
    if on_failure:
        # each task's final failure (after its retries) is sent, with its error
        default_args["on_failure_callback"] = on_failure
    return DAG(
        **{
            **ctx.dag_settings,
            "dag_id": ctx.dag_id,
            "description": config.description or f"{config.pipeline_type} pipeline from {relative_path}",
            "schedule": schedule if schedule is not None else config.schedule,
            "start_date": config.start_date,
            "catchup": config.catchup,
            "tags": sorted({PROVIDER_TAG, config.pipeline_type, *config.tags}),
            "default_args": default_args,
            "params": params,
            # Two runs deploying the same stack at once would fight over it.
            "max_active_runs": 1,
            "doc_md": _doc(config, relative_path, ctx.memo),
        }
    )


def airflow_dag_settings() -> dict[str, Any]:
    """
    The DAG arguments whose defaults Airflow reads from its config, read once.

    ``DAG()`` reads ``max_active_tasks_per_dag``, ``disable_bundle_versioning`` and the like from
    Airflow's config for every DAG it makes, unless given: at 1000 configs those reads were a
    tenth of a parse. The loader reads them once per parse, through the DAG class's own defaults
    (so each DAG gets exactly the value it would have read), and passes them to every DAG.
    """
    import attrs

    settings: dict[str, Any] = {}
    for option in attrs.fields(DAG):
        default = option.default
        if (
            option.init
            and isinstance(default, attrs.Factory)
            and not default.takes_self
            and isinstance(default.factory, functools.partial)  # conf.getint(section, key) and kin
        ):
            value = default.factory()
            if value is None or isinstance(value, (bool, int, float, str)):  # shared by every DAG
                settings[option.alias or option.name] = value
    return settings


@contextmanager
def building(dag: DAG) -> Iterator[DAG]:
    """
    ``with dag:`` for adding a generated DAG's tasks, with the DAG's params set aside meanwhile.

    Airflow deep-copies the DAG's params into every task it creates, once per class of the
    operator's hierarchy that has its own ``__init__`` (four copies for our stack operators):
    at 1000 configs that was the largest single cost of a parse. The copies are never read: a
    running task's params are the DAG's merged with the task's own (``process_params``), and the
    trigger form and run conf use the DAG's. So the tasks are made while the DAG has no params,
    and the params come back before the DAG is returned; tasks' own params (a gate's
    ``comment``) are kept.
    """
    params = dag.params
    dag.params = {}
    try:
        with dag:
            yield dag
    finally:
        dag.params = params


def _user_params(config: PipelineConfig) -> dict[str, Any]:
    """The config's ``params``: plain values, or Param definitions for the trigger form."""
    result: dict[str, Any] = {}
    for name, spec in (config.params or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            result[name] = Param(spec["default"], **{k: v for k, v in spec.items() if k != "default"})
        else:
            result[name] = spec
    return result


def _doc(config: PipelineConfig, relative_path: str, memo: MutableMapping[str, str] | None = None) -> str:
    memo = {} if memo is None else memo
    body = memo.get("docs_json")
    if body is None:  # pydantic writes the JSON itself: a fifth of json.dumps over model_dump
        body = memo["docs_json"] = config.model_dump_json(indent=2, exclude_none=True, exclude_defaults=True)
    doc = (
        f"### {config.pipeline_type}\n\nGenerated by airflow-provider-mlops-orchestrator from "
        f"`{relative_path}`. Trigger with `action: deprovision` to delete what it deployed.\n\n"
    )
    warnings = config.warnings
    if warnings:
        doc += "#### Warnings\n\nThe config is valid; these keys were read past, as MWO did:\n\n"
        doc += "".join(f"- `{replace(w, file=relative_path).format()}`\n" for w in warnings) + "\n"
    return doc + f"```json\n{body}\n```\n"
