"""Finding config files and reading them (YAML with the C loader, or JSON) into plain data.

This runs for every config at every DAG-folder parse, so it stays cheap: one ``os.walk``, the
libyaml parser, no Airflow import. Syntax errors become problems with a line number, and YAML
tags that would build Python objects are refused with the file and line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .errors import ConfigError, Problem

__all__ = [
    "CONFIG_SUFFIXES",
    "DEFAULTS_FILE_NAMES",
    "is_defaults_file",
    "iter_config_files",
    "locate_lines",
    "read_config_file",
]

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULTS_FILE_NAMES = ("defaults.yaml", "defaults.yml", "defaults.json")
IGNORE_FILE = ".airflowignore"

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _ConfigLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader (C parser when libyaml is there) that also refuses duplicate keys.

    PyYAML keeps the last of two equal keys silently; in a config that hides a mistake.
    """

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML hook
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                    key = key_node.value
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None,
                            None,
                            f"duplicate key '{key}' (first given on line {seen[key] + 1})",
                            key_node.start_mark,
                        )
                    seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


_TAG = re.compile(r"tag '([^']+)'")


def _yaml_problem(file: str, exc: yaml.YAMLError) -> Problem:
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    context = getattr(exc, "context", None) or ""
    # An unclosed quote or bracket is noticed lines later: point at where it was opened.
    opened = context.startswith(("while scanning a quoted scalar", "while parsing a flow"))
    mark = context_mark if (opened and context_mark is not None) else (problem_mark or context_mark)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.constructor.ConstructorError) and "constructor for the tag" in problem:
        match = _TAG.search(problem)
        tag = match.group(1).replace("tag:yaml.org,2002:", "!!") if match else "?"
        message = (
            f"YAML tag '{tag}' is not allowed: a config holds plain data only "
            "(mappings, lists, strings, numbers, booleans, dates)"
        )
    elif isinstance(exc, yaml.constructor.ConstructorError):
        message = problem
    else:
        message = f"invalid YAML: {context + ', ' if context else ''}{problem}"
        if opened and problem_mark is not None and problem_mark.line + 1 != line:
            message += f" (noticed on line {problem_mark.line + 1})"
    return Problem(file=file, field="", message=message, line=line)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key '{key}'")
        result[key] = value
    return result


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``.yaml``/``.yml``/``.json`` config into a dict; raise ConfigError on anything else."""
    file = os.fspath(path)
    suffix = os.path.splitext(file)[1].lower()

    def fail(message: str, line: int | None = None) -> ConfigError:
        return ConfigError(file, [Problem(file=file, field="", message=message, line=line)])

    if suffix not in CONFIG_SUFFIXES:
        raise fail("not a config file (expected .yaml, .yml or .json)")
    try:
        with open(file, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise fail("file is empty")

    if suffix == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise fail(f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
        except ValueError as exc:
            raise fail(str(exc)) from None
    else:
        try:
            data = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise ConfigError(file, [_yaml_problem(file, exc)]) from None
        if data is None:
            raise fail("file is empty")
    if isinstance(data, dict):
        odd = [key for key in data if not isinstance(key, str)]
        if odd:
            raise ConfigError(
                file,
                [
                    Problem(
                        file,
                        "",
                        f"key {key!r} is not text (YAML read it as a {type(key).__name__}; quote it)",
                    )
                    for key in odd
                ],
            )
    else:
        kind = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
        raise fail(
            f"the top level must be a mapping of settings (key: value), got {kind.get(type(data), type(data).__name__)}"
        )
    return data


def is_defaults_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an orchestrator defaults file rather than a pipeline config."""
    return os.path.basename(os.fspath(path)) in DEFAULTS_FILE_NAMES


# --------------------------------------------------------------------------------------------
# listing configs, honouring .airflowignore as Airflow does
# --------------------------------------------------------------------------------------------


def _ignore_syntax() -> str:
    """Airflow's [core] dag_ignore_file_syntax: env var, else Airflow's config if already imported.

    Airflow 3 defaults to ``glob``; reading airflow.cfg ourselves would cost an Airflow import, so
    we only ask Airflow's config when Airflow is already loaded (as in the DAG processor).
    """
    value = os.environ.get("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX")
    if value is None and "airflow.configuration" in sys.modules:
        try:
            value = sys.modules["airflow.configuration"].conf.get(
                "core", "dag_ignore_file_syntax", fallback="glob"
            )
        except Exception:  # noqa: BLE001 - a broken Airflow config must not stop listing
            value = None
    return (value or "glob").strip().lower()


class _RegexpRule:
    """A line of a regexp .airflowignore: searched in the path relative to the listed folder."""

    def __init__(self, pattern: re.Pattern[str], base: str) -> None:
        self.pattern = pattern
        self.base = base

    def ignores(self, path: str, is_dir: bool) -> bool | None:
        return True if self.pattern.search(os.path.relpath(path, self.base)) else None


