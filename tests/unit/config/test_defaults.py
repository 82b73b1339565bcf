"""Orchestrator settings: nearest defaults file, config overrides, environment fills, problems."""

from __future__ import annotations

import os

import pytest
from config_helpers import problem_lines, valid_payload
from mlops_orchestrator.config import ConfigError, find_defaults_files, load_config, load_defaults


def _image(**extra):
    data = valid_payload("byom_image_builder")
    del data["assets_bucket"]
    return data | extra


def test_the_nearest_defaults_file_wins(write, tmp_path):
    write("defaults.yaml", "assets_bucket: top-bucket\nowner: platform\nretries: 2\n")
    write("team/defaults.yml", "assets_bucket: team-bucket\n")
    top = load_config(write("a.yaml", _image()), root=tmp_path)
    deep = load_config(write("team/sub/b.yaml", _image()), root=tmp_path)
    assert (top.assets_bucket, top.owner, top.retries) == ("top-bucket", "platform", 2)
    # the nearest file is used as a whole: team/defaults.yml does not set owner or retries
    assert (deep.assets_bucket, deep.owner, deep.retries) == ("team-bucket", "mlops", 1)


def test_the_search_stops_at_root(write, tmp_path):
    write("defaults.yaml", "assets_bucket: top-bucket\n")
    path = write("team/a.yaml", _image(assets_bucket="own-bucket"))
    assert find_defaults_files(path.parent, root=path.parent) == []
    assert find_defaults_files(path.parent, root=tmp_path) == [str(tmp_path / "defaults.yaml")]
    assert find_defaults_files(path.parent) == [str(tmp_path / "defaults.yaml")]  # up to the filesystem root


def test_a_config_overrides_its_defaults(write, tmp_path):
    write(
        "defaults.yaml",
        "assets_bucket: top-bucket\ntags: [shared]\nschedule: '@daily'\nuse_model_registry: true\n",
    )
    config = load_config(
        write("a.yaml", _image(assets_bucket="own-bucket", tags=["mine"], schedule=None)), root=tmp_path
    )
    assert config.assets_bucket == "own-bucket"
    assert config.tags == ["mine"]
    assert config.schedule is None  # an explicit null overrides
    assert config.use_model_registry is True


def test_an_empty_string_in_the_config_counts_as_not_set(write, tmp_path):
    write(
        "defaults.yaml", "kms_key_arn: arn:aws:kms:us-east-1:111122223333:alias/mlops\nassets_bucket: b-1\n"
    )
    data = valid_payload("byom_realtime_builtin") | {"kms_key_arn": ""}
    config = load_config(write("a.yaml", data), root=tmp_path)
    assert config.kms_key_arn == "arn:aws:kms:us-east-1:111122223333:alias/mlops"


