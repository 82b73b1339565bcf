"""An MWO request body becomes a pipeline config file, as if a person had dropped it into the folder.

Validation is the loader's own (``load_config``), with the defaults file that applies in the
provision folder, so the API answers with exactly the problems ``mlops-orchestrator validate``
and the DAG's docs would show. A valid body is written as ``{dag_id}.json`` (the DAG id is the
body's ``dag_id``, else MWO's stack name ``mlops-pipeline-{model_name}-{type}``, so posting the
same body again updates the same pipeline, as MWO's re-post did). Writing is atomic (a temporary
file renamed over the target, or one S3 PUT) and refuses to replace a file that holds another
pipeline, or a DAG id another config already has.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_orchestrator.config import ConfigError, PipelineConfig, Problem, find_defaults_files, load_config
from mlops_orchestrator.pipelines.catalog import PipelineEntry, list_pipelines

from .settings import ApiSettings

LOCK_FILE = ".mlops-orchestrator-provision.lock"


class InvalidBody(Exception):
    """The body is not a valid config: every problem, by field."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        super().__init__("\n".join(p.format() for p in problems))
        self.problems = problems
        self.warnings = warnings or []


class Conflict(Exception):
    """Writing would replace another pipeline's file or duplicate a DAG id (409)."""


@dataclass
class Written:
    dag_id: str
    file: str  #: relative to the config folder (or the S3 URI)
    created: bool
    changed: bool
    warnings: list[Problem] = field(default_factory=list)


def body_text(body: dict[str, Any]) -> bytes:
    """What is written: the body as posted (keys in its order), as readable JSON."""
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass
class Validated:
    config: PipelineConfig
    warnings: list[Problem] = field(default_factory=list)


def validate_body(body: dict[str, Any], settings: ApiSettings, shown_as: str = "request body") -> Validated:
    """
    Validate ``body`` as a config dropped into the provision folder would be: same loader, same
    defaults file (copied beside it in a private folder, so nothing half-checked ever sits in the
    dags folder), same messages. Problems name ``shown_as`` instead of the private file.
    """
    defaults = find_defaults_files(settings.provision_folder, settings.config_folder)
    with tempfile.TemporaryDirectory(prefix="mlops-provision-") as private:
        folder = Path(private)
        for path in defaults:
            shutil.copyfile(path, folder / os.path.basename(path))
        candidate = folder / "request.json"
        candidate.write_bytes(body_text(body))
        try:
            config = load_config(candidate, root=folder)
        except ConfigError as err:
            raise InvalidBody(
                [_shown(p, candidate, defaults, shown_as) for p in err.problems],
                [_shown(p, candidate, defaults, shown_as) for p in getattr(err, "warnings", None) or []],
            ) from None
        warnings = [_shown(p, candidate, defaults, shown_as) for p in getattr(config, "warnings", None) or []]
    config._source = shown_as  # the private copy is gone; messages name the request
    return Validated(config, warnings)


def _shown(problem: Problem, candidate: Path, defaults: list[str], shown_as: str) -> Problem:
    """A problem of the private copy as the user knows the file: the request, or the real defaults file."""
    from dataclasses import replace

    if Path(problem.file) == candidate:
        return replace(problem, file=shown_as, line=None)
    for path in defaults:
        if os.path.basename(problem.file) == os.path.basename(path):
            return replace(problem, file=path)
    return problem


def dag_id_of(config: PipelineConfig) -> str:
    """The body's ``dag_id``, else MWO's stack name for it (what MWO called the pipeline)."""
    return config.dag_id or config.stack_name_or_default()


# -- where configs are written ------------------------------------------------------------------


class FolderTarget:
    """The provision folder on this machine (the API server's view of the dags folder)."""

    def __init__(self, settings: ApiSettings) -> None:
        self.folder = settings.provision_folder
        self.config_folder = settings.config_folder

    def shown(self, name: str) -> str:
        return str((self.folder / name).relative_to(self.config_folder))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One provisioning at a time in this folder (API workers are processes: a file lock)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, name: str, data: bytes, expected: bytes | None) -> None:
        """Atomically: a hidden temporary file (not a config suffix, so no loader reads it) renamed over ``name``."""
        if self.read(name) != expected:
            raise Conflict(f"{self.shown(name)} changed while it was being provisioned; post again")
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.folder / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


