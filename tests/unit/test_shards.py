"""Several loader files sharing one config folder: every config in exactly one, deterministically."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from mlops_orchestrator.cli import main
from mlops_orchestrator.factory.loader import ConfigWarning, load_dags
from mlops_orchestrator.factory.shards import SINGLE_FILE, select_shard, shard_of, write_loader_files

REPO = Path(__file__).resolve().parents[2]


def _config(model: str, **extra) -> str:
    return json.dumps(
        {
            "pipeline_type": "byom_realtime_builtin",
            "model_name": model,
            "model_framework": "xgboost",
            "model_framework_version": "1.7-1",
            "model_artifact_location": f"models/{model}.tar.gz",
            "data_capture_location": f"assets/capture/{model}",
            "inference_instance": "ml.m5.large",
            **extra,
        }
    )


def _folder(tmp_path: Path, n: int, start: int = 0) -> Path:
    folder = tmp_path / "dags"
    (folder / "team").mkdir(parents=True, exist_ok=True)
    (folder / "defaults.yaml").write_text("assets_bucket: assets\nregion_name: us-east-1\n")
    for i in range(start, start + n):
        (folder / ("team" if i % 2 else ".") / f"p{i:03d}.json").write_text(_config(f"m{i}"))
    return folder


def _bag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), safe_mode=True)


def test_each_config_is_built_by_exactly_one_loader_file_of_the_folder(tmp_path):
    folder = _folder(tmp_path, 40)
    files = write_loader_files(folder, 4)
    assert [f.name for f in files] == [f"mlops_pipelines_{i}_of_4.py" for i in range(4)]

    bag = _bag(folder)
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {f"p{i:03d}" for i in range(40)}
    by_file: dict[str, set[str]] = {}
    for dag in bag.dags.values():
        by_file.setdefault(Path(dag.fileloc).name, set()).add(dag.dag_id)
    assert set(by_file) == {f.name for f in files}  # 40 configs reach every one of the 4 files
    for index, file in enumerate(files):
        assert by_file[file.name] == {d for d in bag.dag_ids if shard_of(d, 4) == index}


def test_a_config_keeps_its_loader_file_when_others_are_added_or_removed(tmp_path):
    folder = _folder(tmp_path, 30)
    write_loader_files(folder, 3)
    before = {d.dag_id: Path(d.fileloc).name for d in _bag(folder).dags.values()}
    _folder(tmp_path, 25, start=30)  # 25 more
    (folder / "p000.json").unlink()
    after = {d.dag_id: Path(d.fileloc).name for d in _bag(folder).dags.values()}
    assert len(after) == 54
    assert {d: after[d] for d in before if d != "p000"} == {d: f for d, f in before.items() if d != "p000"}


def test_a_declared_dag_id_decides_the_shard_and_a_duplicate_is_reported_in_that_file(tmp_path):
    folder = _folder(tmp_path, 6)
    # two configs in different folders claiming one dag_id: whatever their names, one shard has both
    (folder / "team" / "zz_claims.json").write_text(_config("other", dag_id="p002"))
    (folder / "aa_custom.json").write_text(_config("custom", dag_id="churn_endpoint"))
    paths = sorted(folder.rglob("*.json"))
    shards = [select_shard(paths, i, 5) for i in range(5)]
    assert sorted(p for s in shards for p in s) == paths  # a partition
    holder = next(s for s in shards if folder / "p002.json" in s)
    assert folder / "team" / "zz_claims.json" in holder
    assert folder / "aa_custom.json" in shards[shard_of("churn_endpoint", 5)]

    index = shard_of("p002", 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dags = load_dags(folder, shard=(index, 5))
    assert dags["p002"].get_task("deploy_stack").stack_name.startswith("mlops-pipeline-m2-")  # the first kept
    messages = [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]
    assert messages == [
        "team/zz_claims.json: dag_id: 'p002' is already the DAG of p002.json; set a different dag_id in one of them"
    ]


def test_a_running_task_parses_only_its_own_shard(tmp_path, monkeypatch):
    folder = _folder(tmp_path, 20)
    target = "p013"
    index = shard_of(target, 4)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", target)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "deploy_stack")
    assert set(load_dags(folder, shard=(index, 4))) == {target}
    assert load_dags(folder, shard=((index + 1) % 4, 4)) == {}


def test_a_running_task_finds_its_config_by_name_without_reading_the_others(tmp_path, monkeypatch):
    """With 10,000 configs a shard's scan reads every file: a task's parse must not pay it."""
    import mlops_orchestrator.factory.shards as shards

    folder = _folder(tmp_path, 20)
    (folder / "named_otherwise.json").write_text(_config("m99", dag_id="declared"))
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "deploy_stack")
    read: list[str] = []
    real = shards.declared_dag_id
    monkeypatch.setattr(shards, "declared_dag_id", lambda path: read.append(path.name) or real(path))

    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "p013")
    assert set(load_dags(folder, shard=(shard_of("p013", 4), 4))) == {"p013"}
    assert read == []
    # a DAG id its file's name does not give: found by the scan, in its own shard only
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "declared")
    assert set(load_dags(folder, shard=(shard_of("declared", 4), 4))) == {"declared"}
    assert "named_otherwise.json" in read
    assert load_dags(folder, shard=((shard_of("declared", 4) + 1) % 4, 4)) == {}


def test_bad_shard_settings_are_refused_with_the_reason(tmp_path):
    folder = _folder(tmp_path, 2)
    with pytest.raises(ValueError, match="shard index must be an integer from 0 to 3, got 4"):
        load_dags(folder, shard=(4, 4))
    with pytest.raises(ValueError, match="shard count must be a positive integer, got 0"):
        load_dags(folder, shard=(0, 0))


def test_the_loaders_command_rewrites_the_folder_s_loader_files(tmp_path, capsys):
    folder = _folder(tmp_path, 3)
    (folder / SINGLE_FILE).write_text((REPO / "dags" / SINGLE_FILE).read_text())
    assert main(["loaders", "3", str(folder)]) == 0
    assert sorted(p.name for p in folder.glob("*.py")) == [f"mlops_pipelines_{i}_of_3.py" for i in range(3)]
    assert main(["loaders", "12", str(folder)]) == 0  # the 3 go, zero-padded names sort in order
    assert sorted(p.name for p in folder.glob("*.py")) == [f"mlops_pipelines_{i:02d}_of_12.py" for i in range(12)]
    assert main(["loaders", "1", str(folder)]) == 0  # back to the file the repository ships
    assert [p.name for p in folder.glob("*.py")] == [SINGLE_FILE]
    assert (folder / SINGLE_FILE).read_text() == (REPO / "dags" / SINGLE_FILE).read_text()
    assert main(["loaders", "0", str(folder)]) == 1
    assert "shard count must be a positive integer, got 0" in capsys.readouterr().out
