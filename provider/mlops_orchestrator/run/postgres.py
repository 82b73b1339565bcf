"""
A throwaway PostgreSQL server for Airflow's metadata database (benchmarks; not for tests or users).

Airflow as deployed (MWAA, our docker-compose.yaml) keeps its metadata in PostgreSQL; SQLite,
which the test harness uses, lets one writer at a time in, so many concurrent task starts,
heartbeats and REST calls queue on its lock (and fail after its 5 s busy timeout), which is not
what a deployment sees. This starts PostgreSQL's own binaries (``initdb``, ``pg_ctl``) on a free
loopback port with trust authentication, in a folder that is removed afterwards.

    with LocalPostgres() as postgres:
        env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url}
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlops_orchestrator.run.services import free_port

#: where Debian's packages and a source build put PostgreSQL's programs
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/local/bin", *sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))]
)


class PostgresError(RuntimeError):
    """PostgreSQL could not be found or started."""


@dataclass
class LocalPostgres:
    """
    A PostgreSQL cluster with one database, ``airflow``, on a free loopback port, in a new folder
    under the temp folder (which the server's account can reach), removed by ``stop``.
    """

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mlops-postgres-")))
    port: int = 0
    database: str = "airflow"
    #: the account the server runs as: PostgreSQL refuses to run as root
    user: str = field(default_factory=lambda: "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def data(self) -> Path:
        """The cluster's data folder."""
        return self.folder / "data"

    @property
    def pid(self) -> int:
        """The server's process id (its first line of ``postmaster.pid``)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def _program(self, name: str) -> str:
        found = shutil.which(name, path=_SEARCH_PATH)
        if found is None:
            raise PostgresError(f"{name} not found: install PostgreSQL (Debian: apt install postgresql)")
        return found

    def _run(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", self.user, "--", *command)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode:
            raise PostgresError(f"{' '.join(command)} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")

    def start(self) -> LocalPostgres:
        """Create, start and fill the cluster; on any failure, stop what started and remove the folder."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.port = self.port or free_port()
        self.data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam(self.user)
            for path in (self.folder, self.data):
                os.chown(path, account.pw_uid, account.pw_gid)
        self._run(self._program("initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        log = str(self.folder / "server.log")
        self._run(self._program("pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        self._run(self._program("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.database)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self._program("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
