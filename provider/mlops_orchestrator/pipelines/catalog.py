"""Every pipeline config of a folder, valid or not, as the DAG loader sees it.

The loader turns each config into a DAG (or an error DAG); this reads the same files with the same
functions (``iter_config_files``, ``load_config``) so the API, the page and the CLI list exactly
what Airflow shows, with each broken config's problems by file and field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlops_orchestrator.config import (
    ConfigError,
    PipelineConfig,
    Problem,
    dag_id_for,
    iter_config_files,
    load_config,
)


@dataclass
class PipelineEntry:
    """One config file: its DAG id, its type, and its problems (none when it is valid)."""

    dag_id: str
    file: str  #: relative to the config folder, as the UI shows it
    path: Path
    pipeline_type: str | None = None
    config: PipelineConfig | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.config is not None and not self.problems

    @property
    def stack_name(self) -> str | None:
        return self.config.stack_name_or_default(self.dag_id) if self.config is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no config values: they may name buckets and roles; the status has what is needed)."""
        return {
            "pipeline_id": self.dag_id,
            "dag_id": self.dag_id,
            "file": self.file,
            "pipeline_type": self.pipeline_type,
            "valid": self.valid,
            "stack_name": self.stack_name,
            "stages": self.stages(),
            "problems": [problem_dict(p) for p in self.problems],
            "warnings": [problem_dict(p) for p in self.warnings],
        }

    def stages(self) -> list[dict[str, Any]]:
        """The stages the pipeline deploys to, each with its account and connection when known."""
        config = self.config
        if config is None:
            return []
        if not config.is_multi_account:
            return [{"stage": config.stage, "account": None, "region": config.region_name, "aws_conn_id": config.aws_conn_id}]
        stages = []
        for name in config.stages.names():
            account = config.stages.account(name)
            stages.append(
                {
                    "stage": name,
                    "account": account.account_id,
                    "region": account.region or config.region_name,
                    "aws_conn_id": account.aws_conn_id,
                }
            )
        return stages


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {"file": problem.file, "field": problem.field, "message": problem.message, "line": problem.line, "text": problem.format()}


def _shown(path: str | os.PathLike[str], folder: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(folder))
    except ValueError:
        return str(path)


def _warnings(source: Any) -> list[Problem]:
    """Warnings of a config or a ConfigError (configs validated with warnings, when the loader gives them)."""
    return list(getattr(source, "warnings", None) or [])


def read_entry(path: Path, folder: Path) -> PipelineEntry:
    """One config file as the loader would build it: valid with its config, or with its problems."""
    file = _shown(path, folder)
    try:
        config = load_config(path, root=folder)
    except ConfigError as err:
        problems = [replace(p, file=_shown(p.file, folder)) for p in err.problems]
        warnings = [replace(p, file=_shown(p.file, folder)) for p in _warnings(err)]
        return PipelineEntry(
            dag_id=_dag_id_of_broken(path), file=file, path=path, pipeline_type=_raw_type(path), problems=problems, warnings=warnings
        )
    dag_id = config.dag_id or dag_id_for(path)
    warnings = [replace(p, file=_shown(p.file, folder)) for p in _warnings(config)]
    return PipelineEntry(dag_id=dag_id, file=file, path=path, pipeline_type=config.pipeline_type, config=config, warnings=warnings)


def _raw_type(path: Path) -> str | None:
    from mlops_orchestrator.config import read_config_file

    try:
        value = read_config_file(path).get("pipeline_type")
    except ConfigError:
        return None
    return value.strip() if isinstance(value, str) else None


def _dag_id_of_broken(path: Path) -> str:
    """The DAG id the loader gives a broken config: its ``dag_id`` when readable, else the file's stem."""
    from mlops_orchestrator.config import read_config_file

    try:
        value = read_config_file(path).get("dag_id")
    except ConfigError:
        value = None
    return value if isinstance(value, str) and value.strip() else dag_id_for(path)


def list_pipelines(folder: str | os.PathLike[str]) -> list[PipelineEntry]:
    """Every config under ``folder`` (``.airflowignore`` honoured), broken ones included, in file order."""
    root = Path(folder).resolve()
    return [read_entry(path, root) for path in iter_config_files(root)]


def find_pipeline(entries: list[PipelineEntry], pipeline_id: str) -> PipelineEntry | None:
    """
    The pipeline a ``pipeline_id`` names: its DAG id, or (as MWO's ids were stacks) its stack name
    or a stack ARN ending in it; MWO's own ``-codepipeline`` stack suffix is accepted too.
    """
    wanted = pipeline_id.strip()
    for entry in entries:
        if entry.dag_id == wanted:
            return entry
    name = wanted
    if name.startswith("arn:") and ":stack/" in name:
        name = name.split(":stack/", 1)[1].split("/", 1)[0]
    name = name.removesuffix("-codepipeline")
    for entry in entries:
        if entry.stack_name and entry.stack_name == name:
            return entry
    return None
