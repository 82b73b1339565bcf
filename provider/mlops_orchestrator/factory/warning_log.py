"""Log a config's warnings once per change of the file, not at every parse.

Airflow's DAG processor parses the dags file every 30 s, each time in a fresh process, so what
was logged before cannot be remembered in memory. A small marker file per config (under the
temp folder, or ``$MLOPS_ORCHESTRATOR_STATE_DIR``) holds a digest of the config's size, mtime and
warnings: the warnings are logged when it differs, i.e. when the config or its warnings changed.
Configs without warnings cost nothing; one with warnings costs a stat and a small read.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from mlops_orchestrator.factory.parse_state import state_dir, write_state

__all__ = ["log_warnings_once"]

log = logging.getLogger("mlops_orchestrator.factory.loader")


def _state_dir() -> Path:
    return state_dir() / "logged-warnings"


def log_warnings_once(path: Path, lines: Sequence[str]) -> bool:
    """Log ``lines`` (a config's formatted warnings) unless they were logged for this version of
    the file already. Returns whether they were logged."""
    if not lines:
        return False
    try:
        stat = os.stat(path)
    except OSError:
        stat = None
    fingerprint = hashlib.sha256(
        "\n".join([f"{stat.st_size}:{stat.st_mtime_ns}" if stat else "", *lines]).encode()
    ).hexdigest()
    marker = _state_dir() / hashlib.sha256(str(path).encode()).hexdigest()[:40]
    try:
        if marker.read_text() == fingerprint:
            return False
    except OSError:
        pass
    for line in lines:
        log.warning("Pipeline config: %s", line)
    write_state(marker, fingerprint)  # when it cannot be written, we log again next time
    return True
