"""Where the plugin finds configs and writes provisioned ones: Airflow's ``[mlops_orchestrator]`` section.

Read at request time on the API server (never at DAG parse time), so ``airflow.cfg`` or
``AIRFLOW__MLOPS_ORCHESTRATOR__*`` environment variables set them like any Airflow option.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECTION = "mlops_orchestrator"

#: provider-info ``config`` entry: Airflow lists these options with its own (``airflow config list``)
CONFIG_OPTIONS: dict[str, dict[str, Any]] = {
    "config_folder": {
        "description": "The folder of pipeline configs the DAG loader serves (the page and the API list it). "
        "Default: $MLOPS_ORCHESTRATOR_CONFIG_DIR, else [core] dags_folder.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "/opt/airflow/dags",
        "default": "",
    },
    "provision_folder": {
        "description": "Where POST /mlops-orchestrator/provisionpipeline writes configs: a folder inside "
        "config_folder (relative paths are relative to it). The only place the API writes.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "provisioned",
        "default": "provisioned",
    },
    "provision_s3_uri": {
        "description": "Write provisioned configs to this S3 prefix instead (MWAA's dags bucket, e.g. "
        "s3://airflow-bucket/dags/provisioned); provision_folder must be where it syncs to.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "s3://airflow-my-env/dags/provisioned",
        "default": "",
    },
    "provision_aws_conn_id": {
        "description": "The AWS connection writing to provision_s3_uri.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "aws_default",
        "default": "aws_default",
    },
    "provision_run_wait_seconds": {
        "description": "How long provisionpipeline waits for the DAG processor to parse a new or changed "
        "config before triggering its run (the run is not started when it does not, and the answer says so).",
        "version_added": "0.1.0",
        "type": "integer",
        "example": "120",
        "default": "120",
    },
}


class SettingsError(RuntimeError):
    """The plugin's settings cannot work (answered as a 500 naming the option)."""


@dataclass(frozen=True)
class ApiSettings:
    config_folder: Path
    provision_folder: Path
    provision_s3_uri: str | None = None
    provision_aws_conn_id: str = "aws_default"
    run_wait_seconds: float = 120.0

    @property
    def provision_relative(self) -> str:
        return str(self.provision_folder.relative_to(self.config_folder))

    @classmethod
    def from_airflow(cls) -> ApiSettings:
        from airflow.configuration import conf

        def option(key: str) -> str:
            return (conf.get(SECTION, key, fallback=None) or CONFIG_OPTIONS[key]["default"]).strip()

        folder_text = (
            option("config_folder") or os.environ.get("MLOPS_ORCHESTRATOR_CONFIG_DIR") or conf.get("core", "dags_folder")
        )
        config_folder = Path(os.path.expanduser(folder_text)).resolve()
        provision = Path(os.path.expanduser(option("provision_folder") or "provisioned"))
        provision_folder = (provision if provision.is_absolute() else config_folder / provision).resolve()
        if not provision_folder.is_relative_to(config_folder):
            raise SettingsError(
                f"[{SECTION}] provision_folder {provision_folder} is outside config_folder {config_folder}: "
                "configs written there would never become DAGs"
            )
        s3_uri = option("provision_s3_uri") or None
        if s3_uri is not None and not s3_uri.startswith("s3://"):
            raise SettingsError(f"[{SECTION}] provision_s3_uri must start with s3://, got {s3_uri!r}")
        try:
            wait = float(option("provision_run_wait_seconds"))
        except ValueError:
            raise SettingsError(f"[{SECTION}] provision_run_wait_seconds must be a number of seconds") from None
        return cls(
            config_folder=config_folder,
            provision_folder=provision_folder,
            provision_s3_uri=s3_uri.rstrip("/") if s3_uri else None,
            provision_aws_conn_id=option("provision_aws_conn_id") or "aws_default",
            run_wait_seconds=wait,
        )

    def orchestrator_defaults(self) -> dict[str, Any]:
        """The settings a config dropped into the provision folder inherits (its defaults file, then the environment)."""
        from mlops_orchestrator.config import ENV_PREFIX, find_defaults_files, load_defaults

        found = find_defaults_files(self.provision_folder, self.config_folder)
        values = dict(load_defaults(found[0]).values) if found else {}
        for key in ("aws_conn_id", "region_name", "assets_bucket"):
            if not values.get(key) and os.environ.get(ENV_PREFIX + key.upper()):
                values[key] = os.environ[ENV_PREFIX + key.upper()]
        values.setdefault("aws_conn_id", "aws_default")
        return values
