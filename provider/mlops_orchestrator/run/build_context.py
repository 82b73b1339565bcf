"""The Docker build context of a local byom_image_builder run: zipped and uploaded when missing.

``custom_algorithm_docker`` names a zip in the assets bucket (a Dockerfile at its root, and its
context). For a local run it is made from the folder ``{config stem}_context/`` beside the config
(``dags/examples/image_builder.yaml`` -> ``dags/examples/image_builder_context/``), or, when there
is none, from a tiny built-in context. Only ever used against the local emulator.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

SAMPLE_CONTEXT = {
    "Dockerfile": (
        "# A sample custom algorithm image made by mlops-orchestrator for a local run.\n"
        "FROM public.ecr.aws/docker/library/python:3.12-slim\n"
        "COPY serve.py /opt/program/serve\n"
        "ENV PATH=/opt/program:$PATH\n"
        'ENTRYPOINT ["python", "/opt/program/serve"]\n'
    ),
    "serve.py": 'print("sample custom algorithm: SageMaker starts this image with the argument serve")\n',
}


def context_folder(config: Any) -> Path | None:
    """``{stem}_context/`` beside the config file, when it exists."""
    source = getattr(config, "_source", None)
    if not source:
        return None
    folder = Path(source).with_name(f"{Path(source).stem}_context")
    return folder if folder.is_dir() else None


def zip_folder(folder: Path) -> bytes:
    """The folder's files in a zip, paths relative to it (its Dockerfile at the root)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def sample_context_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in SAMPLE_CONTEXT.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def seed_build_context(config: Any, s3: Any, ensure_bucket: Any) -> list[str]:
    """Upload the zip ``custom_algorithm_docker`` names when it is missing; a line per upload."""
    if getattr(config, "custom_algorithm_docker", None) in (None, ""):
        return []
    uri = config.s3_uri("custom_algorithm_docker")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    ensure_bucket(bucket)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return []
    except ClientError:
        pass
    folder = context_folder(config)
    body = zip_folder(folder) if folder is not None else sample_context_zip()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/zip")
    origin = f"zip of {folder.name}/" if folder is not None else "zip of a sample Docker build context"
    return [f"{uri} ({origin})"]
