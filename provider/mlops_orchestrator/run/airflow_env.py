"""The Airflow settings a one-off run needs, set before Airflow is first imported.

Airflow reads its configuration when first imported, so ``mlops-orchestrator run`` decides the
home folder, the DAG folder and the AWS connection through environment variables first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOCAL_CREDENTIALS = {"login": "testing", "password": "testing"}


def default_airflow_home() -> Path:
    """$AIRFLOW_HOME when set (the user's own Airflow), else a private SQLite home in the cache."""
    if os.environ.get("AIRFLOW_HOME"):
        return Path(os.environ["AIRFLOW_HOME"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mlops-orchestrator" / "airflow-home"


def configure_airflow(home: Path, dags_folder: Path) -> None:
    """Point Airflow at ``home`` (SQLite metadata) and ``dags_folder``; quiet example DAGs."""
    home.mkdir(parents=True, exist_ok=True)
    dags_folder.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")


def migrate_database() -> None:
    """Create or upgrade the metadata database (idempotent, a few seconds on SQLite)."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")


def local_aws_connection(endpoint_url: str, region: str) -> str:
    """An ``AIRFLOW_CONN_*`` value: an AWS connection that talks to the local emulator."""
    return json.dumps(
        {
            "conn_type": "aws",
            **LOCAL_CREDENTIALS,
            "extra": {"endpoint_url": endpoint_url, "region_name": region},
        }
    )


def set_local_aws_connection(conn_id: str, endpoint_url: str, region: str) -> None:
    """An Airflow AWS connection (environment variable) that talks to the local emulator."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["login"])
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["password"])
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = local_aws_connection(endpoint_url, region)


def write_loader(dags_folder: Path, config_folder: Path, config_files: list[Path]) -> Path:
    """A DAG file that loads just the configs of this run (dag.test() re-parses the DAG folder)."""
    loader = dags_folder / "mlops_orchestrator_run.py"
    files = ", ".join(repr(str(p)) for p in config_files)
    loader.write_text(
        '"""Airflow DAG file written by `mlops-orchestrator run`: the DAGs of the configs being run."""\n'
        "from mlops_orchestrator.factory import load_dags\n\n"
        f"load_dags({str(config_folder)!r}, globals(), files=[{files}])\n",
        encoding="utf-8",
    )
    return loader
