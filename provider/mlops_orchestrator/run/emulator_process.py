"""
The local AWS emulator in a process of its own (``mlops-orchestrator local-aws``), restartable.

Airflow's services reach the emulator over HTTP from other processes anyway; running it apart
from the caller also lets a test restart it (its state is in memory: a restart loses every
resource, as a region outage would) and keeps its request handling off the caller's GIL, which
matters to benchmarks of many pipelines at once.

    with EmulatorProcess(port, log_path) as emulator:
        emulator.control.set_settings(stack_seconds=120)
        emulator.client("cloudformation").describe_stacks()
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mlops_orchestrator.local.control import LocalAwsControl, LocalAwsControlError

_SERVE = "import sys; from mlops_orchestrator.local import run_local_aws; sys.exit(run_local_aws(port=int(sys.argv[1])))"


class EmulatorProcess:
    """``run_local_aws`` on 127.0.0.1:``port`` in a process group of its own, logging to ``log``."""

    def __init__(self, port: int, log: Path, start_timeout: float = 60) -> None:
        self.port = port
        self.log = log
        self.start_timeout = start_timeout
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.control = LocalAwsControl(self.endpoint_url, timeout=30)
        self.process: subprocess.Popen | None = None

    def start(self) -> EmulatorProcess:
        """Start it and wait until its control API answers."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self.process.returncode}:\n{self._log_tail()}")
            with contextlib.suppress(LocalAwsControlError):
                self.control.info()
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the emulator did not answer within {self.start_timeout:.0f} s:\n{self._log_tail()}")

    def stop(self) -> None:
        """SIGTERM (the server stops cleanly), SIGKILL after 20 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def restart(self) -> None:
        """Stop and start again on the same port: every resource and setting is gone."""
        self.stop()
        self.start()

    def client(self, service: str, **kwargs: Any) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
