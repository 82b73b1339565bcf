"""What one parse leaves for the next: the DAG processor parses in a fresh process every 30 s.

Small files under the temp folder (or ``$MLOPS_ORCHESTRATOR_STATE_DIR``), one folder per use:
warnings already logged (warning_log.py), the last good DAG's tasks (last_tasks.py). Writing is
best effort: an unwritable folder must never stop a parse.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["STATE_DIR_ENV", "state_dir", "write_state"]

STATE_DIR_ENV = "MLOPS_ORCHESTRATOR_STATE_DIR"


def _user() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid else "user"


def state_dir() -> Path:
    """Where parses leave what the next parse (a fresh process) must know."""
    return Path(os.environ.get(STATE_DIR_ENV) or os.path.join(tempfile.gettempdir(), f"mlops-orchestrator-{_user()}"))


def write_state(path: str | os.PathLike, content: str | bytes, *, mode: int = 0o666) -> bool:
    """Write ``content`` to ``path`` atomically (parses in parallel processes read it), as a file
    of ``mode`` less the umask; False when the folder cannot be written."""
    partial = f"{os.fspath(path)}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content.encode() if isinstance(content, str) else content)
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        return False
    return True
