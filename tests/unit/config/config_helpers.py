"""Helpers for the config tests: the valid example payloads, nested edits, the lines a user sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mlops_orchestrator.config import PIPELINE_TYPES, ConfigError, load_config, read_config_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "configs"
VALID = FIXTURES / "valid"


def valid_file(pipeline_type: str) -> Path:
    """The example config of a pipeline type (all YAML but autopilot, which is JSON)."""
    for suffix in (".yaml", ".json"):
        path = VALID / f"{pipeline_type}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(pipeline_type)


def valid_payload(pipeline_type: str) -> dict[str, Any]:
    """The example payload, made standalone (the assets bucket its defaults file would give)."""
    data = read_config_file(valid_file(pipeline_type))
    data.setdefault("assets_bucket", "mlops-assets-111122223333")
    return data


def put(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in nested mappings."""
    *parents, last = dotted.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


def drop(data: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data[part]
    del data[last]


def problem_lines(path: Path, root: Path | None = None) -> list[str]:
    """The lines the user sees for an invalid config (fails the test if it is valid)."""
    with pytest.raises(ConfigError) as info:
        load_config(path, root=root if root is not None else path.parent)
    return str(info.value).splitlines()


ALL_TYPES = PIPELINE_TYPES
