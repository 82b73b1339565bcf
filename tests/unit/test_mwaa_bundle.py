"""`make mwaa-bundle`'s files: what MWAA installs from, unzips into plugins/, runs first, and parses."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from mlops_orchestrator.mwaa_bundle import build_bundle

REPO = Path(__file__).resolve().parents[2]
MWAA = REPO / "tests" / "mwaa"


def _bundle(tmp_path: Path, settings: dict, missing: dict[str, str] | None = None) -> dict:
    wheel = tmp_path / "airflow_provider_mlops_orchestrator-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mlops_orchestrator/__init__.py", "")
    plugins = tmp_path / "plugins"
    (plugins / "mlops_plugin").mkdir(parents=True)
    (plugins / "mlops_plugin" / "__init__.py").write_text("")
    (plugins / "README.md").write_text("not shipped")
    seen: list = []

    def scan(wheel_path, version, constraints, work):
        seen.append((wheel_path, version, [c.name for c in constraints]))
        for name, pinned in (missing or {}).items():  # what pip download would have written
            (work / "wheels" / f"{name}-{pinned}-py3-none-any.whl").write_bytes(b"")
        return {}

    summary = build_bundle(
        wheel=wheel, airflow_version="3.3.1", constraints=MWAA / "airflow-3.3.1-constraints.txt",
        essential=MWAA / "airflow-3.3.1-essential-constraints.txt", dags=REPO / "dags", plugins=plugins,
        out=tmp_path / "bundle", settings=settings, scan=scan,
    )
    summary["scanned"] = seen
    return summary


def test_the_bundle_has_requirements_plugins_startup_and_dags(tmp_path):
    summary = _bundle(tmp_path, {"assets_bucket": "team-assets", "kms_key_arn": None}, missing={"extra-lib": "1.0"})
    out = tmp_path / "bundle"
    assert summary["scanned"] == [
        (tmp_path / "airflow_provider_mlops_orchestrator-1.2.3-py3-none-any.whl", "3.3.1",
         ["airflow-3.3.1-constraints.txt", "airflow-3.3.1-essential-constraints.txt"])
    ]
    requirements = [line for line in (out / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert requirements == [
        "--constraint /usr/local/airflow/plugins/wheels/airflow-3.3.1-constraints.txt",
        "--find-links /usr/local/airflow/plugins/wheels",
        "airflow-provider-mlops-orchestrator==1.2.3",
    ]
    assert sorted(zipfile.ZipFile(out / "plugins.zip").namelist()) == [
        "mlops_plugin/__init__.py",
        "wheels/airflow-3.3.1-constraints.txt",
        "wheels/airflow_provider_mlops_orchestrator-1.2.3-py3-none-any.whl",
        "wheels/extra-lib-1.0-py3-none-any.whl",
    ]
    zipped = zipfile.ZipFile(out / "plugins.zip").read("wheels/airflow-3.3.1-constraints.txt")
    assert zipped == (MWAA / "airflow-3.3.1-constraints.txt").read_bytes()
    assert (out / "dags" / "mlops_pipelines.py").read_text() == (REPO / "dags" / "mlops_pipelines.py").read_text()
    assert "examples/realtime_builtin_xgboost.yaml" in summary["dags"]
    assert not any("__pycache__" in name for name in summary["dags"])


def test_the_startup_script_exports_the_settings_given_quoted(tmp_path):
    _bundle(tmp_path, {"assets_bucket": "team assets; rm -rf /", "region_name": "eu-west-1"})
    script = tmp_path / "bundle" / "startup.sh"
    assert script.stat().st_mode & 0o111
    printed = subprocess.run(
        ["sh", "-c", f". {script} && echo \"$MLOPS_ORCHESTRATOR_ASSETS_BUCKET|$MLOPS_ORCHESTRATOR_REGION_NAME|"
         "${MLOPS_ORCHESTRATOR_KMS_KEY_ARN-unset}\""],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert printed == "team assets; rm -rf /|eu-west-1|unset"


def test_the_startup_script_points_provisioning_at_the_source_buckets_dags_folder(tmp_path):
    _bundle(tmp_path, {"source_bucket": "airflow-team-env"})
    script = tmp_path / "bundle" / "startup.sh"
    printed = subprocess.run(
        ["sh", "-c", f". {script} && echo \"$AIRFLOW__MLOPS_ORCHESTRATOR__PROVISION_S3_URI\""],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert printed == "s3://airflow-team-env/dags/provisioned"  # what the plugin's default provision_folder syncs from
    (tmp_path / "without").mkdir()
    _bundle(tmp_path / "without", {})
    assert "# export AIRFLOW__MLOPS_ORCHESTRATOR__PROVISION_S3_URI=" in (tmp_path / "without/bundle/startup.sh").read_text()
