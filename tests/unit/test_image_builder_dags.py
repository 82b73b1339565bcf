"""The image builder's blueprint (a least-privilege build role) and the DAGs built from configs:
tasks, the asset alias they publish under and the one a consumer reads (no AWS at parse time)."""

from __future__ import annotations

from pathlib import Path

import yaml
from mlops_orchestrator.blueprint_files import read_blueprint
from mlops_orchestrator.factory import load_dags


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags as ``{"!Tag": value}``."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {f"!{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tagged)


def _template() -> dict:
    return yaml.load(read_blueprint("image-builder.yaml"), Loader=_CfnLoader)


def test_the_build_role_reads_one_zip_pushes_to_one_repository_and_writes_its_own_logs():
    resources = _template()["Resources"]
    statements = resources["BuildRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements if "Sid" in s}
    assert {sid for sid, s in by_sid.items() if s["Resource"] == "*"} == {"EcrToken"}
    assert by_sid["ReadBuildContext"]["Resource"] == {
        "!Sub": "arn:${AWS::Partition}:s3:::${SourceS3Bucket}/${SourceS3Key}"
    }
    assert by_sid["PushImage"]["Resource"] == {"!GetAtt": "Repository.Arn"}
    assert "ecr:PutImage" in by_sid["PushImage"]["Action"]
    assert by_sid["BuildLogs"]["Resource"]["!Sub"].endswith(":log-group:${LogGroup}:*")
    assert "logs:CreateLogGroup" not in by_sid["BuildLogs"]["Action"]  # the stack creates the group


def test_the_project_is_privileged_and_the_repository_scanned_expiring_and_emptied_on_delete():
    resources = _template()["Resources"]
    project = resources["Project"]["Properties"]
    assert project["Environment"]["PrivilegedMode"] is True
    assert project["Source"]["Type"] == "S3"
    assert project["LogsConfig"]["CloudWatchLogs"] == {"Status": "ENABLED", "GroupName": {"!Ref": "LogGroup"}}
    buildspec = yaml.safe_load(project["Source"]["BuildSpec"])
    assert 'docker push "$REPO_URI:$IMAGE_TAG"' in buildspec["phases"]["build"]["commands"]
    assert "docker login" in buildspec["phases"]["pre_build"]["commands"][1]
    assert "IMAGE_DIGEST=" in buildspec["phases"]["post_build"]["commands"][0]
    repository = resources["Repository"]["Properties"]
    assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repository["EmptyOnDelete"] is True
    assert '"tagStatus": "untagged"' in repository["LifecyclePolicy"]["LifecyclePolicyText"]["!Sub"]


def _configs(tmp_path: Path) -> Path:
    (tmp_path / "defaults.yaml").write_text("assets_bucket: assets-bucket\nregion_name: eu-west-1\n")
    (tmp_path / "algo_image.yaml").write_text(
        "pipeline_type: byom_image_builder\ncustom_algorithm_docker: custom/algo.zip\n"
        "ecr_repo_name: team/algo\nimage_tag: v3\n"
        "stages: {dev: {account_id: '111122223333'}, prod: {account_id: '444455556666'}}\n"
    )
    (tmp_path / "algo_endpoint.yaml").write_text(
        "pipeline_type: byom_realtime_custom\nmodel_name: algo\ncustom_image_from: algo_image\n"
        "model_artifact_location: models/algo/model.tar.gz\ndata_capture_location: assets-bucket/capture/algo\n"
        "inference_instance: ml.m5.large\n"
    )
    return tmp_path


def test_the_image_builder_dag(tmp_path):
    dag = load_dags(_configs(tmp_path))["algo_image"]
    assert "invalid-config" not in dag.tags
    assert {t: sorted(dag.get_task(t).downstream_task_ids) for t in dag.task_ids} == {
        "deploy_stack": ["build_image", "delete_stack"],
        "build_image": ["publish_image"],
        "publish_image": [],
        "delete_stack": [],
    }
    assert dag.get_task("delete_stack").trigger_rule == "all_skipped"  # runs when deploy_stack skipped itself
    deploy = dag.get_task("deploy_stack")
    assert deploy.stack_name == "mlops-pipeline-team-algo-byompipelineimagebuilder"
    assert deploy.blueprint == "image-builder.yaml"
    assert deploy.parameters == {
        "RepositoryName": "team/algo",
        "ImageTag": "v3",
        "SourceS3Bucket": "assets-bucket",
        "SourceS3Key": "custom/algo.zip",
        "PullAccountIds": ["111122223333", "444455556666"],
    }
    build = dag.get_task("build_image")
    assert build.environment_variables == {"IMAGE_TAG": "v3"}
    assert build.deferrable is True and build.region_name == "eu-west-1"
    publish = dag.get_task("publish_image")
    assert [o.name for o in publish.outlets] == ["mlops-orchestrator/image/algo_image"]


def test_a_custom_realtime_dag_resolves_the_image_from_the_builders_alias(tmp_path):
    dag = load_dags(_configs(tmp_path))["algo_endpoint"]
    assert {t: sorted(dag.get_task(t).downstream_task_ids) for t in dag.task_ids} == {
        "resolve_image": ["delete_stack", "deploy_stack"],
        "deploy_stack": [],
        "delete_stack": [],
    }
    assert dag.get_task("delete_stack").trigger_rule == "all_skipped"
    resolve_image = dag.get_task("resolve_image")
    assert [i.name for i in resolve_image.inlets] == ["mlops-orchestrator/image/algo_image"]
    assert resolve_image.source_dag_id == "algo_image"
    assert dag.get_task("deploy_stack").model_source["image_uri"] == (
        "{{ ti.xcom_pull(task_ids='resolve_image')['image_uri'] }}"
    )


def test_deploy_on_new_image_schedules_the_dag_on_the_builders_alias(tmp_path):
    folder = _configs(tmp_path)
    config = folder / "algo_endpoint.yaml"
    assert type(load_dags(folder)["algo_endpoint"].timetable).__name__ == "NullTimetable"  # manual by default
    config.write_text(config.read_text() + "deploy_on_new_image: true\n")
    dag = load_dags(folder)["algo_endpoint"]
    assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"
    assert repr(dag.timetable.asset_condition) == (
        "AssetAll(AssetAlias(name='mlops-orchestrator/image/algo_image', group='asset'))"
    )
