"""Orchestrator-wide settings: the nearest ``defaults.yaml`` above a config, then environment variables.

What MWO took as stack parameters (assets bucket, UseModelRegistry, the multi-account stages...)
is set once per folder tree here. Precedence for a key: the config itself, then the nearest
defaults file, then ``MLOPS_ORCHESTRATOR_<KEY>``, then the model's default. Airflow Variables are
never read: they would cost a database query per config at every parse.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, ValidationError

from .base import DagTag, Schedule, StagedKmsKeyArn, StartDate
from .common import STRICT, BucketName, IntRange, LaxBool, Region, SecurityGroupId, Stage, SubnetId
from .errors import ConfigError, Problem, in_file_order, problems_from_validation_error
from .files import DEFAULTS_FILE_NAMES, locate_lines, read_config_file
from .multi_account import MultiAccount, StageAccounts
from .notifications import Notifications

__all__ = [
    "ENV_PREFIX",
    "DefaultsFile",
    "OrchestratorDefaults",
    "clear_defaults_cache",
    "find_defaults_files",
    "load_defaults",
    "merge_settings",
    "settings_environ",
]

ENV_PREFIX = "MLOPS_ORCHESTRATOR_"

_Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class OrchestratorDefaults(BaseModel):
    """What a defaults file may set. Every key is optional; each is validated like in a config."""

    model_config = STRICT

    assets_bucket: BucketName | None = None
    use_model_registry: LaxBool | None = None
    region_name: Region | None = None
    aws_conn_id: _Name | None = None
    kms_key_arn: StagedKmsKeyArn | None = None
    stage: Stage | None = None
    stages: StageAccounts | None = None
    multi_account: MultiAccount | None = None
    owner: _Name | None = None
    tags: list[DagTag] | None = None
    retries: IntRange(0, 10) | None = None
    retry_delay_seconds: IntRange(0) | None = None
    schedule: Schedule = None
    start_date: StartDate | None = None
    catchup: LaxBool | None = None
    subnet_ids: list[SubnetId] | None = Field(None, min_length=1)
    security_group_ids: list[SecurityGroupId] | None = Field(None, min_length=1)
    notifications: Notifications | None = None


SETTINGS: tuple[str, ...] = tuple(OrchestratorDefaults.model_fields)
_LIST_SETTINGS = frozenset({"tags", "subnet_ids", "security_group_ids"})


@dataclass(frozen=True)
class DefaultsFile:
    """A parsed defaults file: the raw values of its valid keys, and its problems."""

    path: str
    values: dict[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


_cache: dict[str, tuple[tuple[int, int], DefaultsFile]] = {}


def clear_defaults_cache() -> None:
    """Forget parsed defaults files (tests; the cache already notices changed files)."""
    _cache.clear()
    _folders.clear()


def load_defaults(path: str | os.PathLike[str]) -> DefaultsFile:
    """Parse and validate a defaults file once per (path, mtime, size), however many configs use it."""
    file = os.fspath(path)
    try:
        stat = os.stat(file)
    except OSError as exc:
        return DefaultsFile(file, {}, (Problem(file, "", f"cannot read file: {exc.strerror or exc}"),))
    key = (stat.st_mtime_ns, stat.st_size)
    hit = _cache.get(file)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        raw = read_config_file(file)
    except ConfigError as exc:
        result = DefaultsFile(file, {}, tuple(exc.problems))
    else:
        problems: list[Problem] = []
        try:
            OrchestratorDefaults.model_validate(raw)
        except ValidationError as exc:
            problems = problems_from_validation_error(exc, OrchestratorDefaults, file)
            problems = locate_lines(file, in_file_order(problems, raw))
        bad = {_top_key(p.field) for p in problems}
        result = DefaultsFile(file, {k: v for k, v in raw.items() if k not in bad}, tuple(problems))
    _cache[file] = (key, result)
    return result


def _top_key(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def find_defaults_files(
    config_dir: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> list[str]:
    """The defaults files of the nearest folder that has any, walking up from ``config_dir``.

    The walk stops after ``root`` (or at the filesystem root when ``root`` is None). More than
    one file in that folder is a mistake the caller reports; the first (yaml, yml, json) is used.
    """
    current = os.path.abspath(os.fspath(config_dir))
    stop = os.path.abspath(os.fspath(root)) if root is not None else None
    while True:
        found = _defaults_files_in(current)
        if found:
            return found
        if stop is not None and current == stop:
            return []
        parent = os.path.dirname(current)
        if parent == current:
            return []
        current = parent


_folders: dict[str, tuple[int, list[str]]] = {}
_SETTLED_NS = 1_000_000_000


def _defaults_files_in(folder: str) -> list[str]:
    """The defaults files in ``folder``, looked up once per version of the folder.

    A thousand configs share a folder or two: one ``stat`` of the folder (whose mtime changes
    when a file is added, removed or renamed in it) instead of a lookup of every defaults file
    name for each config. A folder changed in the last second is not remembered: its mtime
    could stay the same through a second change within the filesystem's clock tick.
    """
    try:
        version = os.stat(folder).st_mtime_ns
    except OSError:
        return []
    hit = _folders.get(folder)
    if hit is not None and hit[0] == version:
        return list(hit[1])
    found = [os.path.join(folder, n) for n in DEFAULTS_FILE_NAMES if os.path.isfile(os.path.join(folder, n))]
    if time.time_ns() - version > _SETTLED_NS:
        _folders[folder] = (version, found)
    return list(found)


def _env_value(key: str, text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            return json.loads(stripped)
        except ValueError:
            return text  # reported by the model with the variable's name
    if key in _LIST_SETTINGS:
        return [item.strip() for item in stripped.split(",") if item.strip()]
    return text


def settings_environ() -> dict[str, str]:
    """The environment variables that can fill settings (``MLOPS_ORCHESTRATOR_*``), read at once.

    A loader merging a thousand configs passes this to ``merge_settings`` instead of looking up
    every setting's variable in ``os.environ`` for every config (a sixth of a config's merge).
    """
    return {name: value for name, value in os.environ.items() if name.startswith(ENV_PREFIX)}


def merge_settings(
    data: Mapping[str, Any],
    fields: Collection[str],
    defaults: DefaultsFile | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fill the settings a config leaves out: from the defaults file, then the environment.

    Only keys the pipeline model defines (``fields``) are filled, so a defaults file can hold
    ``kms_key_arn`` without breaking the image builder, which has none. A key set to "" in the
    config counts as not set (MWO's way of leaving a parameter empty). Returns the merged data
    and, per filled key, where its value came from (for problem messages).
    """
    environ = os.environ if environ is None else environ
    merged = dict(data)
    origin: dict[str, str] = {}

    def unset(key: str) -> bool:
        return key not in merged or (isinstance(merged[key], str) and not merged[key].strip())

    if defaults is not None:
        for key, value in defaults.values.items():
            if key in fields and unset(key):
                merged[key] = value
                origin[key] = os.path.basename(defaults.path)
    for key in SETTINGS:
        if key in fields and unset(key):
            name = ENV_PREFIX + key.upper()
            text = environ.get(name)
            if text is not None:
                merged[key] = _env_value(key, text)
                origin[key] = name
    return merged, origin
