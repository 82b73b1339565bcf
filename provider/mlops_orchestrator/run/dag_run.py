"""One real Airflow DAG run of one pipeline config (``dag.test()`` on the SQLite metadata DB)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_orchestrator.run.airflow_env import (
    configure_airflow,
    default_airflow_home,
    migrate_database,
    write_loader,
)

log = logging.getLogger(__name__)
_migrated: set[Path] = set()


@dataclass
class RunReport:
    """What a run did: the DAG run's state, each task's state, and what it left in AWS."""

    config: str
    dag_id: str
    pipeline_type: str
    action: str
    state: str
    tasks: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    #: a monitor pipeline's results summary (its monitor_results task's XCom), when it ran
    monitor_results: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == "success"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepare_airflow(home: Path | None = None) -> Path:
    """Configure and migrate the Airflow home used for runs (once per process)."""
    home = (home or default_airflow_home()).resolve()
    configure_airflow(home, home / "run-dags")
    if home not in _migrated:
        migrate_database()
        _migrated.add(home)
    return home


def run_pipeline(
    config_path: str | Path,
    *,
    config_root: str | Path | None = None,
    action: str = "deploy",
    home: Path | None = None,
    run_conf: dict[str, Any] | None = None,
) -> RunReport:
    """
    Build the config's DAG and run it once, for real, with ``dag.test()``.

    The config must be valid and its type buildable; otherwise ConfigError or NoBuilderError
    propagate with the messages the user needs.
    """
    config_path = Path(config_path).resolve()
    # Defaults files are looked up from the config's folder up to config_root (or "/").
    root = Path(config_root).resolve() if config_root else Path(config_path.anchor)
    home = prepare_airflow(home)

    from mlops_orchestrator.config import dag_id_for, load_config
    from mlops_orchestrator.factory.context import BuildContext
    from mlops_orchestrator.factory.registry import builder_for

    config = load_config(config_path, root=root)
    builder = builder_for(config.pipeline_type)
    dag_id = config.dag_id or dag_id_for(config_path)
    write_loader(home / "run-dags", root, [config_path])
    dag = builder(config, BuildContext(path=config_path, folder=root, dag_id=dag_id))

    failures: dict[str, str] = {}
    _record_failures(dag, failures)
    dag_run = dag.test(run_conf={**(run_conf or {}), "action": action})
    instances = dag_run.get_task_instances()
    tasks = {ti.task_id: str(ti.state) for ti in instances}
    results = next(
        (ti.xcom_pull(task_ids=ti.task_id) for ti in instances if ti.task_id == "monitor_results" and ti.state == "success"),
        None,
    )
    return RunReport(
        config=str(config_path),
        dag_id=dag_id,
        pipeline_type=config.pipeline_type,
        action=action,
        state=str(dag_run.state),
        tasks=tasks,
        failures=failures,
        monitor_results=results if isinstance(results, dict) else None,
    )


def _record_failures(dag: Any, failures: dict[str, str]) -> None:
    """Keep each failed task's error message for the report (dag.test() only logs it)."""

    def record(context: dict[str, Any]) -> None:
        failures[context["ti"].task_id] = str(context.get("exception") or "failed")

    for task in dag.tasks:
        existing = task.on_failure_callback
        callbacks = existing if isinstance(existing, list) else [existing] if existing else []
        task.on_failure_callback = [*callbacks, record]
