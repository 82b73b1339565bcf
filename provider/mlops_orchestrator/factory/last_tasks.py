"""Remember each pipeline's task ids, so that a config turning bad mid-run fails its run loudly.

When a config (or the defaults file above it) becomes invalid while one of its runs is active,
the DAG processor replaces the pipeline's DAG with its error DAG. Airflow's scheduler then marks
every task instance whose task is gone as ``removed`` (deferred ones too: their triggers are
cancelled), and the run ends without its tasks ever saying what went wrong. The error DAG
therefore keeps a stand-in for each task the pipeline's DAG last had, with its upstream tasks and trigger rule (see error_dag.py): the run's remaining tasks fail
with the config's problems instead, in the order the pipeline would have run them (a run created
on the error DAG's version may be run by workers that already parse the fixed config).

The DAG processor parses in a fresh process every 30 s, so the tasks are kept in a small file per
DAG id under the parse state folder (parse_state.py). The file's name carries a digest of them: a
parse of a good config costs one ``stat``, and the file is written only when they change.
Without the file (another machine, a cleaned temp folder) the error DAG has its usual task only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_orchestrator.factory.parse_state import state_dir, write_state

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import DAG

__all__ = ["TaskShape", "last_tasks", "remember_tasks", "shape_of", "tasks_folder"]

#: task id -> (its upstream task ids, its trigger rule)
TaskShape = dict[str, tuple[list[str], str]]


def tasks_folder() -> str:
    """Where the last good tasks are kept (under the parse state folder)."""
    return os.path.join(state_dir(), "task-ids")


def _folder() -> Path:
    return Path(tasks_folder())


def _prefix(dag_id: str) -> str:
    return hashlib.sha256(dag_id.encode()).hexdigest()[:32]


def shape_of(dag: DAG) -> TaskShape:
    """A DAG's tasks as its error DAG's stand-ins need them."""
    return {
        task.task_id: (sorted(task.upstream_task_ids), _rule(task))
        for task in dag.tasks
    }


def _rule(task) -> str:
    return str(getattr(task.trigger_rule, "value", task.trigger_rule))  # the enum's value, not its name


def remember_tasks(dag_id: str, shape: TaskShape, folder: str | None = None) -> str | None:
    """Keep ``shape`` as the last good DAG's tasks of ``dag_id`` (a no-op when unchanged).

    ``folder``: ``tasks_folder()``, when the caller remembers many DAGs (looked up once).
    Returns the file that holds them (None when it could not be written): while that file
    exists, the same tasks are remembered.
    """
    text = json.dumps({"dag_id": dag_id, "tasks": shape}, sort_keys=True)
    folder = folder or tasks_folder()
    prefix = _prefix(dag_id)
    marker = os.path.join(folder, f"{prefix}.{hashlib.sha256(text.encode()).hexdigest()[:16]}.json")
    if os.path.exists(marker):  # the parse of a good, unchanged config costs this stat only
        return marker
    if not write_state(marker, text):
        return None
    for older in Path(folder).glob(f"{prefix}.*.json"):
        if str(older) != marker:
            with contextlib.suppress(OSError):
                older.unlink()
    return marker


def last_tasks(dag_id: str) -> TaskShape:
    """The tasks ``dag_id`` had when it last built from a good config ({} when unknown)."""
    for marker in sorted(_folder().glob(f"{_prefix(dag_id)}.*.json")):
        try:
            data = json.loads(marker.read_text())
            if data.get("dag_id") != dag_id:
                continue
            return {str(t): ([str(u) for u in up], str(rule)) for t, (up, rule) in data["tasks"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return {}
