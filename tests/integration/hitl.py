"""Answering Airflow's human-in-the-loop tasks while ``dag.test()`` waits, as a person or the scheduler would.

Imported by the integration tests (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any


def _configure_models() -> None:
    """
    Import every Airflow model and configure SQLAlchemy's mappers here, in the test's thread:
    the answering thread would otherwise configure them at its first query, racing dag.test()
    doing the same (a deadlock, or "failed to locate a name" when the test runs first in a process).
    """
    from airflow.models import import_all_models
    from sqlalchemy.orm import configure_mappers

    import_all_models()
    configure_mappers()


def _when_awaiting_input(dag_id: str, task_id: str, timeout: float, act: Callable[[Any, Any], None]) -> threading.Thread:
    """In a thread: once the task waits for input, ``act(task_instance, session)``; give up after ``timeout``."""

    def watch() -> None:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import select

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with create_session() as session:
                ti = session.scalars(
                    select(TaskInstance).where(
                        TaskInstance.dag_id == dag_id,
                        TaskInstance.task_id == task_id,
                        TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                    )
                ).first()
                if ti is not None:
                    act(ti, session)
                    return
            time.sleep(0.5)

    _configure_models()
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def respond(dag_id: str, task_id: str, option: str, comment: str = "", timeout: float = 240) -> threading.Thread:
    """
    Answer the human-in-the-loop task once it waits for input, through the Airflow API's own
    handler (what the Required Actions page calls), while dag.test() waits for it.
    """

    def answer(ti: Any, session: Any) -> None:
        from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
        from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail

        update_hitl_detail(
            dag_id=dag_id,
            dag_run_id=ti.run_id,
            task_id=task_id,
            update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[option], params_input={"comment": comment}),
            user=SimpleNamespace(get_id=lambda: "7", get_name=lambda: "risk-officer"),
            session=session,
            map_index=-1,
        )

    return _when_awaiting_input(dag_id, task_id, timeout, answer)


def time_out_when_waiting(dag_id: str, task_id: str, timeout: float = 240) -> threading.Thread:
    """
    Once the task waits for input, let its response deadline pass (move it to the past) and run
    the scheduler's own timeout sweep, as a running scheduler would.
    """

    def sweep(ti: Any, session: Any) -> None:
        import logging

        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
        from airflow.utils import timezone

        assert ti.trigger_timeout is not None  # the gate asked for a deadline
        ti.trigger_timeout = timezone.utcnow() - timedelta(seconds=1)
        session.commit()
        SchedulerJobRunner.check_awaiting_input_timeouts(SimpleNamespace(log=logging.getLogger("scheduler")), session=session)

    return _when_awaiting_input(dag_id, task_id, timeout, sweep)
