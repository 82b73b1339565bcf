"""Starting a provisioned pipeline's run once Airflow has parsed the config just written.

A run must use the new config, so it is triggered only when the DAG processor has stored a DAG
version made from it: an unchanged file needs no new parse; a new or changed one gets a priority
parse request for the loader file (what the UI's Reparse button asks) and a bounded wait for a
newer DAG version. When the wait ends first, nothing is triggered and the answer says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

POLL_SECONDS = 1.0


def dag_version(dag_id: str) -> str | None:
    """The id of the DAG's latest stored version (None when Airflow has no DAG of that id yet)."""
    from airflow.models.dag_version import DagVersion
    from airflow.utils.session import create_session

    with create_session() as session:
        latest = DagVersion.get_latest_version(dag_id, session=session)
        return str(latest.id) if latest is not None else None


def request_parse(config_folder: Path) -> bool:
    """Ask the DAG processor to parse the loader file(s) serving ``config_folder`` now (the Reparse button)."""
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.dagbag import DagPriorityParsingRequest
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from mlops_orchestrator.factory.dag_options import PROVIDER_TAG

    with create_session() as session:
        rows = session.execute(
            select(DagModel.bundle_name, DagModel.relative_fileloc, DagModel.fileloc)
            .join(DagTag, DagTag.dag_id == DagModel.dag_id)
            .where(DagTag.name == PROVIDER_TAG)
            .distinct()
        ).all()
        loaders = {(bundle, relative) for bundle, relative, fileloc in rows if fileloc and Path(fileloc).parent == config_folder}
        for bundle, relative in loaders:
            pending = session.scalar(
                select(DagPriorityParsingRequest).where(
                    DagPriorityParsingRequest.bundle_name == bundle,
                    DagPriorityParsingRequest.relative_fileloc == relative,
                )
            )
            if pending is None:
                session.add(DagPriorityParsingRequest(bundle_name=bundle, relative_fileloc=relative))
    return bool(loaders)


def wait_for_new_version(dag_id: str, before: str | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        current = dag_version(dag_id)
        if current is not None and current != before:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def trigger(dag_id: str, user_name: str) -> dict[str, Any]:
    """Unpause the DAG (a provisioned pipeline is active, as MWO's were) and start a deploy run."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy import update

    with create_session() as session:
        session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=False))
    run = trigger_dag(
        dag_id,
        triggered_by=DagRunTriggeredByType.REST_API,
        triggering_user_name=user_name,
        conf={"action": "deploy"},
    )
    return {"state": "triggered", "run_id": run.run_id if run is not None else None}
