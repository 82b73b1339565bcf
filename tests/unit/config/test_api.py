"""The public surface the factory and the CLI use: formats, validate_paths, JSON Schema."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from config_helpers import ALL_TYPES, VALID, valid_file, valid_payload
from mlops_orchestrator.config import (
    PIPELINE_MODELS,
    ConfigError,
    Problem,
    config_json_schema,
    read_config_file,
    validate_paths,
)


def test_problem_formats():
    assert Problem("a.yaml", "tuner_configs.max_jobs", "must be at least 1, got 0").format() == (
        "a.yaml: tuner_configs.max_jobs: must be at least 1, got 0"
    )
    assert Problem("a.yaml", "image_tag", "bad", line=7).format() == "a.yaml: image_tag: bad"
    assert Problem("a.yaml", "", "invalid YAML: x", line=3).format() == "a.yaml:3: invalid YAML: x"
    assert Problem("a.yaml", "", "file is empty").format() == "a.yaml: file is empty"


def test_config_error_joins_its_problems():
    err = ConfigError("a.yaml", [Problem("a.yaml", "x", "one"), Problem("defaults.yaml", "", "two", 2)])
    assert err.file == "a.yaml"
    assert str(err) == "a.yaml: x: one\ndefaults.yaml:2: two"


def test_validate_paths_over_folders_and_files(write, tmp_path):
    write("defaults.yaml", "assets_bucket: b-1\nowner: ''\n")
    good = write("team/good.yaml", valid_payload("byom_image_builder"))
    bad = write("team/bad.yaml", valid_payload("byom_image_builder") | {"image_tagg": "v2"})
    empty = write("team/empty.yml", "")
    write("team/.airflowignore", "ignored.yaml\n")
    write("team/ignored.yaml", "not: [valid\n")
    broken = write("other/broken.json", "{")
    problems = validate_paths([tmp_path / "team", broken, tmp_path / "missing.yaml", good], root=tmp_path)
    assert [p.format() for p in problems] == [
        f"{bad}: image_tagg: unknown field; did you mean 'image_tag'?",
        f"{tmp_path / 'defaults.yaml'}: owner: must not be empty",  # once, though three configs use it
        f"{empty}: file is empty",
        f"{broken}:1: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{tmp_path / 'missing.yaml'}: no such file or folder",
    ]


def test_validate_paths_on_a_clean_folder_and_a_defaults_file(tmp_path, write):
    assert validate_paths([VALID], root=VALID) == []
    defaults = write("defaults.yaml", "asset_bucket: b-1\n")
    assert [p.format() for p in validate_paths([defaults])] == [
        f"{defaults}: asset_bucket: unknown field; did you mean 'assets_bucket'?"
    ]


def test_json_schema_is_a_union_of_the_twelve_types():
    schema = config_json_schema()
    assert schema["discriminator"]["propertyName"] == "pipeline_type"
    assert set(schema["discriminator"]["mapping"]) == set(PIPELINE_MODELS)
    assert len(schema["oneOf"]) == 12
    json.dumps(schema)  # plain JSON
    tuner = schema["$defs"]["TunerBuiltinConfig"]
    assert tuner["additionalProperties"] is False
    # MWO's misspelt keys are in the schema too, so editors accept MWO payloads
    assert {"algo_hyperparamaters", "hyperparamaters_ranges"} <= set(tuner["properties"])
    assert "algo_hyperparameters" not in tuner.get("required", [])
    realtime = schema["$defs"]["RealtimeBuiltinConfig"]
    assert realtime["properties"]["inference_instance"]["oneOf"][0]["pattern"].startswith("^[a-zA-Z0-9_.+-]+")


def test_importing_the_config_package_stays_light():
    """Parse time: no Airflow, boto3, SageMaker SDK or croniter until a cron schedule needs it."""
    code = (
        "import sys, mlops_orchestrator.config as c\n"
        "heavy = [m for m in ('airflow', 'boto3', 'botocore', 'sagemaker', 'pandas', 'croniter') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_mwo_payloads_validate_against_the_json_schema_unchanged(pipeline_type):
    """String numbers, "True", "", JSON-encoded objects and MWO's misspellings pass the schema too."""
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(config_json_schema())
    payload = read_config_file(valid_file(pipeline_type))
    assert [e.message for e in validator.iter_errors(payload)] == []
    assert not validator.is_valid(payload | {"model_nmae": "x"})
