"""Image facts used to scope execution roles and find built-in images."""

from __future__ import annotations

import pytest
from mlops_orchestrator.images import builtin_image_uri, ecr_repository_arn


@pytest.mark.parametrize(
    ("image", "arn"),
    [
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-algorithm:1.0",
            "arn:aws:ecr:us-east-1:123456789012:repository/fraud-algorithm",
        ),
        (
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost",
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/algo@sha256:" + "a" * 64,
            "arn:aws:ecr:cn-north-1:123456789012:repository/team/algo",
        ),
    ],
)
def test_ecr_repository_arn(image, arn):
    assert ecr_repository_arn(image) == arn


def test_ecr_repository_arn_rejects_other_registries():
    with pytest.raises(ValueError, match="is not an ECR image URI"):
        ecr_repository_arn("docker.io/library/python:3.11")


def test_builtin_image_comes_from_the_sagemaker_sdk():
    uri = builtin_image_uri("xgboost", "1.7-1", "eu-west-1", "ml.m5.large")
    assert uri.endswith(".dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1")


def test_unknown_builtin_version_names_the_fields():
    with pytest.raises(ValueError, match=r"model_framework 'xgboost' with model_framework_version '9\.9'"):
        builtin_image_uri("xgboost", "9.9", "us-east-1")
