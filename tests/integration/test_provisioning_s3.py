"""Provisioning into an S3 prefix (MWAA's dags bucket) on the local AWS emulator over HTTP:
the body lands as one object under the prefix, a re-post updates it only when it changed (S3's
conditional writes), another pipeline's object is never replaced, and nothing else is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlops_orchestrator.api.provisioning import Conflict, S3Target, provision, validate_body
from mlops_orchestrator.api.settings import ApiSettings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BUCKET = "airflow-provision-it"


@pytest.fixture
def settings(tmp_path, local_aws, aws, monkeypatch) -> ApiSettings:
    from mlops_orchestrator.run.airflow_env import local_aws_connection

    monkeypatch.setenv("AIRFLOW_CONN_PROVISION_S3", local_aws_connection(local_aws.endpoint_url, "us-east-1"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = aws("s3")
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)
    for listed in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=listed["Key"])
    folder = tmp_path / "dags"  # where MWAA syncs the bucket's dags/ to
    (folder / "provisioned").mkdir(parents=True)
    (folder / "defaults.yaml").write_text(yaml.safe_dump({"assets_bucket": "it-assets", "region_name": "us-east-1"}))
    return ApiSettings(
        config_folder=folder,
        provision_folder=folder / "provisioned",
        provision_s3_uri=f"s3://{BUCKET}/dags/provisioned",
        provision_aws_conn_id="provision_s3",
    )


def body(model_name: str = "churn", **extra) -> dict:
    loaded = yaml.safe_load((REPO / "dags/examples/realtime_builtin_xgboost.yaml").read_text())
    return {**loaded, "model_name": model_name, **extra}


def objects(aws) -> dict[str, bytes]:
    s3 = aws("s3")
    return {
        o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
        for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    }


def test_a_body_is_provisioned_into_the_dags_bucket_and_a_re_post_updates_it(settings, aws):
    key = "dags/provisioned/mlops-pipeline-churn-byompipelinerealtimebuiltin.json"
    first = provision(body(), validate_body(body(), settings), settings)
    assert (first.created, first.changed, first.file) == (True, True, f"s3://{BUCKET}/{key}")
    assert {k: json.loads(v) for k, v in objects(aws).items()} == {key: body()}
    etag = aws("s3").head_object(Bucket=BUCKET, Key=key)["ETag"]

    same = provision(body(), validate_body(body(), settings), settings)
    assert (same.created, same.changed) == (False, False)
    assert aws("s3").head_object(Bucket=BUCKET, Key=key)["ETag"] == etag  # not rewritten

    bigger = body(inference_instance="ml.m5.xlarge")
    updated = provision(bigger, validate_body(bigger, settings), settings)
    assert (updated.created, updated.changed) == (False, True)
    assert json.loads(objects(aws)[key])["inference_instance"] == "ml.m5.xlarge"
    assert not any(settings.provision_folder.iterdir())  # the S3 prefix is the only place written


def test_another_pipelines_object_is_not_replaced(settings, aws):
    other = body("other", pipeline_type="byom_realtime_custom", custom_image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1")
    for field in ("model_framework", "model_framework_version"):
        other.pop(field)
    aws("s3").put_object(Bucket=BUCKET, Key="dags/provisioned/shared.json", Body=json.dumps(other).encode())
    mine = body(dag_id="shared")
    with pytest.raises(Conflict, match=rf"s3://{BUCKET}/dags/provisioned/shared.json holds another pipeline"):
        provision(mine, validate_body(mine, settings), settings)
    assert json.loads(objects(aws)["dags/provisioned/shared.json"]) == other


def test_an_object_changed_since_it_was_read_is_not_overwritten(settings, aws):
    """S3's conditional PUT: If-None-Match for a new object, If-Match on the ETag read for an update."""
    target = S3Target(settings)
    target.write("x.json", b"{}", None)
    with pytest.raises(Conflict, match="changed while it was being provisioned"):
        target.write("x.json", b'{"a": 1}', None)  # someone created it meanwhile
    stale = target._head("x.json")
    aws("s3").put_object(Bucket=BUCKET, Key="dags/provisioned/x.json", Body=b'{"b": 2}')  # changed after the read
    with pytest.raises(Conflict, match="changed while it was being provisioned"):
        target.write("x.json", b'{"a": 1}', b"{}")  # seen at once by reading again
    # a change between that read and the PUT: S3 refuses the PUT on the stale ETag itself
    target._head = lambda name: stale
    with pytest.raises(Conflict, match="changed while it was being provisioned"):
        target.write("x.json", b'{"a": 1}', b"{}")
    target._head = lambda name: (None, None)  # created by someone else after a read found nothing
    with pytest.raises(Conflict, match="changed while it was being provisioned"):
        target.write("x.json", b'{"a": 1}', None)
    assert objects(aws)["dags/provisioned/x.json"] == b'{"b": 2}'
