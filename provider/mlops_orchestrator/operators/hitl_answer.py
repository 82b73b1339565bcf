"""What a person answered to one of our human-in-the-loop gates, read from the HITL event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import Param


@dataclass(frozen=True)
class HitlAnswer:
    """The gate's answer: chosen option, who chose it (None when the time ran out), the comment."""

    chosen: str | None
    by: str | None
    comment: str
    timed_out: bool

    @classmethod
    def of(cls, event: dict[str, Any]) -> HitlAnswer:
        chosen = (event.get("chosen_options") or [None])[0]
        if event.get("timedout"):
            return cls(chosen, None, "", True)
        user = event.get("responded_by_user") or {}
        comment = ((event.get("params_input") or {}).get("comment") or "").strip()
        return cls(chosen, user.get("name") or user.get("id"), comment, False)


def hours(timeout: timedelta | None) -> float:
    """A response timeout in hours (0 when there is none), for messages."""
    return timeout.total_seconds() / 3600 if timeout else 0


def with_comment_param(kwargs: dict[str, Any], why: str) -> dict[str, Any]:
    """
    The gate's params: the DAG's (inside a DAG, ``params`` already holds them; HITLOperator
    keeps the task's only) plus an optional ``comment`` the person fills in with the answer.
    Takes ``params`` out of the operator's ``kwargs``.
    """
    given = kwargs.pop("params", None) or {}
    params = {key: given.get_param(key) for key in given} if hasattr(given, "get_param") else dict(given)
    params.setdefault("comment", Param("", type=["string", "null"], description=why, source="task"))
    return params
