"""Remember each pipeline's task ids, so that a config turning bad mid-run fails its run loudly.

When a config (or the defaults file above it) becomes invalid while one of its runs is active,
the DAG processor replaces the pipeline's DAG with its error DAG. Airflow's scheduler then marks
every task instance whose task is gone as ``removed`` (deferred ones too: their triggers are
cancelled), and the run ends without its tasks ever saying what went wrong. The error DAG therefore keeps a stand-in for each task id the pipeline's DAG
last had (see error_dag.py): the run's remaining tasks fail with the config's problems instead.

The DAG processor parses in a fresh process every 30 s, so the ids are kept in a small file per
DAG id under the state folder of warning_log.py. The file's name carries a digest of the ids: a
parse of a good config costs one ``stat``, and the file is written only when the ids change.
Without the file (another machine, a cleaned temp folder) the error DAG has its usual task only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from mlops_orchestrator.factory.warning_log import state_dir

__all__ = ["last_task_ids", "remember_task_ids"]


def _folder() -> Path:
    return state_dir() / "task-ids"


def _prefix(dag_id: str) -> str:
    return hashlib.sha256(dag_id.encode()).hexdigest()[:32]


def remember_task_ids(dag_id: str, task_ids: Iterable[str]) -> None:
    """Keep ``task_ids`` as the last good DAG's tasks of ``dag_id`` (a no-op when unchanged)."""
    ids = sorted(task_ids)
    digest = hashlib.sha256("\n".join([dag_id, *ids]).encode()).hexdigest()
    folder = str(_folder())
    prefix = _prefix(dag_id)
    marker = os.path.join(folder, f"{prefix}.{digest[:16]}.json")
    if os.path.exists(marker):  # the parse of a good, unchanged config costs this stat only
        return
    try:
        os.makedirs(folder, exist_ok=True)
        partial = f"{marker}.{os.getpid()}"
        with open(partial, "w") as handle:
            json.dump({"dag_id": dag_id, "task_ids": ids}, handle)
        os.replace(partial, marker)
        for older in Path(folder).glob(f"{prefix}.*.json"):
            if str(older) != marker:
                with contextlib.suppress(OSError):
                    older.unlink()
    except OSError:  # an unwritable temp folder must not stop the parse
        pass


def last_task_ids(dag_id: str) -> list[str]:
    """The task ids ``dag_id`` had when it last built from a good config ([] when unknown)."""
    for marker in sorted(_folder().glob(f"{_prefix(dag_id)}.*.json")):
        try:
            data = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        if data.get("dag_id") == dag_id and isinstance(data.get("task_ids"), list):
            return [str(t) for t in data["task_ids"]]
    return []
