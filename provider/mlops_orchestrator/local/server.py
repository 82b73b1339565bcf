"""Start the local AWS emulator: moto's threaded server on loopback, extended and with a control API.

Airflow (in this process, or another one such as ``airflow dags test``) reaches it as an ordinary
AWS endpoint (``endpoint_url``), so the code under test is the code that runs against AWS.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Mapping
from types import FrameType, TracebackType
from typing import Any, TextIO

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from mlops_orchestrator.local import cloudformation, codebuild, ecr, iam, sagemaker, sts
from mlops_orchestrator.local.control import REGION, ControlMiddleware, LocalAwsControl
from mlops_orchestrator.local.lifecycle import STATE
from mlops_orchestrator.local.settings import LocalAwsSettings

DEFAULT_HOST = "127.0.0.1"
#: Port of ``mlops-orchestrator local-aws`` (moto's 5000 is taken by AirPlay on macOS).
DEFAULT_PORT = 5055
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

#: One package per AWS service (local/<service>/), each extending moto where our pipelines need it.
_EXTENSIONS = (cloudformation, iam, sts, sagemaker, ecr, codebuild)

def install_extensions() -> None:
    """Extend moto's classes in this process until ``uninstall_extensions`` (idempotent).

    Servers do this themselves while any of them runs; call it to use the extended moto
    in-process (e.g. under ``mock_aws``).
    """
    global _installed_by_user
    with _servers_lock:
        _installed_by_user = True
        _install()


def uninstall_extensions() -> None:
    """Give moto back its own behaviour (servers still running keep theirs until they stop)."""
    global _installed_by_user
    with _servers_lock:
        _installed_by_user = False
        if not _running_servers:
            _uninstall()


def _install() -> None:
    for extension in _EXTENSIONS:
        extension.install()


def _uninstall() -> None:
    for extension in reversed(_EXTENSIONS):
        extension.uninstall()


# moto's classes are process-wide: the extensions are in force while a server runs (or the user
# installed them), and moto is left as it was afterwards, so that plain-moto tests elsewhere in
# the same process (``mock_aws``) see plain moto.
_servers_lock = threading.Lock()
_running_servers = 0
_installed_by_user = False


def _server_started() -> None:
    global _running_servers
    with _servers_lock:
        _running_servers += 1
        _install()


def _server_stopped() -> None:
    global _running_servers
    with _servers_lock:
        _running_servers -= 1
        if not _running_servers and not _installed_by_user:
            _uninstall()


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without one log line per request (errors are still logged)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _ControlledMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer whose app answers ``/_mlops_local/`` first and whose start can fail.

    moto's own ``start`` waits forever when the port cannot be bound; here the error is kept and
    raised by ``LocalAws.start``.
    """

    def __init__(self, host: str, port: int, log_requests: bool) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._handler = MotoRequestHandler if log_requests else _QuietRequestHandler
        self.error: BaseException | None = None

    def _server_entry(self) -> None:
        app = ControlMiddleware(DomainDispatcherApplication(create_backend_app))
        try:
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=self._handler)
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self.error = exc
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()


class LocalAws:
    """The emulator: ``with LocalAws(port=0) as aws: boto3.client(..., endpoint_url=aws.endpoint_url)``.

    ``settings`` default to ``LocalAwsSettings.from_env()``. moto's state and the extensions are
    per process, so two servers in one process share them.
    """

    region = REGION
    account_id = DEFAULT_ACCOUNT_ID

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        settings: LocalAwsSettings | None = None,
        *,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.settings = settings
        self.log_requests = log_requests
        self._server: _ControlledMotoServer | None = None

    def start(self) -> LocalAws:
        if self._server is not None:
            return self
        _server_started()
        STATE.configure(self.settings if self.settings is not None else LocalAwsSettings.from_env())
        server = _ControlledMotoServer(self.host, self.requested_port, self.log_requests)
        server.start()
        if server.error is not None:
            _server_stopped()
            raise OSError(
                f"cannot serve the local AWS emulator on {self.host}:{self.requested_port}: {server.error}"
            )
        self._server = server
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            _server_stopped()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the local AWS emulator is not started; call start() first")
        return int(self._server.get_host_and_port()[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def control(self) -> LocalAwsControl:
        return LocalAwsControl(self.endpoint_url)

    def client(self, service_name: str, **kwargs: Any) -> Any:
        """A boto3 client for this emulator (dummy credentials, our region)."""
        import boto3

        options = {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            **DUMMY_CREDENTIALS,
            **kwargs,
        }
        return boto3.client(service_name, **options)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"  # reachable from this machine whatever the bind address
    return f"[{host}]" if ":" in host else host


def serve_forever(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    settings: LocalAwsSettings | None = None,
    *,
    out: TextIO | None = None,
) -> None:
    """Run the emulator in the foreground: print its endpoint URL, block until Ctrl-C or SIGTERM."""
    out = out or sys.stdout
    stopped = threading.Event()
    aws = LocalAws(host, port, settings, log_requests=True).start()
    previous: dict[int, Any] = {}

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, stop)
    try:
        print(f"Local AWS emulator listening on {aws.endpoint_url}", file=out)
        print(
            f"  region {aws.region}, account {aws.account_id}, any credentials (e.g. testing/testing); "
            f"control API at {aws.endpoint_url}/_mlops_local/",
            file=out,
        )
        print(f"  timings: {STATE.settings.to_dict()}", file=out)
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"  warning: bound to {host}; the emulator has no authentication.", file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        while not stopped.wait(0.5):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        aws.stop()
        print("Local AWS emulator stopped.", file=out, flush=True)


def run_local_aws(args: argparse.Namespace | Mapping[str, Any] | None = None, **kwargs: Any) -> int:
    """Entry point of ``mlops-orchestrator local-aws [--host H] [--port N]``; returns the exit code.

    Takes the parsed arguments (``host``, ``port``; missing or None means the default) as an
    argparse namespace, a mapping, or keywords.
    """
    options: dict[str, Any] = dict(vars(args) if isinstance(args, argparse.Namespace) else (args or {}))
    options.update(kwargs)
    host = options.get("host") or DEFAULT_HOST
    port = options.get("port")
    serve_forever(host, DEFAULT_PORT if port is None else int(port))
    return 0
