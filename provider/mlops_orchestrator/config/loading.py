"""From a file to a validated config: read, pick the model by pipeline_type, merge defaults, validate.

Every problem of a file is collected (syntax, unknown keys, bad values, conditional rules, the
defaults file it inherits from) and raised together as one ConfigError. Warnings (keys the
pipeline type ignores, as MWO did) never fail a config: a valid config carries them
(``config.warnings``), an invalid one's ConfigError too (``warnings``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .base import PipelineConfig
from .defaults import find_defaults_files, load_defaults, merge_settings
from .errors import (
    WARNING,
    ConfigError,
    Problem,
    did_you_mean,
    in_file_order,
    problems_from_validation_error,
    short,
)
from .files import CONFIG_SUFFIXES, is_defaults_file, iter_config_files, locate_lines, read_config_file
from .registry import PIPELINE_MODELS, PIPELINE_TYPES

__all__ = ["load_config", "validate_paths"]



@functools.cache
def _field_names(model: type[PipelineConfig]) -> frozenset[str]:
    return frozenset(model.model_fields)


def _model_for(file: str, data: dict[str, Any]) -> tuple[type[PipelineConfig] | None, list[Problem]]:
    value = data.get("pipeline_type")
    if value is None:
        return None, [
            Problem(file, "pipeline_type", f"field required; expected one of {', '.join(PIPELINE_TYPES)}")
        ]
    if isinstance(value, str) and value.strip() in PIPELINE_MODELS:
        return PIPELINE_MODELS[value.strip()], []
    suggestion = did_you_mean(value.strip() if isinstance(value, str) else value, PIPELINE_TYPES)
    if suggestion:
        message = f"unknown pipeline type {short(value)}; did you mean '{suggestion}'?"
    else:
        message = f"unknown pipeline type {short(value)}; expected one of {', '.join(PIPELINE_TYPES)}"
    return None, [Problem(file, "pipeline_type", message)]


def load_config(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> PipelineConfig:
    """Read, merge with the nearest defaults file (searched up to ``root``) and validate a config.

    ``environ``: the settings' environment variables (``settings_environ()``), when the caller
    loads many configs; default ``os.environ``.

    Raises ConfigError with every problem found, in the config and in its defaults file.
    """
    file = os.fspath(path)
    data = read_config_file(file)

    problems: list[Problem] = []
    defaults = None
    found = find_defaults_files(os.path.dirname(os.path.abspath(file)), root)
    if found:
        defaults = load_defaults(found[0])
        problems.extend(defaults.problems)
        if len(found) > 1:
            names = ", ".join(os.path.basename(f) for f in found)
            problems.append(
                Problem(found[0], "", f"several defaults files in one folder ({names}); keep one")
            )

    model, type_problems = _model_for(file, data)
    if model is None:
        raise ConfigError(file, type_problems + problems)

    if isinstance(data.get("pipeline_type"), str):
        data["pipeline_type"] = data["pipeline_type"].strip()
    merged, origin = merge_settings(data, _field_names(model), defaults, environ)
    ignored: list[tuple[str, str]] = []
    try:
        config = model.model_validate(merged, context={"warnings": ignored})
    except ValidationError as exc:
        found_problems = problems_from_validation_error(exc, model, file, origin)
        found_problems = [_with_registry_origin(p, origin) for p in found_problems]
        found_problems = locate_lines(file, in_file_order(found_problems, data, model.model_fields))
        raise ConfigError(file, found_problems + problems, _warnings(file, ignored, origin, data)) from None
    if problems:
        raise ConfigError(file, problems, _warnings(file, ignored, origin, data))
    config._source = file
    config._ignored = tuple((p.field, p.message) for p in _warnings(file, ignored, origin, data))
    return config


def _warnings(
    file: str, ignored: list[tuple[str, str]], origin: dict[str, str], data: dict[str, Any]
) -> list[Problem]:
    """The keys validation read past, as warnings in file order."""
    warnings = [_with_registry_origin(Problem(file, key, message, severity=WARNING), origin) for key, message in ignored]
    return in_file_order(warnings, data)


def _with_registry_origin(problem: Problem, origin: dict[str, str]) -> Problem:
    """A problem that follows from use_model_registry says where that was set when it was not the
    config itself (a defaults file, an environment variable): the user did not write it there."""
    setting = origin.get("use_model_registry")
    if setting and "use_model_registry is" in problem.message:
        return replace(problem, message=f"{problem.message} (use_model_registry from {setting})")
    return problem


def validate_paths(
    paths: Iterable[str | os.PathLike[str]], root: str | os.PathLike[str] | None = None
) -> list[Problem]:
    """Every problem of every config under ``paths`` (files or folders), each reported once.

    Warnings are included (``Problem.is_warning``), after the errors of their file. A defaults
    file given by name is checked as a defaults file; one used by many configs is reported once,
    not once per config.
    """
    problems: list[Problem] = []
    seen: set[Problem] = set()

    def add(items: Iterable[Problem]) -> None:
        for item in items:
            if item not in seen:
                seen.add(item)
                problems.append(item)

    for entry in paths:
        path = os.fspath(entry)
        if os.path.isdir(path):
            files: Iterable[Path | str] = iter_config_files(path)
        elif os.path.exists(path):
            files = [path]
        else:
            add([Problem(path, "", "no such file or folder")])
            continue
        for file in files:
            file = os.fspath(file)
            if is_defaults_file(file):
                add(load_defaults(file).problems)
                continue
            if os.path.splitext(file)[1].lower() not in CONFIG_SUFFIXES:
                add([Problem(file, "", "not a config file (expected .yaml, .yml or .json)")])
                continue
            try:
                config = load_config(file, root=root)
            except ConfigError as exc:
                add(exc.problems)
                add(exc.warnings)
            else:
                add(config.warnings)
    return problems
