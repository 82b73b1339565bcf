"""The validated-config cache: an unchanged config is not validated again, anything its validation
read that changes is noticed, bad configs are never kept, and only a private folder is trusted."""

from __future__ import annotations

import os
import pickle
import textwrap
from pathlib import Path

import pytest
from mlops_orchestrator.config import ConfigError, load_config, settings_environ
from mlops_orchestrator.factory import config_cache
from mlops_orchestrator.factory.config_cache import ConfigCache

CONFIG = textwrap.dedent(
    """\
    pipeline_type: byom_realtime_builtin
    model_name: churn
    model_framework: xgboost
    model_framework_version: "1.7-1"
    model_artifact_location: models/churn.tar.gz
    data_capture_location: capture/churn
    inference_instance: ml.m5.large
    """
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "configs"
    (root / "team").mkdir(parents=True)
    (root / "defaults.yaml").write_text("assets_bucket: assets\nregion_name: us-east-1\n")
    (root / "team" / "churn.yaml").write_text(CONFIG)
    return root


@pytest.fixture
def validations(monkeypatch) -> list[str]:
    """The configs validated (not taken from the cache), in order."""
    seen: list[str] = []

    def counting(path, *args, **kwargs):
        seen.append(Path(path).name)
        return load_config(path, *args, **kwargs)

    monkeypatch.setattr(config_cache, "load_config", counting)
    return seen


def _parse(folder: Path, name: str = "loader") -> dict[str, object]:
    """One parse: the configs of ``folder`` through a cache opened and saved as the loader does."""
    cache = ConfigCache.open(folder, settings_environ(), name)
    configs = {}
    for path in sorted(folder.rglob("*.yaml")):
        if path.name != "defaults.yaml":
            try:
                configs[path.name] = cache.load(path)
            except ConfigError as err:
                configs[path.name] = err
    cache.save()
    return configs


def test_an_unchanged_config_is_read_from_the_cache_and_is_the_same_config(folder, validations):
    first = _parse(folder)
    second = _parse(folder)
    assert validations == ["churn.yaml"]
    assert second["churn.yaml"] == first["churn.yaml"]
    assert second["churn.yaml"] == load_config(folder / "team" / "churn.yaml", root=folder)
    assert second["churn.yaml"]._source == str(folder / "team" / "churn.yaml")


def test_a_changed_config_is_validated_again(folder, validations):
    _parse(folder)
    (folder / "team" / "churn.yaml").write_text(CONFIG.replace("ml.m5.large", "ml.c5.xlarge"))
    configs = _parse(folder)
    assert validations == ["churn.yaml", "churn.yaml"]
    assert configs["churn.yaml"].inference_instance == "ml.c5.xlarge"


def test_a_changed_defaults_file_is_noticed(folder, validations):
    assert _parse(folder)["churn.yaml"].region_name == "us-east-1"
    (folder / "defaults.yaml").write_text("assets_bucket: assets\nregion_name: eu-west-1\n")
    assert _parse(folder)["churn.yaml"].region_name == "eu-west-1"
    (folder / "team" / "defaults.yaml").write_text("assets_bucket: other\n")  # a nearer one
    assert _parse(folder)["churn.yaml"].assets_bucket == "other"
    assert validations == ["churn.yaml"] * 3


def test_a_changed_setting_in_the_environment_is_noticed(folder, validations, monkeypatch):
    _parse(folder)
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_OWNER", "platform-team")
    assert _parse(folder)["churn.yaml"].owner == "platform-team"
    assert validations == ["churn.yaml", "churn.yaml"]


def test_changed_code_is_noticed(folder, validations, monkeypatch):
    _parse(folder)
    monkeypatch.setattr(config_cache, "_code", "another version of the package")
    _parse(folder)
    assert validations == ["churn.yaml", "churn.yaml"]


def test_a_bad_config_is_never_kept_and_reports_its_problems_at_every_parse(folder, validations):
    (folder / "team" / "bad.yaml").write_text(CONFIG.replace("model_name:", "model_nmae:"))
    for _ in range(2):
        error = _parse(folder)["bad.yaml"]
        assert isinstance(error, ConfigError)
        assert any(p.field == "model_name" for p in error.problems)
    assert validations.count("bad.yaml") == 2 and validations.count("churn.yaml") == 1


def test_each_loader_keeps_its_own_configs_and_removed_ones_are_dropped(folder, validations):
    _parse(folder, "shard 0")
    _parse(folder, "shard 1")
    assert validations == ["churn.yaml", "churn.yaml"]
    files = {name: ConfigCache.open(folder, settings_environ(), name).file for name in ("shard 0", "shard 1")}
    assert sorted(files.values()) == sorted(_cache_files())
    (folder / "team" / "churn.yaml").unlink()
    _parse(folder, "shard 0")
    assert pickle.loads(Path(files["shard 0"]).read_bytes()) == {}
    assert list(pickle.loads(Path(files["shard 1"]).read_bytes())) == [str(folder / "team" / "churn.yaml")]


def _cache_files() -> list[str]:
    folder = Path(os.environ["MLOPS_ORCHESTRATOR_STATE_DIR"]) / "validated-configs"
    return [str(p) for p in folder.iterdir()]


def test_a_damaged_cache_is_a_cold_start(folder, validations):
    _parse(folder)
    [file] = _cache_files()
    Path(file).write_bytes(b"not a pickle")
    assert _parse(folder)["churn.yaml"].model_name == "churn"
    assert validations == ["churn.yaml", "churn.yaml"]


def test_the_cache_folder_is_made_private_and_its_files_too(folder):
    _parse(folder)
    cache_folder = Path(os.environ["MLOPS_ORCHESTRATOR_STATE_DIR"]) / "validated-configs"
    assert cache_folder.stat().st_mode & 0o777 == 0o700
    [file] = _cache_files()
    assert os.stat(file).st_mode & 0o777 == 0o600
    cache_folder.chmod(0o777)  # ours, loosened by someone: tightened again before it is used
    _parse(folder)
    assert cache_folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(getattr(os, "getuid", lambda: 1)() != 0, reason="changing a folder's owner needs root")
def test_a_folder_or_file_owned_by_someone_else_is_not_trusted(folder, validations):
    _parse(folder)
    cache_folder = Path(os.environ["MLOPS_ORCHESTRATOR_STATE_DIR"]) / "validated-configs"
    [file] = _cache_files()
    os.chown(file, 65534, 65534)  # a file another user could have written: not read
    _parse(folder)
    assert validations == ["churn.yaml", "churn.yaml"]
    os.chown(cache_folder, 65534, 65534)  # a folder another user owns: no cache at all
    cache = ConfigCache.open(folder, settings_environ(), "loader")
    assert cache.file is None
    assert cache.load(folder / "team" / "churn.yaml").model_name == "churn"
    cache.save()
    assert validations == ["churn.yaml"] * 3


def test_a_memo_is_kept_with_its_config_and_dropped_with_it(folder):
    path = folder / "team" / "churn.yaml"

    def parse() -> dict[str, str]:
        cache = ConfigCache.open(folder, settings_environ(), "loader")
        cache.load(path)
        memo = cache.memo(path)
        seen = dict(memo)
        memo["docs_json"] = "derived from this config"
        cache.save()
        return seen

    assert parse() == {}
    assert parse() == {"docs_json": "derived from this config"}
    path.write_text(CONFIG.replace("churn", "churn2"))
    assert parse() == {}
