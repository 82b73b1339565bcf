"""Fixtures for the config tests: a fresh defaults cache, and writing configs into tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlops_orchestrator.config import clear_defaults_cache


@pytest.fixture(autouse=True)
def _fresh_defaults_cache():
    clear_defaults_cache()
    yield
    clear_defaults_cache()


@pytest.fixture
def write(tmp_path: Path):
    """write(name, data_or_text, folder=None) -> path of the written config (YAML or JSON by suffix)."""

    def _write(name: str, data: Any, folder: Path | None = None) -> Path:
        target = (folder or tmp_path) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_text(data)
        elif name.endswith(".json"):
            target.write_text(json.dumps(data))
        else:
            target.write_text(yaml.safe_dump(data, sort_keys=False))
        return target

    return _write
