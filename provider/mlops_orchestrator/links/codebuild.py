"""Extra link from a task to the CodeBuild build it ran, in the AWS console."""

from __future__ import annotations

from urllib.parse import quote

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class CodeBuildBuildConsoleLink(BaseAwsLink):
    """The build's page (phases, logs) in the CodeBuild console."""

    name = "CodeBuild Build"
    key = "mlops_codebuild_build"
    format_str = (
        BASE_AWS_CONSOLE_LINK
        + "/codesuite/codebuild/{account_id}/projects/{project_name}/build/{build_id}/?region={region_name}"
    )

    def format_link(self, **kwargs) -> str:
        """Build ids are ``project:uuid``: escape the colon so the console reads the id whole."""
        if "build_id" in kwargs:
            kwargs = {**kwargs, "build_id": quote(kwargs["build_id"], safe="")}
        return super().format_link(**kwargs)