class S3Target:
    """A prefix of MWAA's dags bucket: MWAA copies it to every component's dags folder."""

    def __init__(self, settings: ApiSettings) -> None:
        self.uri = settings.provision_s3_uri or ""
        self.bucket, _, prefix = self.uri.removeprefix("s3://").partition("/")
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.conn_id = settings.provision_aws_conn_id
        self._s3 = None

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            self._s3 = S3Hook(aws_conn_id=self.conn_id).conn
        return self._s3

    def shown(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        yield  # S3's conditional writes below refuse a concurrent change

    def _head(self, name: str) -> tuple[bytes | None, str | None]:
        from botocore.exceptions import ClientError

        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None, None
            raise
        return got["Body"].read(), got.get("ETag")

    def read(self, name: str) -> bytes | None:
        return self._head(name)[0]

    def write(self, name: str, data: bytes, expected: bytes | None) -> None:
        from botocore.exceptions import ClientError

        current, etag = self._head(name)
        if current != expected:
            raise Conflict(f"{self.shown(name)} changed while it was being provisioned; post again")
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.prefix + name, Body=data, ContentType="application/json", **condition
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise Conflict(f"{self.shown(name)} changed while it was being provisioned; post again") from None
            raise


def target_for(settings: ApiSettings) -> FolderTarget | S3Target:
    return S3Target(settings) if settings.provision_s3_uri else FolderTarget(settings)


# -- the write ---------------------------------------------------------------------------------


def provision(body: dict[str, Any], validated: Validated, settings: ApiSettings) -> Written:
    """
    Write the validated body as ``{dag_id}.json`` in the provision target.

    Refused (Conflict) when another config already has that DAG id, or when the file exists and
    holds another pipeline (another type or stack); the same pipeline's file is updated.
    """
    config = validated.config
    dag_id = dag_id_of(config)
    name = f"{dag_id}.json"
    target = target_for(settings)
    local_twin = settings.provision_folder / name
    data = body_text(body)
    with target.locked():
        for entry in list_pipelines(settings.config_folder):
            if entry.dag_id == dag_id and entry.path.resolve() != local_twin.resolve():
                raise Conflict(
                    f"DAG id {dag_id!r} is already the DAG of {entry.file}; set another dag_id in the body "
                    "(or change that config)"
                )
        existing = target.read(name)
        if existing is not None:
            _same_pipeline_or_refuse(existing, config, target.shown(name), settings)
        if existing != data:
            target.write(name, data, existing)
    return Written(
        dag_id=dag_id,
        file=target.shown(name),
        created=existing is None,
        changed=existing != data,
        warnings=validated.warnings,
    )


def _same_pipeline_or_refuse(existing: bytes, config: PipelineConfig, shown: str, settings: ApiSettings) -> None:
    """The file there must hold this pipeline (same type and stack) for a re-post to replace it."""
    try:
        old = json.loads(existing)
    except ValueError:
        old = None
    if not isinstance(old, dict):
        raise Conflict(f"{shown} exists and is not a provisioned JSON config; remove it or set another dag_id")
    same_type = str(old.get("pipeline_type", "")).strip() == config.pipeline_type
    try:
        old_stack = validate_body(old, settings).config.stack_name_or_default()
    except InvalidBody:
        old_stack = None
    if not same_type or (old_stack is not None and old_stack != config.stack_name_or_default()):
        raise Conflict(
            f"{shown} holds another pipeline ({old.get('pipeline_type')!r}, stack {old_stack!r}); "
            "set another dag_id in the body to provision this one beside it"
        )


def entry_for(written: Written, settings: ApiSettings) -> PipelineEntry:
    from mlops_orchestrator.pipelines.catalog import read_entry

    return read_entry(settings.provision_folder / f"{written.dag_id}.json", settings.config_folder)
