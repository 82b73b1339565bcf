"""Which AWS APIs clients call: a request counter, and throttling bursts (failure kind ``throttle``).

Every request to the emulator is one AWS API call, named ``service.Action`` as IAM names it
(``sagemaker.DescribeEndpoint``, ``cloudformation.DescribeStacks``); REST services without an
action in the request (S3) are named by method (``s3.GET``). The counter says how often a waiting
task or trigger polls (calls per waiting job per minute), and which APIs a pipeline calls at all.

A ``throttle`` failure rule answers calls of the APIs whose name contains its ``match`` with AWS's
throttling error in that service's protocol (``ThrottlingException`` for JSON APIs, ``Throttling``
for query APIs such as CloudFormation, ``SlowDown`` for S3), ``times`` calls in a row, as AWS does
in a burst: botocore's retries (with backoff) must absorb it.

A rule's ``match`` is a substring of ``service.Action`` (``sagemaker.`` matches every SageMaker
call, ``sagemaker.DescribeModel`` also ``sagemaker.DescribeModelPackage``); ending it with ``$``
anchors it at the name's end, so ``sagemaker.DescribeModel$`` matches that one API only.

A ``hold`` rule lets moto handle the call and holds the answer for ``reason`` seconds: the call
has taken effect (a stack or job exists) while its caller still waits, the moment at which a
killed worker would leave a resource its retry must find rather than create again.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from mlops_orchestrator.local.lifecycle import register_failure_kind

THROTTLE = "throttle"
HOLD = "hold"
register_failure_kind(THROTTLE, "the API called, as service.Action (e.g. sagemaker.DescribeEndpoint)")


def hold_seconds(reason: str) -> float:
    """A hold rule's ``reason``: the seconds to hold the answer."""
    try:
        seconds = float(reason)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ValueError(f"a hold rule's reason is the seconds to hold the answer (0 to 3600), got {reason!r}")
    return seconds


register_failure_kind(HOLD, "the API called, as service.Action (reason: seconds to hold the answer)", hold_seconds)

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class ApiCall:
    """One request, as the API it calls."""

    service: str
    action: str
    protocol: str  # "json", "query" or "rest"

    @property
    def name(self) -> str:
        return f"{self.service}.{self.action}"

    @property
    def rule_names(self) -> list[str]:
        """What a throttle or hold rule's ``match`` is looked for in: ``$`` marks the name's end."""
        return [f"{self.name}$"]


def identify(environ: dict[str, Any]) -> ApiCall:
    """
    The API a WSGI request calls. A query-protocol body is read to find its ``Action`` and put
    back for moto to read again.
    """
    service = _service(environ)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return ApiCall(service, target.rsplit(".", 1)[-1], "json")
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and (environ.get("CONTENT_TYPE") or "").startswith(_FORM):
        body = _read_body(environ)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return ApiCall(service, action[0], "query")
    return ApiCall(service, environ.get("REQUEST_METHOD", "GET").upper(), "rest")


def _service(environ: dict[str, Any]) -> str:
    authorization = environ.get("HTTP_AUTHORIZATION") or ""
    found = _CREDENTIAL_SCOPE.search(authorization)
    if not found:  # a presigned URL carries the scope in its query
        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
        found = _CREDENTIAL_SCOPE.search(f"Credential={credential}")
    return found.group(1) if found else "unknown"


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class RequestCounter:
    """Calls per API since the last reset, and how many of them were answered with throttling."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls: Counter[str] = Counter()
            self.throttled: Counter[str] = Counter()
            self.since = time.time()

    def count(self, call: ApiCall, *, throttled: bool = False) -> None:
        with self._lock:
            self.calls[call.name] += 1
            if throttled:
                self.throttled[call.name] += 1

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "since": self.since,
                "seconds": time.time() - self.since,
                "calls": dict(sorted(self.calls.items())),
                "throttled": dict(sorted(self.throttled.items())),
            }


def throttling_response(call: ApiCall, reason: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """AWS's throttling answer in the call's protocol: (status, headers, body)."""
    request_id = str(uuid.uuid4())
    if call.protocol == "json":
        body = json.dumps({"__type": "ThrottlingException", "message": reason}).encode()
        return "400 Bad Request", [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", "ThrottlingException"),
            ("x-amzn-RequestId", request_id),
        ], body
    if call.protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            f"<Message>{_xml(reason)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return "400 Bad Request", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body
    body = (
        f"<Error><Code>SlowDown</Code><Message>{_xml(reason)}</Message><RequestId>{request_id}</RequestId></Error>"
    ).encode()
    return "503 Slow Down", [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
