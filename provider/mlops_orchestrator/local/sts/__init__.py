"""STS in the emulator: AssumeRole into another account only where that account's role allows it."""

from __future__ import annotations

import importlib

#: the modules that change moto for this service, installed in this order
_PARTS = ("assume_role",)


def install() -> None:
    """Extend moto for this service (idempotent); imported here, not at package import, to keep it light."""
    for part in _PARTS:
        importlib.import_module(f"{__name__}.{part}").install()


def uninstall() -> None:
    for part in reversed(_PARTS):
        importlib.import_module(f"{__name__}.{part}").uninstall()
