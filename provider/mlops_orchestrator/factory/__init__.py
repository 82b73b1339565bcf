"""Config -> DAG: the loader the dags/ file calls, and one builder per pipeline family."""

from __future__ import annotations

from mlops_orchestrator.factory.loader import load_dags

__all__ = ["load_dags"]
