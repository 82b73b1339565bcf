"""Notifications of pipelines: Airflow notifiers sending to the SNS topic and/or e-mail of the settings.

``PipelineNotifier`` (``pipeline.py``) is one Airflow notifier per event (failure, approval,
violations); it composes the message (``messages.py``) and hands it to the Amazon provider's
``SnsNotifier`` and the SMTP provider's ``SmtpNotifier``. ``notifiers_for`` gives the factories the
notifiers of a config for one event (none when the settings do not ask for it).
"""

from __future__ import annotations

from mlops_orchestrator.notifications.pipeline import PipelineNotifier, notifiers_for

__all__ = ["PipelineNotifier", "notifiers_for"]
