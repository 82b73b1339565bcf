"""byom_image_builder configs and the custom realtime configs that consume their image
(``custom_image_from``): the exact lines ``mlops-orchestrator validate`` prints."""

from __future__ import annotations

import pytest
from config_helpers import problem_lines, valid_payload
from mlops_orchestrator.config import load_config

REPO_MESSAGE = "expected an ECR repository name: lower-case letters, digits and . _ - / separators"
TAG_MESSAGE = "expected a Docker tag: letters, digits, _ . -, not starting with . or -, at most 128 characters"


def test_missing_zip_key(write):
    data = valid_payload("byom_image_builder")
    del data["custom_algorithm_docker"]
    path = write("bad.yaml", data)
    assert problem_lines(path) == [f"{path}: custom_algorithm_docker: field required"]


def test_zip_key_given_empty(write):
    path = write("bad.yaml", valid_payload("byom_image_builder") | {"custom_algorithm_docker": ""})
    assert problem_lines(path) == [f"{path}: custom_algorithm_docker: must not be empty"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Team/Algo", "ECR repository names are lower case, got 'Team/Algo'; did you mean 'team/algo'?"),
        ("Team//Algo", f"{REPO_MESSAGE}, got 'Team//Algo'"),  # lower case alone would not make it valid
        ("team//algo", f"{REPO_MESSAGE}, got 'team//algo'"),
        ("-algo", f"{REPO_MESSAGE}, got '-algo'"),
        ("algo-", f"{REPO_MESSAGE}, got 'algo-'"),
        ("team/algo:v1", f"{REPO_MESSAGE}, got 'team/algo:v1'"),
        ("a", "must be at least 2 characters, got 'a'"),
    ],
)
def test_bad_repository_names(write, name, problem):
    path = write("bad.yaml", valid_payload("byom_image_builder") | {"ecr_repo_name": name})
    assert problem_lines(path) == [f"{path}: ecr_repo_name: {problem}"]


@pytest.mark.parametrize("name", ["team/algo", "a1", "my.repo_name-2/sub/x"])
def test_good_repository_names(write, name):
    assert load_config(write("ok.yaml", valid_payload("byom_image_builder") | {"ecr_repo_name": name})).ecr_repo_name == name


@pytest.mark.parametrize("tag", [".hidden", "-rc", "v1/latest", "v 1", "v1:latest"])
def test_bad_tags(write, tag):
    path = write("bad.yaml", valid_payload("byom_image_builder") | {"image_tag": tag})
    assert problem_lines(path) == [f"{path}: image_tag: {TAG_MESSAGE}, got {tag!r}"]


def test_too_long_tag_is_shown_shortened(write):
    path = write("bad.yaml", valid_payload("byom_image_builder") | {"image_tag": "x" * 129})
    (line,) = problem_lines(path)
    assert line.startswith(f"{path}: image_tag: {TAG_MESSAGE}, got 'xxxx")
    assert line.endswith("...")


def test_missing_everything_at_once(write):
    path = write("bad.yaml", {"pipeline_type": "byom_image_builder"})
    assert problem_lines(path) == [
        f"{path}: custom_algorithm_docker: field required",
        f"{path}: ecr_repo_name: field required",
        f"{path}: image_tag: field required",
    ]


# --- custom_image_from ------------------------------------------------------------------------------


@pytest.fixture(params=["byom_realtime_custom", "byom_batch_custom"])
def custom(request):
    """A custom-image payload (realtime or batch) without its image, with changes."""

    def make(**changes):
        data = valid_payload(request.param)
        del data["custom_image_uri"]
        return data | changes

    return make


def test_custom_image_from_replaces_the_uri(write, custom):
    config = load_config(write("ok.yaml", custom(custom_image_from="churn_image")))
    assert config.custom_image_from == "churn_image"
    assert config.custom_image_uri is None


def test_neither_image_source(write, custom):
    path = write("bad.yaml", custom())
    assert problem_lines(path) == [
        f"{path}: custom_image_uri: field required (unless custom_image_from or model_package_name is given)"
    ]


def test_both_image_sources(write, custom):
    uri = "111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud-images:v3"
    path = write("bad.yaml", custom(custom_image_from="churn_image", custom_image_uri=uri))
    assert problem_lines(path) == [
        f"{path}: custom_image_from: give either custom_image_uri or custom_image_from, not both"
    ]


def test_image_from_with_a_model_package(write, custom):
    data = custom(custom_image_from="churn_image")
    del data["model_artifact_location"]
    data["model_package_name"] = "arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/2"
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: use_model_registry: required: model_package_name and the model fields (custom_image_from) are both "
        "given; true deploys the model package and ignores the model fields, false deploys the model fields and "
        "ignores the package (set it in this config or in defaults.yaml)"
    ]
    path = write("bad.yaml", data | {"use_model_registry": True})
    assert problem_lines(path) == [
        f"{path}: custom_image_from: not used when use_model_registry is true (the model package supplies the "
        "image); set use_model_registry: false in this config to deploy the image builder's image"
    ]


def test_image_from_under_use_model_registry_false_ignores_the_package(write, custom):
    data = custom(custom_image_from="churn_image", use_model_registry="false")
    data["model_package_name"] = "arn:aws:sagemaker:*:*:model-package/placeholder/1"
    config = load_config(write("ok.yaml", data))
    assert (config.custom_image_from, config.model_package_name) == ("churn_image", None)
    assert [p.format() for p in config.warnings] == [
        f"{config._source}: model_package_name: warning: ignored: use_model_registry is false, so the model fields "
        "(model_artifact_location, custom_image_uri) are deployed"
    ]


def test_image_from_must_be_a_dag_id(write, custom):
    path = write("bad.yaml", custom(custom_image_from="churn image!"))
    assert problem_lines(path) == [
        f"{path}: custom_image_from: expected a DAG id: letters, digits, _ . - only, at most 250 characters, "
        "got 'churn image!'"
    ]


def test_image_from_is_a_custom_image_field_only(write):
    path = write("bad.yaml", valid_payload("byom_realtime_builtin") | {"custom_image_from": "churn_image"})
    assert problem_lines(path) == [
        f"{path}: custom_image_from: not a setting of byom_realtime_builtin (only of byom_realtime_custom, "
        "byom_batch_custom); remove it"
    ]


def test_deploy_on_new_image_needs_the_image_builder_and_no_schedule(write, custom):
    config = load_config(write("ok.yaml", custom(custom_image_from="churn_image", deploy_on_new_image="true")))
    assert config.deploy_on_new_image is True and config.schedule is None
    uri = "111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud-images:v3"
    path = write("bad.yaml", custom(custom_image_uri=uri, deploy_on_new_image=True, schedule="@daily"))
    assert problem_lines(path) == [
        f"{path}: deploy_on_new_image: needs custom_image_from (the image builder whose images to deploy)",
        f"{path}: schedule: must be null with deploy_on_new_image (new images of custom_image_from start the DAG)",
    ]
