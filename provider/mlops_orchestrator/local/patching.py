"""Replace attributes of moto's classes and modules so that the change can be undone.

ThreadedMotoServer serves moto's process-wide backends, so our extensions change moto's classes in
place. Each extension module keeps one ``Patches`` and installs it once; ``undo`` puts back exactly
what was there (including staticmethod/classmethod wrappers and absent attributes).
"""

from __future__ import annotations

from typing import Any

_ABSENT = object()


class Patches:
    """A record of replaced attributes, undone in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    @property
    def installed(self) -> bool:
        return bool(self._saved)

    def original(self, owner: Any, name: str) -> Any:
        """The attribute as moto defined it (the raw descriptor for classes)."""
        for saved_owner, saved_name, value in self._saved:
            if saved_owner is owner and saved_name == name:
                return value
        return _raw(owner, name)

    def set(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, _raw(owner, name)))
        setattr(owner, name, value)

    def undo(self) -> None:
        while self._saved:
            owner, name, value = self._saved.pop()
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)


def _raw(owner: Any, name: str) -> Any:
    if isinstance(owner, type):
        return owner.__dict__.get(name, _ABSENT)
    return getattr(owner, name, _ABSENT)


def service_installers(package: str, parts: tuple[str, ...]) -> tuple[Any, Any]:
    """
    ``install``/``uninstall`` of a service package (``local/<service>/``): its ``parts`` (module
    names) installed in order and undone in reverse. The parts are imported only then, so
    importing the package stays light.
    """
    import importlib

    def install() -> None:
        for part in parts:
            importlib.import_module(f"{package}.{part}").install()

    def uninstall() -> None:
        for part in reversed(parts):
            importlib.import_module(f"{package}.{part}").uninstall()

    return install, uninstall
