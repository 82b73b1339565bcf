"""The emulator's control API: timings, failure rules and reset, over HTTP under ``/_mlops_local/``.

Tests and ``mlops-orchestrator run --local`` drive an emulator that may run in another process
(``mlops-orchestrator local-aws``, docker compose), so its knobs are HTTP endpoints served by the
same server as the AWS APIs. ``ControlMiddleware`` answers them before moto's dispatcher, which
routes by host, path and signature and would otherwise hand them to some AWS service.

    GET    /_mlops_local/            what this server is (endpoint, region, account)
    GET    /_mlops_local/settings    the timing settings
    POST   /_mlops_local/settings    change some: {"endpoint_seconds": 0.5, ...}
    GET    /_mlops_local/failures    the failure rules in force
    POST   /_mlops_local/failures    add one: {"kind": "endpoint", "match": "...", "reason": "...", "times": 1}
    DELETE /_mlops_local/failures    remove them all
    GET    /_mlops_local/requests    AWS calls per API (service.Action) since the last reset, and
                                     how many were throttled: {"since", "seconds", "calls", "throttled"}
    DELETE /_mlops_local/requests    start counting again
    POST   /_mlops_local/reset       moto's state, failure rules, counts and lifecycles cleared;
                                     settings back to those the server started with

Every other request is an AWS call: it is counted, and answered with AWS's throttling error
instead of moto's answer while a ``throttle`` failure rule matches its API, or answered late
while a ``hold`` rule matches (see traffic.py).

Errors answer ``{"error": "message"}`` with status 400, 404 or 405. ``LocalAwsControl`` is the
client (standard library only, usable from any process).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from mlops_orchestrator.local.lifecycle import STATE, FailureRule
from mlops_orchestrator.local.settings import LocalAwsSettings
from mlops_orchestrator.local.traffic import HOLD, THROTTLE, hold_seconds, identify, throttling_response

PREFIX = "/_mlops_local"
REGION = "us-east-1"

StartResponse = Callable[..., Any]


class ControlMiddleware:
    """WSGI middleware: ``/_mlops_local/...`` is ours, every other request goes to moto."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self._aws_call(environ, start_response)
        route = path[len(PREFIX) :].strip("/")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            status, body = self._handle(route, method, environ)
        except ValueError as exc:
            status, body = 400, {"error": str(exc)}
        payload = json.dumps(body).encode("utf-8")
        start_response(
            f"{status} {_REASONS.get(status, 'OK')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _aws_call(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        call = identify(environ)
        reason = STATE.failures.take(THROTTLE, call.rule_names)
        STATE.requests.count(call, throttled=reason is not None)
        if reason is None:
            hold = STATE.failures.take(HOLD, call.rule_names)
            if hold is None:
                return self.app(environ, start_response)
            return _held(self.app, environ, start_response, hold_seconds(hold))
        status, headers, body = throttling_response(call, reason)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _handle(self, route: str, method: str, environ: dict[str, Any]) -> tuple[int, Any]:
        routes: dict[str, dict[str, Callable[[], tuple[int, Any]]]] = {
            "": {"GET": lambda: (200, _info(environ))},
            "settings": {
                "GET": lambda: (200, STATE.settings.to_dict()),
                "POST": lambda: (200, STATE.update_settings(_json_body(environ)).to_dict()),
            },
            "failures": {
                "GET": lambda: (200, [rule.to_dict() for rule in STATE.failures.list()]),
                "POST": lambda: (
                    201,
                    STATE.failures.add(FailureRule.from_dict(_json_body(environ))).to_dict(),
                ),
                "DELETE": lambda: (200, _cleared()),
            },
            "requests": {
                "GET": lambda: (200, STATE.requests.to_dict()),
                "DELETE": lambda: (200, _requests_cleared()),
            },
            "reset": {"POST": lambda: (200, _reset())},
        }
        if route not in routes:
            return 404, {"error": f"no such control endpoint: {PREFIX}/{route}; see {PREFIX}/"}
        handler = routes[route].get(method)
        if handler is None:
            allowed = ", ".join(routes[route])
            return 405, {"error": f"{method} is not allowed on {PREFIX}/{route}; use {allowed}"}
        return handler()


def _held(app: Callable[..., Iterable[bytes]], environ: dict[str, Any], start_response: StartResponse, seconds: float):
    """moto's answer to the call, given ``seconds`` after moto has handled it."""
    answer: list[Any] = []

    def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        answer[:] = [status, headers]
        return lambda data: None

    body = b"".join(app(environ, keep))
    time.sleep(seconds)
    start_response(*answer)
    return [body]


_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


def _json_body(environ: dict[str, Any]) -> Any:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        raise ValueError("the request needs a JSON object body")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the request body is not valid JSON: {exc}") from None


def _info(environ: dict[str, Any]) -> dict[str, Any]:
    from moto.core import DEFAULT_ACCOUNT_ID

    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    return {
        "service": "mlops-orchestrator local AWS emulator",
        "endpoint_url": f"http://{host}",
        "region": REGION,
        "account_id": DEFAULT_ACCOUNT_ID,
        "settings": STATE.settings.to_dict(),
    }


def _cleared() -> dict[str, Any]:
    STATE.failures.clear()
    return {"failures": []}


def _requests_cleared() -> dict[str, Any]:
    STATE.requests.reset()
    return STATE.requests.to_dict()


def reset_all() -> None:
    """Clear moto's backends (its own reset API) and the emulator's state."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    STATE.reset()


def _reset() -> dict[str, Any]:
    reset_all()
    return {"status": "ok", "settings": STATE.settings.to_dict()}


# --- client ------------------------------------------------------------------------------------


class LocalAwsControlError(RuntimeError):
    """The control API refused a request (the message is the server's) or could not be reached."""


class LocalAwsControl:
    """Client of the control API of an emulator at ``endpoint_url`` (any process)."""

    def __init__(self, endpoint_url: str, timeout: float = 10.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def info(self) -> dict[str, Any]:
        return self._request("GET", "")

    def get_settings(self) -> LocalAwsSettings:
        return LocalAwsSettings(**self._request("GET", "settings"))

    def set_settings(self, **changes: float) -> LocalAwsSettings:
        """Change some timings, e.g. ``set_settings(endpoint_seconds=0.5)``; returns them all."""
        return LocalAwsSettings(**self._request("POST", "settings", changes))

    def add_failure(self, kind: str, match: str, reason: str, times: int | None = None) -> FailureRule:
        """Make operations of ``kind`` on resources whose names contain ``match`` fail."""
        rule = {"kind": kind, "match": match, "reason": reason, "times": times}
        return FailureRule(**self._request("POST", "failures", rule))

    def list_failures(self) -> list[FailureRule]:
        return [FailureRule(**data) for data in self._request("GET", "failures")]

    def clear_failures(self) -> None:
        self._request("DELETE", "failures")

    def requests(self) -> dict[str, Any]:
        """AWS calls per API since the last ``clear_requests``: {"since", "seconds", "calls", "throttled"}."""
        return self._request("GET", "requests")

    def clear_requests(self) -> None:
        self._request("DELETE", "requests")

    def throttle(self, api: str, times: int | None = None, reason: str = "Rate exceeded") -> FailureRule:
        """
        Answer the next ``times`` calls of APIs whose ``service.Action`` contains ``api`` with
        throttling (``api`` ending in ``$``: that one API only).
        """
        return self.add_failure(THROTTLE, api, reason, times)

    def hold(self, api: str, seconds: float, times: int | None = 1) -> FailureRule:
        """Let moto handle the next ``times`` calls of ``api`` but answer them ``seconds`` later."""
        return self.add_failure(HOLD, api, str(seconds), times)

    def reset(self) -> None:
        self._request("POST", "reset")

    def _request(self, method: str, route: str, body: Any = None) -> Any:
        url = f"{self.endpoint_url}{PREFIX}/{route}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error") or str(exc)
            except (ValueError, AttributeError):
                message = str(exc)
            raise LocalAwsControlError(f"{method} {url}: {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise LocalAwsControlError(f"{method} {url}: the emulator is not reachable ({exc})") from None
