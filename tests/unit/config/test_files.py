"""Reading config files (YAML/JSON errors with lines) and listing them (.airflowignore, defaults)."""

from __future__ import annotations

import pytest
from config_helpers import problem_lines
from mlops_orchestrator.config import ConfigError, dag_id_for, iter_config_files, read_config_file

IMAGE = "pipeline_type: byom_image_builder\ncustom_algorithm_docker: s3://assets-bucket/custom/image.zip\n"


def _error(path) -> str:
    with pytest.raises(ConfigError) as info:
        read_config_file(path)
    return str(info.value)


def test_yaml_syntax_error_names_file_and_line(write):
    path = write("broken.yaml", IMAGE + "ecr_repo_name: [unclosed\nimage_tag: v1\n")
    assert _error(path) == (
        f"{path}:3: invalid YAML: while parsing a flow sequence, did not find expected ',' or ']' (noticed on line 4)"
    )


def test_yaml_indentation_errors(write):
    path = write("indent.yaml", "pipeline_type: byom_image_builder\n  image_tag: v1\n")
    assert _error(path) == f"{path}:2: invalid YAML: mapping values are not allowed in this context"
    path = write("tabs.yaml", "pipeline_type: byom_image_builder\n\timage_tag: v1\n")
    assert _error(path) == (
        f"{path}:2: invalid YAML: while scanning a plain scalar, found a tab character that violates indentation"
    )


def test_python_object_tags_are_refused_with_file_and_line(write, tmp_path):
    marker = tmp_path / "pwned"
    path = write("evil.yaml", IMAGE + f"image_tag: !!python/object/apply:os.system ['touch {marker}']\n")
    assert _error(path) == (
        f"{path}:3: YAML tag '!!python/object/apply:os.system' is not allowed: a config holds plain data only "
        "(mappings, lists, strings, numbers, booleans, dates)"
    )
    assert not marker.exists()


def test_empty_files(write):
    for name, text in [
        ("empty.yaml", ""),
        ("blank.yml", "\n  \n"),
        ("comments.yaml", "# nothing yet\n"),
        ("e.json", " "),
    ]:
        path = write(name, text)
        assert _error(path) == f"{path}: file is empty"


def test_top_level_must_be_a_mapping(write):
    path = write("list.yaml", "- pipeline_type: byom_image_builder\n")
    assert _error(path) == f"{path}: the top level must be a mapping of settings (key: value), got a list"


def test_top_level_keys_must_be_text(write):
    path = write("keys.yaml", IMAGE + "2: two\non: true\n")
    assert _error(path) == (
        f"{path}: key 2 is not text (YAML read it as a int; quote it)\n"
        f"{path}: key True is not text (YAML read it as a bool; quote it)"
    )


def test_duplicate_keys_are_refused(write):
    path = write("dup.yaml", IMAGE + "image_tag: v1\nimage_tag: v2\n")
    assert _error(path) == f"{path}:4: duplicate key 'image_tag' (first given on line 3)"
    path = write("dup.json", '{"image_tag": "v1", "image_tag": "v2"}')
    assert _error(path) == f"{path}: duplicate key 'image_tag'"


def test_yaml_merge_keys_may_be_overridden(write):
    path = write("merge.yaml", "base: &b {a: 1, b: 2}\nother:\n  <<: *b\n  b: 3\n")
    assert read_config_file(path)["other"] == {"a": 1, "b": 3}


def test_json_syntax_error_names_the_line(write):
    path = write("bad.json", '{\n  "pipeline_type": "byom_image_builder",\n  "image_tag": \n}\n')
    assert _error(path) == f"{path}:4: invalid JSON: Expecting value (column 1)"


def test_json_config_is_read(write):
    path = write("ok.json", {"pipeline_type": "byom_image_builder", "image_tag": "v1"})
    assert read_config_file(path) == {"pipeline_type": "byom_image_builder", "image_tag": "v1"}


def test_other_suffixes_and_missing_files(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    assert (
        _error(tmp_path / "notes.txt")
        == f"{tmp_path / 'notes.txt'}: not a config file (expected .yaml, .yml or .json)"
    )
    assert (
        _error(tmp_path / "gone.yaml")
        == f"{tmp_path / 'gone.yaml'}: cannot read file: No such file or directory"
    )


def test_syntax_errors_come_out_of_load_config_too(write):
    path = write("broken.yml", "pipeline_type: byom_image_builder\nimage_tag: 'open\n")
    assert problem_lines(path) == [
        f"{path}:2: invalid YAML: while scanning a quoted scalar, found unexpected end of stream (noticed on line 3)"
    ]


# --------------------------------------------------------------------------------------------
# listing
# --------------------------------------------------------------------------------------------


def _tree(tmp_path):
    for rel in [
        "a.yaml",
        "b.json",
        "c.yml",
        "defaults.yaml",
        "readme.md",
        "team/x.yaml",
        "team/defaults.json",
        "team/drafts/draft.yaml",
        "team/deep/er/y.yaml",
        "other/z.yaml",
    ]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("pipeline_type: byom_image_builder\n")


def _listed(tmp_path):
    return [p.relative_to(tmp_path).as_posix() for p in iter_config_files(tmp_path)]


def test_lists_configs_at_any_depth_sorted_without_defaults_files(tmp_path):
    _tree(tmp_path)
    assert _listed(tmp_path) == [
        "a.yaml",
        "b.json",
        "c.yml",
        "other/z.yaml",
        "team/deep/er/y.yaml",
        "team/drafts/draft.yaml",
        "team/x.yaml",
    ]


def test_symlinked_folders_are_followed_but_loops_are_not(tmp_path):
    _tree(tmp_path)
    (tmp_path / "team" / "loop").symlink_to(tmp_path / "team")
    (tmp_path / "linked").symlink_to(tmp_path / "other")
    listed = _listed(tmp_path)
    assert "team/x.yaml" in listed and not any(p.startswith("team/loop/") for p in listed)
    assert ("linked/z.yaml" in listed) != ("other/z.yaml" in listed)  # one folder, listed once


def test_airflowignore_glob_syntax_is_the_default_as_in_airflow_3(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", raising=False)
    _tree(tmp_path)
    (tmp_path / ".airflowignore").write_text("# drafts are not pipelines\ndrafts/\n*.json\n")
    (tmp_path / "team" / ".airflowignore").write_text("/deep\n")
    assert _listed(tmp_path) == ["a.yaml", "c.yml", "other/z.yaml", "team/x.yaml"]


def test_airflowignore_glob_negation(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", "glob")
    _tree(tmp_path)
    (tmp_path / ".airflowignore").write_text("*.yaml\n!a.yaml\n")
    assert _listed(tmp_path) == ["a.yaml", "b.json", "c.yml"]


def test_airflowignore_regexp_syntax(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", "regexp")
    _tree(tmp_path)
    (tmp_path / ".airflowignore").write_text(
        "draft\n^other\n[\n"
    )  # an invalid regexp is skipped, as Airflow does
    (tmp_path / "team" / ".airflowignore").write_text("deep/er\n")
    assert _listed(tmp_path) == ["a.yaml", "b.json", "c.yml", "team/x.yaml"]


def test_dag_id_for_makes_the_stem_a_valid_dag_id():
    assert dag_id_for("/dags/team/churn-model.v2.yaml") == "churn-model.v2"
    assert dag_id_for("configs/my model (copy).json") == "my_model__copy_"
    assert dag_id_for("ünïcode.yml") == "_n_code"
    assert len(dag_id_for("x" * 300 + ".yaml")) == 250