def test_environment_fills_what_neither_config_nor_defaults_give(write, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_ASSETS_BUCKET", "env-bucket")
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_USE_MODEL_REGISTRY", "false")
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_RETRIES", "4")
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_TAGS", "a, b")
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_STAGES", '{"dev": {"account_id": "111111111111"}}')
    write("defaults.yaml", "retries: 2\n")
    config = load_config(write("a.yaml", _image()), root=tmp_path)
    assert config.assets_bucket == "env-bucket"
    assert config.use_model_registry is False
    assert config.retries == 2  # the defaults file wins over the environment
    assert config.tags == ["a", "b"]
    assert config.stages.dev.account_id == "111111111111"
    own = load_config(write("b.yaml", _image(assets_bucket="own-bucket")), root=tmp_path)
    assert own.assets_bucket == "own-bucket"


def test_a_bad_environment_value_names_the_variable(write, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_RETRIES", "lots")
    path = write("a.yaml", _image(assets_bucket="b-1"))
    assert problem_lines(path, tmp_path) == [
        f"{path}: retries: expected a whole number, got 'lots' (value from MLOPS_ORCHESTRATOR_RETRIES)"
    ]


def test_defaults_are_merged_only_into_models_that_have_the_key(write, tmp_path):
    write("defaults.yaml", "assets_bucket: b-1\nkms_key_arn: arn:aws:kms:eu-west-1:111122223333:alias/k\n")
    image = load_config(write("image.yaml", _image()), root=tmp_path)  # the image builder has no kms_key_arn
    assert not hasattr(image, "kms_key_arn")
    data = valid_payload("byom_realtime_builtin")
    del data["kms_key_arn"]
    realtime = load_config(write("rt.yaml", data), root=tmp_path)
    assert realtime.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:alias/k"


def test_a_typo_in_defaults_is_reported_with_the_defaults_file(write, tmp_path):
    defaults = write("defaults.yaml", "assets_bucket: b-1\nuse_model_registy: true\nretries: 50\n")
    path = write("a.yaml", _image())
    lines = problem_lines(path, tmp_path)
    assert lines == [
        f"{defaults}: use_model_registy: unknown field; did you mean 'use_model_registry'?",
        f"{defaults}: retries: must be at most 10, got 50",
    ]
    with pytest.raises(ConfigError) as info:
        load_config(path, root=tmp_path)
    assert [p.line for p in info.value.problems] == [2, 3]


def test_defaults_problems_come_with_the_configs_own(write, tmp_path):
    defaults = write("defaults.yaml", "assets_bucket: B@D\n")
    path = write("a.yaml", _image(image_tag=".bad"))
    assert problem_lines(path, tmp_path) == [
        f"{path}: image_tag: expected a Docker tag: letters, digits, _ . -, not starting with . or -, "
        "at most 128 characters, got '.bad'",
        f"{defaults}: assets_bucket: 'B@D' is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and "
        "hyphens, starting and ending with a letter or digit)",
    ]


def test_stage_accounts_in_defaults(write, tmp_path):
    defaults = write(
        "defaults.yaml",
        "stages:\n  dev: {account_id: '111111111111', org_unit_id: ou-ab12-devdevdev, region: eu-west-1}\n"
        "  prod: {account_id: 3333, org_unit_id: ou-x}\n",
    )
    path = write("a.yaml", _image(assets_bucket="b-1"))
    assert problem_lines(path, tmp_path) == [
        f"{defaults}: stages.prod.account_id: expected a 12-digit AWS account id, got '3333'",
        f"{defaults}: stages.prod.org_unit_id: expected an organizational unit id like ou-ab12-cdefgh34, got 'ou-x'",
    ]


def test_syntax_error_in_defaults(write, tmp_path):
    defaults = write("defaults.yaml", "assets_bucket: [b-1\n")
    path = write("a.yaml", _image())
    assert problem_lines(path, tmp_path)[-1] == (
        f"{defaults}:1: invalid YAML: while parsing a flow sequence, did not find expected ',' or ']' "
        "(noticed on line 2)"
    )


def test_several_defaults_files_in_one_folder(write, tmp_path):
    write("defaults.yaml", "assets_bucket: b-1\n")
    write("defaults.json", '{"assets_bucket": "b-2"}')
    path = write("a.yaml", _image())
    assert problem_lines(path, tmp_path) == [
        f"{tmp_path / 'defaults.yaml'}: several defaults files in one folder (defaults.yaml, defaults.json); keep one"
    ]


def test_a_defaults_file_is_parsed_once_until_it_changes(write, tmp_path):
    defaults = write("defaults.yaml", "assets_bucket: b-1\n")
    first = load_defaults(defaults)
    assert load_defaults(defaults) is first
    defaults.write_text("assets_bucket: b-22\n")
    os.utime(defaults, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    assert load_defaults(defaults).values == {"assets_bucket": "b-22"}


def test_a_defaults_file_added_or_removed_is_seen_by_the_next_lookup(write, tmp_path):
    """Which defaults files a folder holds is looked up once per version of the folder (a parse
    of a thousand configs asks a thousand times), and never kept for a folder changed within the
    last second, whose mtime could not tell a second change in the same clock tick."""
    config_dir = tmp_path / "pipelines"
    config_dir.mkdir()
    assert find_defaults_files(config_dir, tmp_path) == []
    defaults = write("defaults.yaml", "assets_bucket: b-1\n")  # right away: no stale answer
    assert find_defaults_files(config_dir, tmp_path) == [str(defaults)]
    # A settled folder is remembered: the lookup holds until the folder changes again.
    os.utime(tmp_path, ns=(1, 1))
    assert find_defaults_files(config_dir, tmp_path) == [str(defaults)]
    os.rename(defaults, tmp_path / "defaults.yml")
    assert find_defaults_files(config_dir, tmp_path) == [str(tmp_path / "defaults.yml")]
    (tmp_path / "defaults.yml").unlink()
    assert find_defaults_files(config_dir, tmp_path) == []
