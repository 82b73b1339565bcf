"""Authentication and authorization exactly as Airflow's REST API does them.

The user comes from Airflow's own dependency (``get_user``: a bearer token from ``POST /auth/token``,
or the UI's session cookie), so a missing or bad token is refused with Airflow's own 401/403; each
decision is the configured auth manager's (``is_authorized_dag``): reading a pipeline needs read
access to its DAG, provisioning needs edit access, triggering its run needs run-create access.
"""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, status

#: the authenticated caller (401 before any route code runs when there is none)
User = Annotated[BaseUser, Depends(get_user)]

READ = "GET"
EDIT = "PUT"
CREATE = "POST"


def allowed(user: BaseUser, method: str, dag_id: str | None = None, entity: DagAccessEntity | None = None) -> bool:
    """The auth manager's answer; ``dag_id`` None asks about every DAG."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().is_authorized_dag(
        method=method,  # type: ignore[arg-type]
        access_entity=entity,
        details=DagDetails(id=dag_id) if dag_id else None,
        user=user,
    )


def require(user: BaseUser, method: str, dag_id: str | None = None, entity: DagAccessEntity | None = None) -> None:
    """403 naming what was refused (the same status Airflow's API answers)."""
    if not allowed(user, method, dag_id, entity):
        what = {READ: "read", EDIT: "edit", CREATE: "create"}.get(method, method)
        target = f"DAG {dag_id!r}" if dag_id else "DAGs"
        thing = f" {entity.value.lower().replace('_', ' ')}s of" if entity else ""
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"Forbidden: {user.get_name()} may not {what}{thing} {target}",
        )
