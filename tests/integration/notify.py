"""Where the notification tests read what was sent: an SQS queue on an emulated SNS topic, an SMTP server.

Imported by the integration tests (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class TopicInbox:
    """An SNS topic with an SQS queue subscribed to it, as a team would subscribe e-mail or chat."""

    def __init__(self, aws: Any, name: str | None = None) -> None:
        self.sns, self.sqs = aws("sns"), aws("sqs")
        name = name or f"mlops-notify-{uuid.uuid4().hex[:8]}"
        self.topic_arn = self.sns.create_topic(Name=name)["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def read(self, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until ``count`` notifications arrived (SNS's envelope: Subject, Message, MessageAttributes)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in answer.get("Messages", []):
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def settle(self, seconds: float = 2) -> list[dict[str, Any]]:
        """Whatever else arrives within ``seconds`` (to show that nothing more was sent)."""
        return self.read(10**6, timeout=seconds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(conn_id: str) -> Iterator[list[Any]]:
    """A local SMTP server (aiosmtpd) and an Airflow SMTP connection to it; yields the received messages."""
    import os
    from email import message_from_bytes
    from email.policy import default

    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
            message = message_from_bytes(envelope.content, policy=default)
            received.append({"to": list(envelope.rcpt_tos), "from": envelope.mail_from, "message": message})
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    os.environ[variable] = json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@example.com"},
        }
    )
    try:
        yield received
    finally:
        os.environ.pop(variable, None)
        controller.stop()


def wait_for(items: list[Any], count: int, timeout: float = 30) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(items) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return items
