"""Where a pipeline's notifications go: an SNS topic and/or e-mail addresses (MWO had both).

MWO sent its messages to an SNS topic with the operator's e-mail subscribed. Here the same topic
(``sns_topic_arn``: subscribe e-mail, SQS, chat or a Lambda to it) and/or e-mail through Airflow's
SMTP connection (``email``; on MWAA an SES SMTP connection) get a message when a pipeline fails, when
an approval waits for a person, and when a model monitor found violations (``on`` narrows that).
Set once in ``defaults.yaml``; a config may override it, or turn it off with ``notifications: null``
(or an empty ``on``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from .common import PARTITION, REGION, STRICT, NonEmptyStr, _pattern
from .errors import custom_error

#: The events a pipeline notifies about.
EVENTS: tuple[str, ...] = ("failure", "approval", "violations")
Event = Literal["failure", "approval", "violations"]

SNS_TOPIC_ARN_PATTERN = rf"^arn:{PARTITION}:sns:{REGION}:[0-9]{{12}}:[A-Za-z0-9_-]{{1,256}}(?:\.fifo)?$"
SnsTopicArn = Annotated[
    str, _pattern(SNS_TOPIC_ARN_PATTERN, "expected an SNS topic ARN like arn:aws:sns:us-east-1:111122223333:mlops")
]
EMAIL_PATTERN = r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$"
EmailAddress = Annotated[str, _pattern(EMAIL_PATTERN, "expected an e-mail address like team@example.com")]


def _one_or_list(value: Any) -> Any:
    """``email: a@x.com`` or ``"a@x.com, b@x.com"`` stand for a list (MWO took one address)."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class Notifications(BaseModel):
    """Notification settings: a topic, addresses, or both; which events."""

    model_config = STRICT

    sns_topic_arn: SnsTopicArn | None = Field(None, description="publish each notification to this SNS topic")
    email: Annotated[list[EmailAddress], BeforeValidator(_one_or_list)] | None = Field(
        None, description="e-mail these addresses through Airflow's SMTP connection"
    )
    smtp_conn_id: NonEmptyStr | None = Field(
        None, description="the Airflow SMTP connection (default: Airflow's [email] email_conn_id, smtp_default)"
    )
    from_email: EmailAddress | None = Field(None, description="the sender (default: the SMTP connection's)")
    on: list[Event] = Field(default_factory=lambda: list(EVENTS), description="which events notify")

    @model_validator(mode="after")
    def _somewhere(self) -> Notifications:
        if not self.sns_topic_arn and not self.email:
            raise custom_error("notifications", "give sns_topic_arn or email (or both): where notifications go")
        return self

    def wants(self, event: str) -> bool:
        return event in self.on
