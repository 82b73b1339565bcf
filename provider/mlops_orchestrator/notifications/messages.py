"""What a notification says: a subject and a plain-text body per event, from the task's context.

Messages name the pipeline (DAG id, pipeline type, config file), the run and the task, say what
happened and link to the Airflow UI. They carry no config values, connection extras or
credentials: only ids, statuses, the error's first lines and the monitor's summary.
"""

from __future__ import annotations

import html
import re
from typing import Any

#: Key of the context entry with the event's details (the monitor's summary).
DETAILS_KEY = "mlops_orchestrator_details"
_MAX_ERROR = 1500
_SUBJECT_PREFIX = "[mlops-orchestrator]"


def sns_subject(subject: str) -> str:
    """SNS's rules: ASCII, no line breaks, at most 100 characters."""
    text = re.sub(r"\s+", " ", subject.encode("ascii", "replace").decode("ascii")).strip()
    return text if len(text) <= 100 else text[:97] + "..."


def as_html(text: str) -> str:
    return f"<pre style=\"font-family: monospace\">{html.escape(text)}</pre>"


def _ti(context: Any) -> Any:
    return context.get("ti") or context.get("task_instance")


def dag_id(context: Any, pipeline: dict[str, str]) -> str:
    """The pipeline's DAG id: the task instance's (the settings may not know it)."""
    return str(getattr(_ti(context), "dag_id", None) or pipeline.get("dag_id") or "?")


def _header(context: Any, pipeline: dict[str, str]) -> list[str]:
    ti = _ti(context)
    run_id = getattr(ti, "run_id", None) or getattr(context.get("dag_run"), "run_id", "?")
    source = f", config {pipeline['config']}" if pipeline.get("config") else ""
    lines = [
        f"Pipeline: {dag_id(context, pipeline)} ({pipeline.get('pipeline_type')}{source})",
        f"Run: {run_id}",
    ]
    if ti is not None:
        lines.append(f"Task: {ti.task_id} (try {getattr(ti, 'try_number', '?')})")
    return lines


def _log_url(context: Any) -> str | None:
    try:
        return _ti(context).log_url
    except Exception:  # no UI base URL configured: the message still goes out
        return None


def _error_text(exception: Any) -> str:
    text = str(exception) if exception is not None else "no error recorded"
    text = text.strip() or type(exception).__name__
    return text if len(text) <= _MAX_ERROR else text[:_MAX_ERROR] + " ..."


def failure(context: Any, pipeline: dict[str, str]) -> tuple[str, str]:
    ti = _ti(context)
    task = getattr(ti, "task_id", "?")
    subject = f"{_SUBJECT_PREFIX} {dag_id(context, pipeline)} failed: {task}"
    lines = [
        f"The pipeline {dag_id(context, pipeline)} failed.",
        "",
        *_header(context, pipeline),
        "",
        "Error:",
        _error_text(context.get("exception")),
    ]
    url = _log_url(context)
    if url:
        lines += ["", f"Log: {url}"]
    return subject, "\n".join(lines)


def approval(context: Any, pipeline: dict[str, str]) -> tuple[str, str]:
    task = context.get("task")
    question = getattr(task, "subject", None) or "An approval"
    subject = f"{_SUBJECT_PREFIX} {dag_id(context, pipeline)}: approval waiting - {question}"
    lines = [
        f"A person's decision is waiting in Airflow: {question}",
        "",
        *_header(context, pipeline),
    ]
    body = getattr(task, "body", None)
    if body:
        lines += ["", str(body).strip()]
    link = _required_actions_link(context)
    if link:
        lines += ["", f"Answer it in Airflow's Required Actions: {link}"]
    timeout = getattr(task, "response_timeout", None)
    if timeout:
        lines.append(f"Unanswered after {timeout}, the default answer is taken.")
    return subject, "\n".join(lines)


def _required_actions_link(context: Any) -> str | None:
    task, ti = context.get("task"), _ti(context)
    generate = getattr(task, "generate_link_to_ui", None)
    if generate is not None and ti is not None:
        try:
            return generate(task_instance=ti)
        except Exception:  # no [api] base_url: fall back to the task's page
            pass
    return _log_url(context)


def violations(context: Any, pipeline: dict[str, str]) -> tuple[str, str]:
    summary = context.get(DETAILS_KEY) or {}
    count = summary.get("violations", 0)
    schedule = summary.get("schedule") or summary.get("monitoring_schedule") or "?"
    subject = f"{_SUBJECT_PREFIX} {dag_id(context, pipeline)}: {count} monitor violation(s)"
    lines = [
        f"The latest execution of monitoring schedule {schedule} found {count} violation(s).",
        "",
        *_header(context, pipeline),
        f"Execution: {summary.get('status')} (scheduled {summary.get('scheduled_time')})",
    ]
    by_check = summary.get("by_check") or {}
    if by_check:
        lines.append("By check: " + ", ".join(f"{check} {n}" for check, n in sorted(by_check.items())))
    features = summary.get("features") or []
    if features:
        lines.append("Features: " + ", ".join(map(str, features[:30])))
    if summary.get("report_uri"):
        lines.append(f"Report: {summary['report_uri']}")
    if summary.get("violation_lines"):
        lines += ["", "Violations:", *summary["violation_lines"]]
    url = _log_url(context)
    if url:
        lines += ["", f"Log: {url}"]
    return subject, "\n".join(lines)


COMPOSERS = {"failure": failure, "approval": approval, "violations": violations}
