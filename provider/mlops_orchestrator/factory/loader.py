"""Turn every pipeline config under a folder into a DAG; the dags/ file calls ``load_dags``.

Runs at parse time, every 30 s, for every config: no AWS calls, no boto3 clients, no SageMaker
SDK, no Airflow Variables. One bad config never hides the others: it becomes an error DAG
(see error_dag.py), is logged, and is raised as a Python warning naming the config file. A
config's warnings (keys it ignores) go to its DAG's docs and are logged once per change of the
file (warning_log.py), not at every parse.
When a task runs, Airflow's parsing context names its DAG and only that DAG is built.
A config that validated is kept for the loader file's next parse (config_cache.py), and the
garbage collector rests while DAGs are built: the DAG processor parses every 30 s.
With ``shard=(i, n)`` a loader file builds only the configs whose DAG id hashes to ``i`` (see
shards.py): thousands of configs spread over ``n`` files that the DAG processor parses in parallel.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_orchestrator.config import (
    ConfigError,
    Problem,
    dag_id_for,
    iter_config_files,
    load_config,
    settings_environ,
)
from mlops_orchestrator.factory.context import BuildContext
from mlops_orchestrator.factory.registry import NoBuilderError, builder_for
from mlops_orchestrator.factory.warning_log import log_warnings_once

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from mlops_orchestrator.factory.config_cache import ConfigCache
    from mlops_orchestrator.factory.last_tasks import TaskShape

log = logging.getLogger(__name__)

CONFIG_DIR_ENV = "MLOPS_ORCHESTRATOR_CONFIG_DIR"


class ConfigWarning(UserWarning):
    """A pipeline config that could not become its DAG (shown with the config's file name)."""


def load_dags(
    folder: str | os.PathLike[str] | None = None,
    namespace: MutableMapping[str, object] | None = None,
    *,
    files: Iterable[str | os.PathLike[str]] | None = None,
    shard: tuple[int, int] | None = None,
) -> dict[str, DAG]:
    """
    Build one DAG per config file under ``folder`` and put them into ``namespace``.

    :param folder: the config folder (default: $MLOPS_ORCHESTRATOR_CONFIG_DIR, else the caller
        passes its own folder). Defaults files are looked up between a config and this folder.
    :param namespace: usually the dags file's ``globals()``, where Airflow finds DAGs.
    :param files: only these config files (used by ``mlops-orchestrator run``).
    :param shard: ``(index, count)``: only the configs of this loader file when ``count`` files
        share the folder (written by ``mlops-orchestrator loaders COUNT``).
    :return: dag_id -> DAG, including error DAGs of bad configs.
    """
    folder = Path(folder or os.environ.get(CONFIG_DIR_ENV) or ".").resolve()
    paths = [Path(f).resolve() for f in files] if files is not None else list(iter_config_files(folder))
    wanted = _parsing_context_dag_id()
    if wanted is not None:
        # A task is running: build its DAG only. Its file is usually named after it, and found
        # by name alone: a shard's scan of every config's bytes is kept for when it is not.
        dags = {}
        if shard is None or _in_shard(wanted, shard):
            dags = _build_all([p for p in paths if dag_id_for(p) == wanted], folder, wanted)
        if wanted not in dags:
            dags = _build_all(_shard_paths(paths, shard), folder, wanted)
    else:
        dags = _build_all(_shard_paths(paths, shard), folder, None, cached=files is None, shard=shard)
    if namespace is not None:
        namespace.update(dags)
    return dags


def _shard_paths(paths: list[Path], shard: tuple[int, int] | None) -> list[Path]:
    if shard is None:
        return paths
    from mlops_orchestrator.factory.shards import select_shard

    return select_shard(paths, *shard)


def _in_shard(dag_id: str, shard: tuple[int, int]) -> bool:
    from mlops_orchestrator.factory.shards import check_shard, shard_of

    check_shard(*shard)
    return shard_of(dag_id, shard[1]) == shard[0]


def _build_all(
    paths: list[Path],
    folder: Path,
    wanted: str | None,
    *,
    cached: bool = False,
    shard: tuple[int, int] | None = None,
) -> dict[str, DAG]:
    """
    The DAGs of ``paths``. ``cached``: the DAG processor's parse of a whole folder (or shard),
    whose valid configs are kept for its next parse (config_cache.py); a running task's parse
    and ``files`` builds neither read nor write them.
    """
    with _collector_paused():
        return _build_each(paths, folder, wanted, f"{folder}\0{shard}" if cached else None)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """
    Python's cyclic garbage collector off while the DAGs are built, as it was before, after.

    Building keeps what it makes (DAGs, tasks, their links), so the collections a build of
    thousands of DAGs sets off only walk objects that stay: with Airflow's own objects frozen, as
    the DAG processor does, they were a twentieth of a parse. Nothing is lost: what the build
    leaves behind is collected when the collector runs next.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _build_each(paths: list[Path], folder: Path, wanted: str | None, cache_name: str | None) -> dict[str, DAG]:
    dags: dict[str, DAG] = {}
    sources: dict[str, Path] = {}
    settings = _dag_settings() if paths else {}
    environ = settings_environ()
    cache = _config_cache(folder, environ, cache_name) if paths and cache_name else None
    tasks_folder = _tasks_folder() if paths and wanted is None else ""
    for path in paths:
        dag_id, dag = _build_one(path, folder, wanted, settings, environ, cache)
        if dag is None:
            continue
        if dag_id in sources:
            problem = (
                f"{_shown(path, folder)}: dag_id: {dag_id!r} is already the DAG of "
                f"{_shown(sources[dag_id], folder)}; set a different dag_id in one of them"
            )
            _report(path, [problem])
            continue
        sources[dag_id] = path
        dags[dag_id] = dag
        if wanted is None:
            _remember_tasks(dag, tasks_folder, cache.memo(path) if cache is not None else None)
    if cache is not None:
        cache.save()
    return dags


def _config_cache(folder: Path, environ: Mapping[str, str], name: str) -> ConfigCache:
    from mlops_orchestrator.factory.config_cache import ConfigCache

    return ConfigCache.open(folder, environ, name)


def _tasks_folder() -> str:
    from mlops_orchestrator.factory.last_tasks import tasks_folder

    return tasks_folder()


def _remember_tasks(dag: DAG, folder: str, memo: MutableMapping[str, str] | None = None) -> None:
    """
    A good DAG's task ids, for its error DAG's stand-ins should its config turn bad mid-run.

    ``memo``: its config's (config_cache.py). The same config and code build the same tasks, so
    while the file the last parse kept them in exists, there is nothing to work out.
    """
    from mlops_orchestrator.factory.dag_options import INVALID_TAG
    from mlops_orchestrator.factory.last_tasks import remember_tasks, shape_of

    if INVALID_TAG in dag.tags:
        return
    kept = memo.get("tasks_file") if memo is not None else None
    if kept and os.path.exists(kept):
        return
    kept = remember_tasks(dag.dag_id, shape_of(dag), folder)
    if memo is not None and kept:
        memo["tasks_file"] = kept


def _dag_settings() -> dict[str, object]:
    from mlops_orchestrator.factory.dag_options import airflow_dag_settings

    return airflow_dag_settings()


def _build_one(
    path: Path,
    folder: Path,
    wanted: str | None,
    dag_settings: Mapping[str, object],
    environ: Mapping[str, str] | None = None,
    cache: ConfigCache | None = None,
) -> tuple[str, DAG | None]:
    """Load, validate and build one config; any failure becomes that config's error DAG."""
    dag_id = dag_id_for(path)
    warned: list[str] = []
    try:
        config = cache.load(path) if cache is not None else load_config(path, root=folder, environ=environ)
        dag_id = config.dag_id or dag_id
        if wanted is not None and dag_id != wanted:
            return dag_id, None
        warned = _formatted(config.warnings, folder)
        log_warnings_once(path, warned)
        builder = builder_for(config.pipeline_type)
        memo = cache.memo(path) if cache is not None else {}
        return dag_id, builder(
            config, BuildContext(path=path, folder=folder, dag_id=dag_id, dag_settings=dag_settings, memo=memo)
        )
    except ConfigError as err:
        problems = _formatted(err.problems, folder)
        warned = _formatted(err.warnings, folder)
        if wanted is None or dag_id == wanted:
            log_warnings_once(path, warned)
    except NoBuilderError as err:
        problems = [f"{_shown(path, folder)}: pipeline_type: {err}"]
    except Exception as err:  # a builder bug must not take the other pipelines down
        log.exception("Building the DAG of %s failed", path)
        problems = [f"{_shown(path, folder)}: could not build the DAG: {type(err).__name__}: {err}"]
    if wanted is not None and dag_id != wanted:
        return dag_id, None
    _report(path, problems)
    from mlops_orchestrator.factory.error_dag import build_error_dag

    return dag_id, build_error_dag(dag_id, problems, _stand_ins(dag_id, wanted), warned)


def _stand_ins(dag_id: str, wanted: str | None) -> TaskShape:
    """Tasks an error DAG keeps so that an active run's tasks fail with the problems.

    For the DAG processor, the last good DAG's tasks (last_tasks.py); for a running task, its own.
    """
    if wanted is not None:
        task_id = _parsing_context_task_id()
        return {task_id: ([], "all_success")} if task_id else {}
    from mlops_orchestrator.factory.last_tasks import last_tasks

    return last_tasks(dag_id)


def _formatted(problems: Iterable[Problem], folder: Path) -> list[str]:
    """Problems or warnings as users see them: the file relative to the config folder."""
    return [replace(p, file=_shown(Path(p.file), folder)).format() for p in problems]


def _shown(path: Path, folder: Path) -> str:
    """A file as users see it in the UI: relative to the config folder when it is inside it."""
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def _report(path: Path, problems: list[str]) -> None:
    for problem in problems:
        log.error("Invalid pipeline config: %s", problem)
        warnings.warn_explicit(problem, ConfigWarning, filename=str(path), lineno=1)


def _parsing_context_task_id() -> str | None:
    """The running task's id (Airflow's parsing context), when a task is running."""
    try:
        from airflow.providers.common.compat.sdk import get_parsing_context
    except ImportError:  # pragma: no cover - Airflow always provides it
        return None
    return get_parsing_context().task_id


def _parsing_context_dag_id() -> str | None:
    """The DAG a running task belongs to (Airflow's parsing context), or None when parsing all."""
    try:
        from airflow.providers.common.compat.sdk import get_parsing_context
    except ImportError:  # pragma: no cover - Airflow always provides it
        return None
    return get_parsing_context().dag_id
