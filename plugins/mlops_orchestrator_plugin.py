"""Airflow plugin file of airflow-provider-mlops-orchestrator (what MWAA loads from plugins.zip).

The plugin itself ships in the package (``mlops_orchestrator.api.plugin``) and the installed
package registers it through its ``airflow.plugins`` entry point, so with the wheel installed this
file adds nothing: exposing the class here too would register it twice, and Airflow would report
the second one as a plugin import error. It exposes the plugin only where the package is importable
without its entry point (a checkout on PYTHONPATH, a vendored copy).
"""

from importlib.metadata import entry_points


def _registered_by_entry_point() -> bool:
    return any(ep.value.startswith("mlops_orchestrator.") for ep in entry_points(group="airflow.plugins"))


if not _registered_by_entry_point():
    from mlops_orchestrator.api.plugin import MlopsOrchestratorPlugin  # noqa: F401
