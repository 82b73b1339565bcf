"""The Airflow plugin: the API app at ``/mlops-orchestrator`` and the pipelines page under Browse.

Airflow loads plugins in every component (scheduler, DAG processor, workers), so this module stays
light: the FastAPI app is built only where Airflow asks for it (the API server).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from .paths import PAGE_PATH, URL_PREFIX

PLUGIN_NAME = "mlops_orchestrator"


class MlopsOrchestratorPlugin(AirflowPlugin):
    """MWO's ``provisionpipeline`` / ``pipelinestatus`` API, ``GET /pipelines`` and the pipelines page."""

    name = PLUGIN_NAME
    external_views = [
        {
            "name": "MLOps pipelines",
            "href": f"{URL_PREFIX}{PAGE_PATH}",
            "destination": "nav",
            "category": "browse",
            "url_route": "mlops-pipelines",
        }
    ]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from .app import create_app

        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "MLOps Orchestrator API"}]
