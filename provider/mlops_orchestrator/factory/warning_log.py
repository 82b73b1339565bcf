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
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["STATE_DIR_ENV", "log_warnings_once", "state_dir"]

STATE_DIR_ENV = "MLOPS_ORCHESTRATOR_STATE_DIR"

log = logging.getLogger("mlops_orchestrator.factory.loader")


def _user() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid else "user"


def state_dir() -> Path:
    """Where parses leave what the next parse (a fresh process) must know."""
    return Path(os.environ.get(STATE_DIR_ENV) or os.path.join(tempfile.gettempdir(), f"mlops-orchestrator-{_user()}"))


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
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        partial = marker.with_suffix(f".{os.getpid()}")
        partial.write_text(fingerprint)
        os.replace(partial, marker)
    except OSError:  # an unwritable temp folder must not stop the parse: we log again next time
        pass
    return True
