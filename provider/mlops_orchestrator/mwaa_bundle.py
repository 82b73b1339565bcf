"""
What a user uploads to an Amazon MWAA environment's bucket (``make mwaa-bundle``).

    requirements.txt   our package pinned, MWAA's constraints, the wheels in plugins.zip as a source
    plugins.zip        plugins/ (our Airflow plugin) and wheels/: our wheel, the wheels of its
                       dependencies that MWAA's image lacks, and the constraints file, so an
                       environment without internet access installs from it
    startup.sh         sets the orchestrator's settings (MLOPS_ORCHESTRATOR_*) for every component,
                       and where the plugin provisions configs (the source bucket's dags/provisioned/)
    dags/              the loader file, defaults.yaml and the pipeline configs

MWAA installs requirements.txt with its constraints for the environment's Airflow version (we test
the same install: tests/mwaa/check.sh) and unzips plugins.zip into /usr/local/airflow/plugins.
Which dependencies the image lacks is worked out with pip's resolver: our wheel's closure under
the constraints, less the closure of what every MWAA image has (apache-airflow and its Amazon
provider at the pinned versions), resolved by CPython 3.12 on Linux x86_64 as MWAA runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: where MWAA unzips plugins.zip
MWAA_PLUGINS = "/usr/local/airflow/plugins"
WHEELS = "wheels"
#: packages every MWAA image has installed (at the constraints' versions) beside Airflow itself
MWAA_BASE = ("apache-airflow-providers-amazon[aiobotocore]",)
SETTINGS = ("assets_bucket", "region_name", "aws_conn_id", "kms_key_arn", "use_model_registry")
#: where the plugin's provisionpipeline writes on MWAA: the environment's dags/ copy of this prefix is
#: the API server's provision folder (``[mlops_orchestrator] provision_folder``, default provisioned)
PROVISION_PREFIX = "dags/provisioned"


def mwaa_python() -> str:
    """
    An interpreter like MWAA's (CPython 3.12 on Linux x86_64): $MWAA_PYTHON, a python3.12 that
    runs (pyenv's shim may not), pyenv's 3.12, or this one (resolution may then differ slightly).
    """
    if os.environ.get("MWAA_PYTHON"):
        return os.environ["MWAA_PYTHON"]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [shutil.which("python3.12"), *sorted(map(str, pyenv.glob("versions/3.12*/bin/python3.12")))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-m", "pip", "--version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return sys.executable


def _pip(*args: str) -> list[str]:
    return [mwaa_python(), "-m", "pip", *args, "--quiet", "--disable-pip-version-check"]


def _resolve(requirements: list[str], constraints: list[Path], work: Path, name: str) -> dict[str, str]:
    """``{normalized name: version}`` pip would install for ``requirements`` on MWAA's Python."""
    report = work / f"{name}.json"
    command = [
        *_pip("install", "--dry-run", "--ignore-installed", "--report", str(report)),
        "--target", str(work / "target"), *requirements,
    ]
    for constraint in constraints:
        command += ["-c", str(constraint)]
    subprocess.run(command, check=True)
    installs = json.loads(report.read_text())["install"]
    return {_normalize(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def missing_from_mwaa(wheel: Path, airflow_version: str, constraints: list[Path], work: Path) -> dict[str, str]:
    """Our wheel's dependencies (name -> version) that an MWAA image of this version does not have."""
    ours = _resolve([str(wheel), f"apache-airflow=={airflow_version}"], constraints, work, "ours")
    base = _resolve([f"apache-airflow=={airflow_version}", *MWAA_BASE], constraints, work, "base")
    package = _normalize(wheel.name.split("-")[0])
    return {name: version for name, version in sorted(ours.items()) if name not in base and name != package}


def download(packages: dict[str, str], constraints: list[Path], target: Path) -> None:
    if not packages:
        return
    command = [
        *_pip("download", "--no-deps", "--dest", str(target)),
        *(f"{name}=={version}" for name, version in packages.items()),
    ]
    subprocess.run(command, check=True)


def requirements_text(wheel: Path, airflow_version: str, constraints_name: str) -> str:
    version = wheel.name.split("-")[1]
    return (
        f"# Amazon MWAA {airflow_version} (Python 3.12): written by `make mwaa-bundle`.\n"
        "# MWAA's own constraints for this version (also in plugins.zip, so no internet is needed);\n"
        "# MWAA enforces its essential constraints (apache-airflow, Flask, Celery...) on top.\n"
        f"--constraint {MWAA_PLUGINS}/{WHEELS}/{constraints_name}\n"
        "# our wheel and the dependencies the image lacks, from plugins.zip (then PyPI, if reachable)\n"
        f"--find-links {MWAA_PLUGINS}/{WHEELS}\n"
        f"airflow-provider-mlops-orchestrator=={version}\n"
    )


def startup_text(settings: dict[str, Any]) -> str:
    lines = [
        "#!/bin/sh",
        "# Amazon MWAA startup script (written by `make mwaa-bundle`): runs before each component starts",
        "# and before requirements.txt is installed. It sets the orchestrator-wide settings that a",
        "# defaults.yaml in the dags folder does not set (a defaults file or a config still wins).",
    ]
    for name in SETTINGS:
        value = settings.get(name)
        variable = f"MLOPS_ORCHESTRATOR_{name.upper()}"
        if value not in (None, ""):
            lines.append(f"export {variable}={shlex.quote(str(value))}")
        else:
            lines.append(f"# export {variable}=...")
    lines.append(
        "# provisionpipeline writes configs into the source bucket's dags/provisioned/ (the API server's"
        " dags folder is a copy)"
    )
    bucket = settings.get("source_bucket")
    variable = "AIRFLOW__MLOPS_ORCHESTRATOR__PROVISION_S3_URI"
    if bucket:
        lines.append(f"export {variable}={shlex.quote(f's3://{bucket}/{PROVISION_PREFIX}')}")
    else:
        lines.append(f"# export {variable}=s3://SOURCE_BUCKET/{PROVISION_PREFIX}")
    return "\n".join(lines) + "\n"


def write_plugins_zip(target: Path, plugins: Path, wheels: Path) -> list[str]:
    names: list[str] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(plugins.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.name != "README.md":
                name = path.relative_to(plugins).as_posix()
                archive.write(path, name)
                names.append(name)
        for path in sorted(wheels.iterdir()):
            name = f"{WHEELS}/{path.name}"
            archive.write(path, name)
            names.append(name)
    return names


def copy_dags(source: Path, target: Path) -> list[str]:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".airflowignore.local")
    shutil.copytree(source, target, ignore=ignore)
    return sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())


def build_bundle(
    *,
    wheel: Path,
    airflow_version: str,
    constraints: Path,
    essential: Path,
    dags: Path,
    plugins: Path,
    out: Path,
    settings: dict[str, Any],
    scan: Callable[[Path, str, list[Path], Path], dict[str, str]] = missing_from_mwaa,
) -> dict[str, Any]:
    """Write the bundle into ``out``; ``scan`` finds the dependencies MWAA lacks (pip, minutes)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="mwaa-bundle-") as scratch:
        work = Path(scratch)
        wheels = work / WHEELS
        wheels.mkdir()
        missing = scan(wheel, airflow_version, [constraints, essential], work)
        download(missing, [constraints, essential], wheels)
        shutil.copy(wheel, wheels / wheel.name)
        shutil.copy(constraints, wheels / constraints.name)
        zipped = write_plugins_zip(out / "plugins.zip", plugins, wheels)
    (out / "requirements.txt").write_text(requirements_text(wheel, airflow_version, constraints.name))
    startup = out / "startup.sh"
    startup.write_text(startup_text(settings))
    startup.chmod(0o755)
    copied = copy_dags(dags, out / "dags")
    return {"out": str(out), "plugins.zip": zipped, "dags": copied, "dependencies_added": missing}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_orchestrator.mwaa_bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, required=True)
    parser.add_argument("--mwaa-version", required=True, help="the environment's Airflow version, e.g. 3.3.1")
    parser.add_argument("--constraints", type=Path, required=True, help="MWAA's default constraints file")
    parser.add_argument("--essential", type=Path, required=True, help="MWAA's essential constraints file")
    parser.add_argument("--dags", type=Path, default=Path("dags"))
    parser.add_argument("--plugins", type=Path, default=Path("plugins"))
    parser.add_argument("--out", type=Path, default=Path("build/mwaa-bundle"))
    for name in SETTINGS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"startup.sh sets MLOPS_ORCHESTRATOR_{name.upper()}")
    parser.add_argument(
        "--source-bucket",
        help=f"the environment's source bucket: provisionpipeline writes to s3://BUCKET/{PROVISION_PREFIX}",
    )
    args = parser.parse_args(argv)
    summary = build_bundle(
        wheel=args.wheel, airflow_version=args.mwaa_version, constraints=args.constraints,
        essential=args.essential, dags=args.dags, plugins=args.plugins, out=args.out,
        settings={name: getattr(args, name) for name in (*SETTINGS, "source_bucket")},
    )
    print(f"{summary['out']}: requirements.txt, plugins.zip ({len(summary['plugins.zip'])} files), startup.sh, "
          f"dags/ ({len(summary['dags'])} files)")
    added = summary["dependencies_added"]
    print("wheels added for what MWAA's image lacks:", ", ".join(f"{n}=={v}" for n, v in added.items()) or "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