class _GlobRule:
    """A line of a glob .airflowignore (gitignore rules, as Airflow reads them with pathspec)."""

    def __init__(self, line: str, definition_dir: str) -> None:
        from pathspec.patterns import GitWildMatchPattern  # an Airflow dependency; only for glob files

        self.relative_to = definition_dir if (line.startswith("/") or "/" in line.rstrip("/")) else None
        raw = line.lstrip("!")
        self.dir_only = raw.rstrip() != raw.rstrip().rstrip("/")
        self.pattern = GitWildMatchPattern(line)

    def ignores(self, path: str, is_dir: bool) -> bool | None:
        if self.pattern.include is None or (self.dir_only and not is_dir):
            return None
        rel = os.path.relpath(path, self.relative_to) if self.relative_to else os.path.basename(path)
        rel = rel.replace(os.sep, "/") + ("/" if is_dir else "")
        return self.pattern.include if self.pattern.match_file(rel) is not None else None


def _read_rules(ignore_file: str, base: str, syntax: str) -> list[Any]:
    try:
        with open(ignore_file, encoding="utf-8") as handle:
            lines = [re.sub(r"\s*#.*", "", line) for line in handle.read().split("\n")]
    except OSError:
        return []
    rules: list[Any] = []
    for line in lines:
        if not line:
            continue
        if syntax == "regexp":
            try:
                rules.append(_RegexpRule(re.compile(line), base))
            except re.error:
                continue  # Airflow skips an invalid pattern with a warning too
        elif line.strip() != "/":
            rules.append(_GlobRule(line, os.path.dirname(ignore_file)))
    return rules


def _ignored(path: str, is_dir: bool, rules: list[Any], syntax: str) -> bool:
    if syntax == "regexp":
        return any(rule.ignores(path, is_dir) for rule in rules)
    matched = False
    for rule in rules:  # later lines override earlier ones (negation with "!")
        verdict = rule.ignores(path, is_dir)
        if verdict is not None:
            matched = verdict
    return matched


def iter_config_files(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Every ``.yaml``/``.yml``/``.json`` config under ``folder`` (any depth), sorted.

    Skips defaults files and whatever ``.airflowignore`` files exclude, read the way Airflow
    reads them (``AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX``: ``glob``, Airflow 3's default, or
    ``regexp``), so the configs we build DAGs from are the ones Airflow would look at.
    """
    base = os.path.abspath(os.fspath(folder))
    syntax = _ignore_syntax()
    rules_by_dir: dict[str, list[Any]] = {base: []}
    visited = {os.path.realpath(base)}  # symlinks are followed, as Airflow does; loops are not
    found: list[str] = []
    for root, dirs, files in os.walk(base, followlinks=True):
        rules = list(rules_by_dir.pop(root, []))
        if IGNORE_FILE in files:
            rules += _read_rules(os.path.join(root, IGNORE_FILE), base, syntax)
        kept = []
        for name in sorted(dirs):
            sub = os.path.join(root, name)
            real = os.path.realpath(sub)
            if real not in visited and not _ignored(sub, True, rules, syntax):
                visited.add(real)
                kept.append(name)
                rules_by_dir[sub] = rules
        dirs[:] = kept
        for name in files:
            if name in DEFAULTS_FILE_NAMES or os.path.splitext(name)[1].lower() not in CONFIG_SUFFIXES:
                continue
            path = os.path.join(root, name)
            if not _ignored(path, False, rules, syntax):
                found.append(path)
    for path in sorted(found):
        yield Path(path)


# --------------------------------------------------------------------------------------------
# line numbers for field problems (only computed when a file has problems)
# --------------------------------------------------------------------------------------------

_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


def locate_lines(file: str, problems: list[Problem]) -> list[Problem]:
    """Fill ``line`` of field problems in a YAML file (best effort; composes the file once)."""
    if not problems or os.path.splitext(file)[1].lower() not in (".yaml", ".yml"):
        return problems
    try:
        with open(file, encoding="utf-8-sig") as handle:
            root = yaml.compose(handle, Loader=_BaseLoader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return problems
    out = []
    for problem in problems:
        if problem.field and problem.line is None:
            line = _line_of(root, problem.field)
            if line is not None:
                problem = Problem(problem.file, problem.field, problem.message, line)
        out.append(problem)
    return out


def _line_of(node: Any, field: str) -> int | None:
    line = None
    for part in _PART.findall(field):
        if isinstance(node, MappingNode) and not part.startswith("["):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.value == part:
                    line, node = key_node.start_mark.line + 1, value_node
                    break
            else:
                return line
        elif isinstance(node, SequenceNode) and part.startswith("["):
            index = int(part[1:-1])
            if index >= len(node.value):
                return line
            node = node.value[index]
            line = node.start_mark.line + 1
        elif isinstance(node, MappingNode) and part.startswith("["):
            return line
        else:
            return line
    return line
