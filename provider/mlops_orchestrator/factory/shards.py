"""Spreading a big config folder over several loader files, deterministically.

One loader file serving thousands of configs is one file for the DAG processor: it parses it in
one process, within one import timeout (30 s on Airflow and MWAA). With ``count`` loader files,
each builds the configs whose DAG id hashes to its index: the DAG processor parses them in
parallel, each file stays a fraction of the limits, and a task's parse reads only its own file.

The shard of a config depends on its DAG id alone (CRC-32, stable across processes and Python
versions, unlike ``hash``): adding, removing or moving other configs never moves a DAG to another
file, and two configs claiming one DAG id always land in the same file, where the loader reports
the second (see ``loader._build_all``).
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterable
from pathlib import Path

from mlops_orchestrator.config import dag_id_for

#: ``mlops_pipelines_03_of_16.py``: the loader files ``write_loader_files`` makes.
SHARD_FILE = re.compile(r"^mlops_pipelines_(\d+)_of_(\d+)\.py$")
SINGLE_FILE = "mlops_pipelines.py"

LOADER_TEMPLATE = '''"""Airflow DAG file of airflow-provider-mlops-orchestrator: shard {index} of {count}.

Written by ``mlops-orchestrator loaders {count}``. Every pipeline config under this folder whose DAG
id hashes to shard {index} becomes one DAG here; the other {others} loader files build the rest.
"""

from pathlib import Path

from mlops_orchestrator.factory import load_dags

load_dags(Path(__file__).resolve().parent, globals(), shard=({index}, {count}))
'''

def shard_of(dag_id: str, count: int) -> int:
    """The loader file (0 .. count-1) that builds ``dag_id``."""
    return zlib.crc32(dag_id.encode("utf-8")) % count


def declared_dag_id(path: Path) -> str:
    """
    The DAG id a config file will have, without validating it: the ``dag_id`` it sets, else its
    stem. Only a file that mentions ``dag_id`` is parsed, so a shard's scan of 10,000 configs
    reads bytes, not YAML.
    """
    from mlops_orchestrator.config import ConfigError, read_config_file

    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return dag_id_for(path)
    if b"dag_id" in raw:
        try:
            declared = read_config_file(path).get("dag_id")
        except ConfigError:
            declared = None
        if isinstance(declared, str) and declared.strip():
            return declared.strip()
    return dag_id_for(path)


def select_shard(paths: Iterable[Path], index: int, count: int) -> list[Path]:
    """The configs among ``paths`` that shard ``index`` of ``count`` builds."""
    check_shard(index, count)
    if count == 1:
        return list(paths)
    return [path for path in paths if shard_of(declared_dag_id(path), count) == index]


def check_shard(index: int, count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"shard count must be a positive integer, got {count!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise ValueError(f"shard index must be an integer from 0 to {count - 1}, got {index!r}")


def write_loader_files(folder: str | os.PathLike[str], count: int) -> list[Path]:
    """
    Make ``folder``'s loader files ``count`` shards: write ``mlops_pipelines_{i}_of_{count}.py``,
    remove shard files of another count and the single ``mlops_pipelines.py`` (either would build
    the same DAGs a second time). ``count`` 1 writes the single file back.
    """
    check_shard(0, count)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width = len(str(count))
    wanted = (
        {SINGLE_FILE: _single_loader()}
        if count == 1
        else {
            f"mlops_pipelines_{i:0{width}d}_of_{count}.py": LOADER_TEMPLATE.format(
                index=i, count=count, others=count - 1
            )
            for i in range(count)
        }
    )
    for existing in folder.iterdir():
        if (SHARD_FILE.match(existing.name) or existing.name == SINGLE_FILE) and existing.name not in wanted:
            existing.unlink()
    written = []
    for name, text in wanted.items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written


def _single_loader() -> str:
    return '''"""Airflow DAG file of airflow-provider-mlops-orchestrator.

Every pipeline config (.yaml, .yml or .json, any depth, .airflowignore honoured) in this folder
becomes one DAG. Drop an MWO request payload here unchanged and its DAG appears at the next parse.
"""

from pathlib import Path

from mlops_orchestrator.factory import load_dags

load_dags(Path(__file__).resolve().parent, globals())
'''
