"""CodeBuild in the emulator: projects created by stacks, builds that go through phases and push images."""

from __future__ import annotations

from mlops_orchestrator.local.patching import service_installers

#: the modules that change moto for this service, installed in this order
install, uninstall = service_installers(__name__, ("builds",))
