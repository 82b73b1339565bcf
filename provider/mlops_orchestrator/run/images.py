"""What an image builder pipeline left in ECR: the tagged images of its stacks' repositories."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def repository_images(session_client, stacks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """
    ``{"uri", "digest", "pushed_at"}`` of every tagged image in the ECR repositories among the
    stacks' resources (as ``pipeline_resources`` lists them), newest first.
    """
    repositories = [
        resource["physical_id"]
        for stack in stacks
        for resource in stack.get("resources", [])
        if resource["type"] == "AWS::ECR::Repository" and resource.get("physical_id")
    ]
    if not repositories:
        return []
    ecr = session_client("ecr")
    images = []
    for name in repositories:
        try:
            (repository,) = ecr.describe_repositories(repositoryNames=[name])["repositories"]
            details = ecr.describe_images(repositoryName=name, filter={"tagStatus": "TAGGED"})["imageDetails"]
        except ClientError:
            continue
        for detail in sorted(details, key=lambda d: d.get("imagePushedAt") or 0, reverse=True):
            for tag in detail.get("imageTags") or []:
                images.append(
                    {
                        "uri": f"{repository['repositoryUri']}:{tag}",
                        "digest": detail["imageDigest"],
                        "pushed_at": str(detail.get("imagePushedAt", "")),
                    }
                )
    return images
