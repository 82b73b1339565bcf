"""What a builder knows besides the config: where it came from and the DAG id to use."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BuildContext:
    """The config file, the folder it was loaded from and the DAG id decided by the loader."""

    path: Path
    folder: Path
    dag_id: str
    #: DAG arguments Airflow would read from its config for every DAG, read once per load
    #: (``dag_options.airflow_dag_settings``); empty: the DAG reads them itself.
    dag_settings: Mapping[str, Any] = field(default_factory=dict)
    #: what the loader's last parse derived from this same config (config_cache.py); builders
    #: may read and add to it: it is dropped when the config or this code changes.
    memo: MutableMapping[str, str] = field(default_factory=dict)

    @functools.cached_property
    def relative_path(self) -> str:
        """The config's path relative to the config folder, as users see it in the UI."""
        # Path.relative_to, by string: both are resolved, and this runs for every config at every parse
        path, folder = str(self.path), str(self.folder).rstrip(os.sep)
        if path.startswith(folder + os.sep):
            return path[len(folder) + 1 :]
        return path

    @property
    def poll_seconds(self) -> int:
        """
        How often waits poll AWS. 30 s suits AWS; the local emulator's runs set 1 s through
        MLOPS_ORCHESTRATOR_POLL_SECONDS (an environment variable, never an Airflow Variable).
        """
        return int(os.environ.get("MLOPS_ORCHESTRATOR_POLL_SECONDS", "30"))
