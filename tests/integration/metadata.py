"""Reading what real DAG runs left in Airflow's metadata database (SQLite in the tests).

Imported by the integration tests (pytest puts this folder on sys.path).
"""

from __future__ import annotations

from typing import Any


def xcom(dag_id: str, task_id: str, key: str = "return_value") -> Any:
    """The latest DAG run's XCom ``key`` of the task."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel)
            .where(XComModel.dag_id == dag_id, XComModel.task_id == task_id, XComModel.key == key)
            .order_by(XComModel.timestamp.desc())
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def try_numbers(dag_id: str) -> dict[str, int]:
    """Task id -> try number of the DAG's latest run (2 or more: the task was retried)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run_id = session.scalars(
            select(DagRun.run_id).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc())
        ).first()
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.try_number).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id
            )
        ).all()
        return dict(rows)
