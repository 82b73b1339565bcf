"""
Airflow as a deployment runs it: scheduler, DAG processor, triggerer and API server, as processes.

``dag.test()`` runs a DAG inside one process and triggers inline; what depends on the services
themselves (deferral through the triggerer, the DAG processor picking up a new config, the REST API
and the UI, plugins on the API server, LocalExecutor's parallelism) needs them running. This module
starts them on a private AIRFLOW_HOME (SQLite metadata database, LocalExecutor, SimpleAuthManager
with an admin user, and others when asked), waits until the API server reports every component healthy, gives a REST
client with a token as the UI's calls carry, and stops everything (process groups) on exit. It is
the same topology as docker-compose.yaml, with SQLite in place of Postgres::

    with AirflowServices(home, dags_folder, env={"AIRFLOW_CONN_AWS_DEFAULT": ...}) as airflow:
        api = airflow.client()
        run = api.trigger("churn")
        api.wait_for_run("churn", run["dag_run_id"])
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mlops_orchestrator.run.airflow_env import LOCAL_CREDENTIALS, local_aws_connection

#: the components started, in order, each as ``airflow COMMAND``
COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
#: the health report's name of each component that reports one
HEALTH_NAMES = ("metadatabase", "scheduler", "triggerer", "dag_processor")
TERMINAL_RUN_STATES = frozenset({"success", "failed"})
ADMIN = "admin"


class ServicesError(RuntimeError):
    """A component did not start, stopped, or a wait ran out; carries the end of the logs."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class AirflowServices:
    """
    The four Airflow components on ``home`` with ``dags_folder``.

    ``env`` is added to every component's environment (AWS connections as ``AIRFLOW_CONN_*``,
    ``AIRFLOW__SECTION__KEY`` settings such as ``AIRFLOW__CORE__PARALLELISM``). The DAG processor
    looks for new files every ``refresh_seconds`` and re-parses each file every ``parse_seconds``
    (Airflow's defaults are 300 and 30; tests want a new config to show up quickly).
    """

    home: Path
    dags_folder: Path
    env: Mapping[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    refresh_seconds: int = 5
    parse_seconds: int = 5
    python: str = sys.executable
    start_timeout: float = 180.0
    #: SimpleAuthManager's users, name -> role (admin, op, user, viewer); each gets a generated password
    users: Mapping[str, str] = field(default_factory=lambda: {ADMIN: "admin"})
    processes: dict[str, subprocess.Popen] = field(default_factory=dict, init=False)
    passwords: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.passwords = {user: secrets.token_urlsafe(16) for user in self.users}

    @property
    def password(self) -> str:
        """The admin user's password."""
        return self.passwords[ADMIN]

    # -- configuration ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """What every component (and ``airflow`` CLI calls against this home) runs with."""
        passwords = self.home / "simple_auth_manager_passwords.json"
        settings = {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in self.users.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            # tasks (LocalExecutor's workers) and the UI reach the API server here
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            # one secret for every component: tokens made by one are checked by another
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt"),
            "AIRFLOW__API__SECRET_KEY": self._secret("api"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": str(self.refresh_seconds),
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": str(self.parse_seconds),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            # what parses remember (warnings logged, last good task ids) belongs to this deployment
            "MLOPS_ORCHESTRATOR_STATE_DIR": str(self.home / "parse-state"),
        }
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        environment.update(settings)
        environment.update(self.env)
        return environment

    def _secret(self, name: str) -> str:
        path = self.home / f".{name}-secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
        return path.read_text()

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> AirflowServices:
        self.home.mkdir(parents=True, exist_ok=True)
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        (self.home / "simple_auth_manager_passwords.json").write_text(json.dumps(self.passwords))
        self.log_folder.mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate")
        try:
            for component in COMPONENTS:
                self._spawn(component)
            self.wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def log_folder(self) -> Path:
        return self.home / "service-logs"

    def log_path(self, component: str) -> Path:
        return self.log_folder / f"{component}.log"

    def _spawn(self, component: str) -> None:
        command = [self.python, "-m", "airflow", component]
        if component == "api-server":
            command += ["--host", self.host, "--port", str(self.port), "--workers", "1"]
        log = self.log_path(component).open("ab")
        self.processes[component] = subprocess.Popen(
            command,
            env=self.environment(),
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends the workers it forks too
        )
        log.close()

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run ``airflow ARGS`` against this home (e.g. ``db migrate``, ``dags list-import-errors``)."""
        result = subprocess.run(
            [self.python, "-m", "airflow", *args],
            env=self.environment(),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ServicesError(f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def check_running(self) -> None:
        """Raise with the component's log if one has stopped."""
        for component, process in self.processes.items():
            if process.poll() is not None:
                raise ServicesError(
                    f"airflow {component} exited with {process.returncode}:\n{self.log_tail(component)}"
                )

    def log_tail(self, component: str, characters: int = 4000) -> str:
        path = self.log_path(component)
        return path.read_text(errors="replace")[-characters:] if path.exists() else "(no log)"

    def health(self) -> dict[str, Any] | None:
        try:
            response = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def wait_until_healthy(self) -> dict[str, Any]:
        """Until the API server answers and reports every component healthy."""
        deadline = time.monotonic() + self.start_timeout
        report: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            self.check_running()
            report = self.health()
            if report and all((report.get(name) or {}).get("status") == "healthy" for name in HEALTH_NAMES):
                return report
            time.sleep(1)
        logs = "\n".join(f"--- {c}\n{self.log_tail(c, 1500)}" for c in COMPONENTS)
        raise ServicesError(f"Airflow not healthy after {self.start_timeout:.0f} s: {report}\n{logs}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every component's process group, then SIGKILL what is left after ``timeout``."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(10)
        for process in self.processes.values():  # workers the component forked, if any outlived it
            _signal_group(process, signal.SIGKILL)
        self.processes.clear()

    def __enter__(self) -> AirflowServices:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- REST ---------------------------------------------------------------------------------

    def token(self, user: str = ADMIN) -> str:
        """A JWT for ``user``, as the UI's login gets one (``POST /auth/token``)."""
        response = httpx.post(
            f"{self.base_url}/auth/token", json={"username": user, "password": self.passwords[user]}, timeout=30
        )
        if response.status_code != 201:
            raise ServicesError(f"POST /auth/token: {response.status_code} {response.text[:500]}")
        return response.json()["access_token"]

    def client(self, user: str = ADMIN) -> AirflowApi:
        return AirflowApi(self.base_url, self.token(user), on_wait=self.check_running)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


class AirflowApi:
    """Airflow's REST API (``/api/v2``) with a bearer token, and the waits tests need."""

    def __init__(self, base_url: str, token: str, on_wait: Callable[[], None] | None = None) -> None:
        self.http = httpx.Client(
            base_url=f"{base_url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.on_wait = on_wait or (lambda: None)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ServicesError(f"{method} /api/v2{path}: {response.status_code} {response.text[:1000]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        response = self.http.get(f"/dags/{dag_id}")
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ServicesError(f"GET /api/v2/dags/{dag_id}: {response.status_code} {response.text[:1000]}")
        return response.json()

    def dag_details(self, dag_id: str) -> dict[str, Any]:
        return self.get(f"/dags/{dag_id}/details")

    def import_errors(self) -> list[dict[str, Any]]:
        return self.get("/importErrors")["import_errors"]

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Until the DAG processor has parsed the config's DAG into the database."""
        return self._until(lambda: self.dag(dag_id), timeout, f"DAG {dag_id} to appear")

    def unpause(self, dag_id: str) -> dict[str, Any]:
        return self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, unpause: bool = True) -> dict[str, Any]:
        """Start a run as the UI's Trigger button does (``POST /dags/{id}/dagRuns``)."""
        if unpause:
            self.unpause(dag_id)
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        found = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)
        return {ti["task_id"]: ti["state"] for ti in found["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """A task try's log as the UI shows it: one line per record, its event then its other fields."""
        response = self.http.get(
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        if response.status_code >= 400:
            return f"(no log: {response.status_code} {response.text[:500]})"
        content = response.json().get("content")
        records = content if isinstance(content, list) else [content]
        return "\n".join(_log_line(record) for record in records)

    def failed_task_logs(self, dag_id: str, run_id: str, characters: int = 3000) -> str:
        """The end of each failed task's log: what a failing test should print."""
        failed = [task for task, state in self.task_states(dag_id, run_id).items() if state == "failed"]
        return "\n".join(f"--- {task}\n{self.task_log(dag_id, run_id, task)[-characters:]}" for task in failed)

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float = 300,
        poll: float = 0.5,
        seen: dict[str, set[str]] | None = None,
    ) -> dict[str, Any]:
        """
        Until the run succeeds or fails; ``seen`` collects every state each task was observed in
        (so a test can tell that a task was ``deferred``, i.e. its wait went through the triggerer).
        """

        def finished() -> dict[str, Any] | None:
            if seen is not None:
                for task_id, state in self.task_states(dag_id, run_id).items():
                    seen.setdefault(task_id, set()).add(str(state))
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in TERMINAL_RUN_STATES else None

        return self._until(finished, timeout, f"run {run_id} of {dag_id} to finish", poll=poll)

    def _until(self, probe: Callable[[], Any], timeout: float, what: str, poll: float = 1.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.on_wait()
            value = probe()
            if value:
                return value
            time.sleep(poll)
        raise ServicesError(f"timed out after {timeout:.0f} s waiting for {what}")

    def close(self) -> None:
        self.http.close()


def _log_line(record: Any) -> str:
    if not isinstance(record, dict):
        return str(record)
    rest = {k: v for k, v in record.items() if k not in ("event", "timestamp", "level", "logger")}
    return f"{record.get('event', '')} {json.dumps(rest, default=str) if rest else ''}".rstrip()


def connection_env(conn_ids: Iterable[str], endpoint_url: str, region: str = "us-east-1") -> dict[str, str]:
    """Environment variables that make each of ``conn_ids`` an AWS connection to the local emulator."""
    value = local_aws_connection(endpoint_url, region)
    env = {f"AIRFLOW_CONN_{conn_id.upper()}": value for conn_id in conn_ids}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["login"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["password"],
            "AWS_DEFAULT_REGION": region,
        }
    )
    return env
