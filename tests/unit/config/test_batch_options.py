"""The batch transform options (our additions): MWO's defaults, and what a user sees when they are wrong."""

from __future__ import annotations

import pytest
from config_helpers import problem_lines, valid_payload
from mlops_orchestrator.config import config_json_schema, load_config

BATCH_TYPES = ("byom_batch_builtin", "byom_batch_custom")


@pytest.mark.parametrize("pipeline_type", BATCH_TYPES)
def test_an_mwo_payload_gets_mwos_transform_settings(write, pipeline_type):
    config = load_config(write("ok.yaml", valid_payload(pipeline_type)))
    assert (config.content_type, config.accept, config.split_type, config.assemble_with, config.instance_count) == (
        "text/csv",
        None,
        "Line",
        "Line",
        1,
    )


@pytest.mark.parametrize("pipeline_type", BATCH_TYPES)
def test_the_options_are_read_as_given(write, pipeline_type):
    data = valid_payload(pipeline_type) | {
        "content_type": " application/jsonlines ",
        "accept": "text/csv; charset=utf-8",
        "split_type": "RecordIO",
        "assemble_with": "None",
        "instance_count": "4",
    }
    config = load_config(write("ok.yaml", data))
    assert (config.content_type, config.accept, config.split_type, config.assemble_with, config.instance_count) == (
        "application/jsonlines",
        "text/csv; charset=utf-8",
        "RecordIO",
        "None",
        4,
    )
    assert load_config(write("empty_accept.yaml", data | {"accept": ""})).accept is None


@pytest.mark.parametrize(
    ("pipeline_type", "field", "value", "message"),
    [
        ("byom_batch_builtin", "content_type", "csv", "content_type: expected a MIME type, got 'csv'; did you mean 'text/csv'?"),
        ("byom_batch_custom", "content_type", "JSONLines", "content_type: expected a MIME type, got 'JSONLines'; did you mean 'application/jsonlines'?"),
        ("byom_batch_builtin", "content_type", "text csv", "content_type: expected a MIME type like text/csv or application/jsonlines, got 'text csv'"),
        ("byom_batch_custom", "accept", 7, "accept: expected a string, got 7 (quote it in YAML)"),
        ("byom_batch_builtin", "accept", "json", "accept: expected a MIME type, got 'json'; did you mean 'application/json'?"),
        ("byom_batch_builtin", "split_type", "line", "split_type: unknown value 'line'; did you mean 'Line'? (expected one of Line, RecordIO, TFRecord, None)"),
        ("byom_batch_custom", "split_type", "Lines", "split_type: unknown value 'Lines'; did you mean 'Line'? (expected one of Line, RecordIO, TFRecord, None)"),
        ("byom_batch_custom", "assemble_with", "Record", "assemble_with: expected one of Line, None, got 'Record'"),
        ("byom_batch_builtin", "instance_count", 0, "instance_count: must be at least 1, got 0"),
        ("byom_batch_custom", "instance_count", "101", "instance_count: must be at most 100, got '101'"),
        ("byom_batch_builtin", "instance_count", 1.5, "instance_count: expected a whole number, got 1.5"),
        ("byom_batch_custom", "batch_inference_data", "ftp://data/in", "batch_inference_data: expected an S3 location like bucket/prefix or s3://bucket/prefix, got 'ftp://data/in'"),
        ("byom_batch_builtin", "batch_job_output_location", "Bad_Bucket/out", "batch_job_output_location: expected an S3 location like bucket/prefix or s3://bucket/prefix: 'Bad_Bucket' is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)"),
    ],
)
def test_a_bad_option_names_the_field_and_the_fix(write, pipeline_type, field, value, message):
    path = write("bad.yaml", valid_payload(pipeline_type) | {field: value})
    assert problem_lines(path) == [f"{path}: {message}"]


@pytest.mark.parametrize("pipeline_type", BATCH_TYPES)
def test_a_typo_in_an_option_name_is_caught(write, pipeline_type):
    path = write("bad.yaml", valid_payload(pipeline_type) | {"split": "Line", "instance_cout": 2})
    assert problem_lines(path) == [
        f"{path}: split: unknown field; did you mean 'split_type'?",
        f"{path}: instance_cout: unknown field; did you mean 'instance_count'?",
    ]


def test_the_json_schema_shows_the_options_and_their_defaults():
    defs = config_json_schema()["$defs"]
    for model in ("BatchBuiltinConfig", "BatchCustomConfig"):
        properties = defs[model]["properties"]
        assert properties["content_type"]["default"] == "text/csv"
        assert properties["split_type"]["default"] == "Line"
        assert "TFRecord" in properties["split_type"]["enum"]
        assert properties["assemble_with"]["default"] == "Line"
        assert properties["instance_count"]["default"] == 1
        assert "content_type" not in defs[model].get("required", [])
