"""Placeholder: filled in by the emulator work for monitoring (install/uninstall are no-ops)."""

from __future__ import annotations


def install() -> None:
    """Nothing to install yet."""


def uninstall() -> None:
    """Nothing to uninstall yet."""
