"""Driving an operator outside a DAG run, as Airflow would: a task instance and the triggerer's part.

Imported by the integration tests (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import asyncio
import importlib


class RecordingTaskInstance:
    """Just enough of a task instance for execute(): its identity and what it pushes to XCom."""

    def __init__(self, task_id: str, run_id: str = "manual__test", try_number: int = 1):
        self.dag_id = "operator_test"
        self.run_id = run_id
        self.task_id = task_id
        self.map_index = -1
        self.try_number = try_number
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str, key: str) -> object:
        return self.xcom.get(key)


def run_trigger(trigger) -> dict:
    """Serialize the trigger as the triggerer receives it, rebuild it, and run it to its event."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)

    async def first_event():
        async for event in rebuilt.run():
            return event.payload

    return asyncio.run(first_event())
