"""CloudFormation in the emulator: stacks that take time, report each resource and roll back.

``stacks`` replaces moto's synchronous stack operations; ``resources`` says how each resource type is
updated (extensions of other services register their types there); ``template`` holds the checks
CloudFormation makes on a request and moto does not.
"""

from __future__ import annotations

import importlib

#: the modules that change moto for this service, installed in this order
_PARTS = ("stacks", "stacksets")


def install() -> None:
    """Extend moto for this service (idempotent); imported here, not at package import, to keep it light."""
    for part in _PARTS:
        importlib.import_module(f"{__name__}.{part}").install()


def uninstall() -> None:
    for part in reversed(_PARTS):
        importlib.import_module(f"{__name__}.{part}").uninstall()
