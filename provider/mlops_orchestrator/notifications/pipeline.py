"""An Airflow notifier per pipeline event, sending through the Amazon and SMTP providers' notifiers.

Why not hand the providers' notifiers to the DAG directly: a notifier renders its templates in
place, once (``BaseNotifier.render_template_fields`` is irreversible), so one instance shared by
the tasks of a DAG (``default_args``) would repeat the first task's message for every later one in
the same process; and a Jinja template would render whatever an error message happens to contain.
``PipelineNotifier`` holds only the settings, composes the message in Python for each call, and
builds a fresh ``SnsNotifier`` / ``SmtpNotifier`` to send it. A notification that cannot be sent is
logged and never fails the task or hides its own error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.notifier import BaseNotifier

from mlops_orchestrator.notifications.messages import COMPOSERS, as_html, sns_subject

if TYPE_CHECKING:
    from mlops_orchestrator.config import PipelineConfig


class PipelineNotifier(BaseNotifier):
    """
    Send one kind of event (``failure``, ``approval``, ``violations``) of a pipeline to an SNS
    topic and/or e-mail addresses.

    :param event: which message to compose (``messages.COMPOSERS``).
    :param pipeline: ``{"pipeline_type", "config"}`` (the config file), named in every message with
        the DAG id of the run.
    :param sns_topic_arn: publish to this topic (the topic's region is the ARN's).
    :param email: e-mail these addresses through ``smtp_conn_id``.
    """

    template_fields: Sequence[str] = ()

    def __init__(
        self,
        *,
        event: str,
        pipeline: dict[str, str],
        sns_topic_arn: str | None = None,
        email: Sequence[str] = (),
        aws_conn_id: str | None = "aws_default",
        smtp_conn_id: str | None = None,
        from_email: str | None = None,
    ) -> None:
        super().__init__()
        if event not in COMPOSERS:
            raise ValueError(f"unknown event {event!r}; expected one of {', '.join(COMPOSERS)}")
        self.event = event
        self.pipeline = dict(pipeline)
        self.sns_topic_arn = sns_topic_arn
        self.email = list(email)
        self.aws_conn_id = aws_conn_id
        self.smtp_conn_id = smtp_conn_id
        self.from_email = from_email

    def compose(self, context: Any) -> tuple[str, str]:
        """The subject and plain-text body for this context."""
        return COMPOSERS[self.event](context, self.pipeline)

    def notify(self, context: Any) -> None:
        subject, text = self.compose(context)
        if self.sns_topic_arn:
            self._send("SNS topic " + self.sns_topic_arn, lambda: self._sns(subject, text).notify(context))
        if self.email:
            self._send("e-mail to " + ", ".join(self.email), lambda: self._smtp(subject, text).notify(context))

    def _send(self, where: str, send: Any) -> None:
        try:
            send()
        except Exception as exc:  # a lost notification must not fail the task or hide its error
            self.log.error("Could not send the %s notification to %s: %s", self.event, where, exc)
        else:
            self.log.info("Sent the %s notification to %s", self.event, where)

    def _sns(self, subject: str, text: str) -> Any:
        from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

        return SnsNotifier(
            aws_conn_id=self.aws_conn_id,
            region_name=self.sns_topic_arn.split(":")[3],
            target_arn=self.sns_topic_arn,
            subject=sns_subject(subject),
            message=text,
            message_attributes={"event": self.event, "pipeline_type": str(self.pipeline.get("pipeline_type"))},
        )

    def _smtp(self, subject: str, text: str) -> Any:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        # without a connection id of ours, the provider's default (Airflow's [email] email_conn_id)
        connection = {"smtp_conn_id": self.smtp_conn_id} if self.smtp_conn_id else {}
        return SmtpNotifier(
            to=self.email, from_email=self.from_email, subject=subject, html_content=as_html(text), **connection
        )


def notifiers_for(config: PipelineConfig, event: str, config_path: str | None = None) -> list[PipelineNotifier]:
    """The notifiers of ``event`` the config's ``notifications`` ask for (none when it does not)."""
    settings = config.notifications
    if settings is None or not settings.wants(event):
        return []
    return [
        PipelineNotifier(
            event=event,
            pipeline={"pipeline_type": config.pipeline_type, "config": config_path or ""},
            sns_topic_arn=settings.sns_topic_arn,
            email=settings.email or (),
            aws_conn_id=config.aws_conn_id,
            smtp_conn_id=settings.smtp_conn_id,
            from_email=settings.from_email,
        )
    ]
