"""The local AWS emulator: moto in server mode plus what moto lacks for our pipelines.

Start it with ``LocalAws`` (tests, ``run --local``) or ``mlops-orchestrator local-aws``; point an
Airflow AWS connection's ``endpoint_url`` at it; set timings and failure rules with
``LocalAwsControl`` (over HTTP, from any process). Importing this package neither imports moto
(a process that only drives an emulator elsewhere stays light) nor changes it; a running
``LocalAws`` server (or ``install_extensions``) does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_orchestrator.local.control import LocalAwsControl, LocalAwsControlError
    from mlops_orchestrator.local.lifecycle import FailureRule
    from mlops_orchestrator.local.server import (
        DEFAULT_HOST,
        DEFAULT_PORT,
        LocalAws,
        install_extensions,
        run_local_aws,
        serve_forever,
        uninstall_extensions,
    )
    from mlops_orchestrator.local.settings import LocalAwsSettings

_EXPORTS = {
    "LocalAws": "server",
    "serve_forever": "server",
    "run_local_aws": "server",
    "install_extensions": "server",
    "uninstall_extensions": "server",
    "DEFAULT_HOST": "server",
    "DEFAULT_PORT": "server",
    "LocalAwsControl": "control",
    "LocalAwsControlError": "control",
    "FailureRule": "lifecycle",
    "LocalAwsSettings": "settings",
}

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "FailureRule",
    "LocalAws",
    "LocalAwsControl",
    "LocalAwsControlError",
    "LocalAwsSettings",
    "install_extensions",
    "run_local_aws",
    "serve_forever",
    "uninstall_extensions",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
