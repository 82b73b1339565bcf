"""SageMaker in the emulator: endpoints, transform, training, tuning and Autopilot jobs, Model Monitor.

One module per part of the service: ``endpoints`` (and their CloudFormation handling), ``transform``,
``training`` (training and tuning jobs, the model registry; it installs ``autopilot`` too) and
``monitoring`` (processing jobs, job definitions, schedules and executions).
"""

from __future__ import annotations

import importlib

#: the modules that change moto for this service, installed in this order
_PARTS = ("endpoints", "transform", "training", "registry_access", "monitoring")


def install() -> None:
    """Extend moto for this service (idempotent); imported here, not at package import, to keep it light."""
    for part in _PARTS:
        importlib.import_module(f"{__name__}.{part}").install()


def uninstall() -> None:
    for part in reversed(_PARTS):
        importlib.import_module(f"{__name__}.{part}").uninstall()
