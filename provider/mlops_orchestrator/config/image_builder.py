"""byom_image_builder: build a custom algorithm image from a zip in the assets bucket, push it to ECR."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator

from .base import PipelineConfig
from .common import AssetsKey, EcrRepoName, ImageTag
from .errors import custom_error

__all__ = ["ImageBuilderConfig"]


def _zip(value: str) -> str:
    if not value.lower().endswith(".zip"):
        raise custom_error(
            "docker_zip",
            f"expected a .zip file holding a Dockerfile and its context, like custom/image.zip, got {value!r}",
        )
    return value


class ImageBuilderConfig(PipelineConfig):
    """The image lands at ``{account}.dkr.ecr.{region}.amazonaws.com/{ecr_repo_name}:{image_tag}``."""

    pipeline_type: Literal["byom_image_builder"]
    custom_algorithm_docker: Annotated[AssetsKey, AfterValidator(_zip)]
    ecr_repo_name: EcrRepoName
    image_tag: ImageTag

    ASSETS_KEY_FIELDS: ClassVar[tuple[str, ...]] = ("custom_algorithm_docker",)
    STACK_SUFFIX: ClassVar[str] = "BYOMPipelineImageBuilder"

    def stack_name_or_default(self, dag_id: str | None = None) -> str:
        """``stack_name``, else ``mlops-pipeline-{ecr_repo_name}-byompipelineimagebuilder``, lower-cased.

        MWO put ``image_tag`` in this name. Here the stack owns the ECR repository, so it is named
        after the repository: building a new tag is a new build of the same stack, where a stack
        per tag would try to create the same repository a second time and fail.
        """
        if self.stack_name:
            return self.stack_name
        name = f"mlops-pipeline-{self.ecr_repo_name}-{self.STACK_SUFFIX}".lower()
        name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", name)).strip("-")
        return name[:128].rstrip("-")
