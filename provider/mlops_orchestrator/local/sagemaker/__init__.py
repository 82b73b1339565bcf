"""SageMaker in the emulator: endpoints, transform, training, tuning and Autopilot jobs, Model Monitor.

One module per part of the service: ``endpoints`` (and their CloudFormation handling), ``transform``,
``training`` (training and tuning jobs, the model registry; it installs ``autopilot`` too),
``registry_access`` (model package group policies, cross-account packages), ``monitoring``
(processing jobs, job definitions, schedules and executions) and ``model_cards`` (content checks,
updates that keep what they do not change, PDF export jobs).
"""

from __future__ import annotations

from mlops_orchestrator.local.patching import service_installers

#: the modules that change moto for this service, installed in this order
install, uninstall = service_installers(
    __name__, ("endpoints", "transform", "training", "registry_access", "monitoring", "model_cards")
)
