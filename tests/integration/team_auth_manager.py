"""An auth manager for the plugin's API tests: Airflow's SimpleAuthManager, except that the user
``outsider`` (a viewer) may not read the DAGs of one team (ids starting with ``HIDDEN_PREFIX``),
as a per-DAG policy of a real auth manager (FAB, Keycloak, AWS's) would refuse it. Only the
decision is ours: users, tokens, login and every other check are SimpleAuthManager's."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

OUTSIDER = "outsider"
HIDDEN_PREFIX = "mlops-pipeline-churn-api-"


class TeamAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        if user.get_name() == OUTSIDER and details is not None and (details.id or "").startswith(HIDDEN_PREFIX):
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
