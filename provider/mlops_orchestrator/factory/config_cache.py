"""Validated configs kept from one parse to the next, so an unchanged config is not validated again.

The DAG processor parses each dags file every 30 s in a fresh process, and reading a config
(YAML, its defaults file, the environment, the model's rules) was a sixth of a parse of 1000
configs. A config that validated is kept, pickled, in one file per loader file (and shard) under
the parse state folder (parse_state.py), with a digest of everything its validation read:

- the config file's bytes and its path (and the config folder, where the defaults search stops);
- the defaults files found for it, and their bytes;
- the ``MLOPS_ORCHESTRATOR_*`` environment variables (settings can come from there);
- the code that validated it: every module of this package (size and mtime), pydantic and Python.

The next parse reads the config's bytes (it is small) and, when the digest is the same, unpickles
the config instead of validating it. A config with problems is never kept: it is validated, and
its problems reported, at every parse, as before. Cached or not, a config is the same object.

Next to each config is its memo: small texts the parse derives from the config and this code
alone (its docs' JSON, where its tasks were remembered), kept and dropped with the config.

Unpickling runs code named in what it reads, so the cache folder must be this user's alone: it is
created with mode 0700 and used only while it is owned by this user and no one else may write in
it (Jinja's bytecode cache does the same); otherwise there is no cache, and every config is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_orchestrator.config import find_defaults_files, load_config
from mlops_orchestrator.factory.parse_state import state_dir, write_state

if TYPE_CHECKING:
    from mlops_orchestrator.config import PipelineConfig

__all__ = ["ConfigCache"]

log = logging.getLogger(__name__)

#: digest of the config, the pickled config, and its memo
_Entry = tuple[str, bytes, dict[str, str]]


class ConfigCache:
    """``load_config`` for the configs of one loader file, through the configs its last parse kept."""

    def __init__(self, root: Path, environ: Mapping[str, str], file: str | None) -> None:
        self.root = root
        self.environ = environ
        self.file = file  # None: no cache (the folder is not private), configs are only loaded
        self._kept: dict[str, _Entry] = _read(file) if file else {}
        self._now: dict[str, _Entry] = {}
        self._base = _digest(
            _code_version(), os.fspath(root), *(f"{k}={v}" for k, v in sorted(environ.items()))
        )
        self._defaults: dict[str, str] = {}

    @classmethod
    def open(cls, root: Path, environ: Mapping[str, str], name: str) -> ConfigCache:
        """The cache of the loader file ``name`` (its folder and shard) for configs under ``root``."""
        folder = os.path.join(state_dir(), "validated-configs")
        usable = _private_folder(folder)
        file = os.path.join(folder, f"{_digest(name)[:32]}.pickle") if usable else None
        return cls(root, environ, file)

    def load(self, path: Path) -> PipelineConfig:
        """The config at ``path``, as ``load_config`` returns it (raising its ConfigError)."""
        file = os.fspath(path)
        try:
            with open(file, "rb") as handle:
                content = handle.read()
        except OSError:
            return load_config(file, root=self.root, environ=self.environ)  # says why, with the file
        found = find_defaults_files(os.path.dirname(os.path.abspath(file)), self.root)
        key = _digest(self._base, file, hashlib.sha256(content).hexdigest(), *map(self._defaults_digest, found))
        kept = self._kept.get(file)
        if kept is not None and kept[0] == key:
            try:
                config = pickle.loads(kept[1])  # noqa: S301 - our own file, in a folder only we can write
            except Exception:  # noqa: BLE001 - a damaged entry is validated again
                log.debug("Cached config of %s unreadable; validating it", file, exc_info=True)
            else:
                self._now[file] = (kept[0], kept[1], dict(kept[2]))
                return config
        config = load_config(file, root=self.root, environ=self.environ)
        if self.file:
            with contextlib.suppress(Exception):  # a config that cannot be pickled is not kept
                self._now[file] = (key, pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL), {})
        return config

    def memo(self, path: Path) -> dict[str, str]:
        """The memo of the config ``load`` just gave for ``path``: what an earlier parse derived
        from this same config (empty after a change); what is put in it is kept with the config."""
        entry = self._now.get(os.fspath(path))
        return entry[2] if entry is not None else {}

    def save(self) -> None:
        """Keep this parse's valid configs for the next (written only when they changed)."""
        if self.file and self._now != self._kept:
            write_state(self.file, pickle.dumps(self._now, protocol=pickle.HIGHEST_PROTOCOL), mode=0o600)

    def _defaults_digest(self, path: str) -> str:
        digest = self._defaults.get(path)
        if digest is None:
            try:
                with open(path, "rb") as handle:
                    digest = _digest(path, hashlib.sha256(handle.read()).hexdigest())
            except OSError:
                digest = _digest(path, "unreadable")
            self._defaults[path] = digest
        return digest


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _read(file: str) -> dict[str, _Entry]:
    """The configs the last parse kept ({} when there are none, or the file is not this user's)."""
    try:
        with open(file, "rb") as handle:
            if os.fstat(handle.fileno()).st_uid != os.getuid():
                return {}
            kept = pickle.load(handle)  # noqa: S301 - see the module's docstring
    except FileNotFoundError:
        return {}
    except Exception:  # noqa: BLE001 - a damaged cache is a cold start
        log.debug("Config cache %s unreadable; validating every config", file, exc_info=True)
        return {}
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if isinstance(v, tuple) and len(v) == 3}  # an older layout: dropped


def _private_folder(folder: str) -> bool:
    """Whether ``folder`` exists (made here if not) as this user's, writable by no one else."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # no owners to check (Windows): no cache
        return False
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
        if info.st_uid != getuid() or not stat.S_ISDIR(info.st_mode):
            return False
        if info.st_mode & 0o077:
            os.chmod(folder, 0o700)  # ours, but made by an older version or another umask
    except OSError:
        return False
    return True


_code: str | None = None


def _code_version() -> str:
    """What validation's result depends on besides its input: this package's modules, pydantic, Python."""
    global _code
    if _code is None:
        import pydantic

        package = Path(__file__).resolve().parent.parent
        parts = [sys.version, pydantic.VERSION]
        for folder, _, names in os.walk(package):
            for name in sorted(names):
                if name.endswith(".py"):
                    info = os.stat(os.path.join(folder, name))
                    parts.append(f"{os.path.relpath(os.path.join(folder, name), package)}:{info.st_size}:{info.st_mtime_ns}")
        _code = _digest(*sorted(parts))
    return _code
