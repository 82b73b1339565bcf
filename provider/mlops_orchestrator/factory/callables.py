"""Functions that tasks of generated DAGs call at run time (importable, never config values)."""

from __future__ import annotations

from typing import Any


def choose_action(deploy: str, deprovision: str, **context: Any) -> str:
    """Branch on the run's ``action`` param: deploy the pipeline, or delete what it created."""
    action = (context.get("params") or {}).get("action", "deploy")
    if action not in ("deploy", "deprovision"):
        from airflow.providers.common.compat.sdk import AirflowFailException

        raise AirflowFailException(f"params.action must be 'deploy' or 'deprovision', got {action!r}")
    return deploy if action == "deploy" else deprovision


def raise_config_error(message: str) -> None:
    """The only task of a DAG whose config is invalid: fail, without retrying, with the problems."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    raise AirflowFailException(message)
