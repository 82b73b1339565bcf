"""Functions that tasks of generated DAGs call at run time (importable, never config values)."""

from __future__ import annotations

from typing import Any


def choose_action(
    deploy: str | list[str], deprovision: str | list[str], report: str | list[str] | None = None, **context: Any
) -> str | list[str]:
    """
    Branch on the run's ``action`` param: deploy the pipeline, or delete what it created (or, for
    DAGs that have one, only ``report`` on what is deployed).
    """
    targets = {"deploy": deploy, "deprovision": deprovision}
    if report is not None:
        targets["report"] = report
    action = (context.get("params") or {}).get("action", "deploy")
    if action not in targets:
        from airflow.providers.common.compat.sdk import AirflowFailException

        expected = " or ".join(repr(name) for name in targets)
        raise AirflowFailException(f"params.action must be {expected}, got {action!r}")
    return targets[action]


def raise_config_error(message: str) -> None:
    """The only task of a DAG whose config is invalid: fail, without retrying, with the problems."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    raise AirflowFailException(message)
