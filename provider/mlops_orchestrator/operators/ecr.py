"""Container images in ECR as Airflow assets: publish the image a build pushed, resolve the latest one.

An image builder DAG and the pipelines that deploy its image are separate DAGs, so the image
travels the Airflow-native way, as an asset event. The image's URI holds the account, which is
only known at run time (from the AWS connection), so the producing task declares an
``AssetAlias`` named after its DAG (``mlops-orchestrator/image/{dag_id}``) and attaches the
concrete asset to it when it runs: ``ecr://{account}/{region}/{repository}:{tag}``, named after
the image URI, with the image's URI and digest in the event's ``extra``. A consumer names the
producing DAG only: its task reads the alias's latest event (``inlet_events``) and deploys the
image by digest, so a rebuild of the same tag reaches the endpoint on the next deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.ecr import EcrHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, Asset, AssetAlias

if TYPE_CHECKING:
    from airflow.sdk import Context

IMAGE_ALIAS_PREFIX = "mlops-orchestrator/image/"


def image_alias_name(dag_id: str) -> str:
    """The asset alias an image builder DAG publishes its image under."""
    return f"{IMAGE_ALIAS_PREFIX}{dag_id}"


def ecr_asset_uri(registry_id: str, region_name: str, repository_name: str, image_tag: str) -> str:
    """The asset URI of an image: ``ecr://{account}/{region}/{repository}:{tag}``."""
    return f"ecr://{registry_id}/{region_name}/{repository_name}:{image_tag}"


class EcrPublishImageOperator(AwsBaseOperator[EcrHook]):
    """
    Read an image pushed to ECR (by tag) and publish its URI and digest: to XCom, and as an asset
    event through ``asset_alias`` when given (the alias is added to the task's outlets).

    Fails when the tag is not in the repository: the build did not push what it should have.

    :param repository_name: the ECR repository.
    :param image_tag: the tag the build pushed.
    :param asset_alias: name of the asset alias to publish the image under.
    :return: ``image_uri`` (by tag), ``image_uri_by_digest``, ``image_digest``, ``image_tag``,
        ``repository_name``, ``repository_arn``, ``registry_id``, ``region_name``, ``pushed_at``,
        ``asset_uri``.
    """

    aws_hook_class = EcrHook
    template_fields: Sequence[str] = aws_template_fields("repository_name", "image_tag")
    ui_color = "#fff3bf"

    def __init__(self, *, repository_name: str, image_tag: str, asset_alias: str | None = None, **kwargs):
        if asset_alias:
            kwargs["outlets"] = [*(kwargs.get("outlets") or []), AssetAlias(name=asset_alias)]
        super().__init__(**kwargs)
        self.repository_name = repository_name
        self.image_tag = image_tag
        self.asset_alias = asset_alias

    def execute(self, context: Context) -> dict[str, Any]:
        conn = self.hook.conn
        repository = conn.describe_repositories(repositoryNames=[self.repository_name])["repositories"][0]
        try:
            detail = conn.describe_images(
                repositoryName=self.repository_name, imageIds=[{"imageTag": self.image_tag}]
            )["imageDetails"][0]
        except conn.exceptions.ImageNotFoundException:
            raise AirflowException(
                f"ECR repository {self.repository_name} has no image tagged {self.image_tag}: "
                "the build did not push it"
            ) from None
        digest = detail["imageDigest"]
        region = repository["repositoryArn"].split(":")[3]
        pushed_at = detail.get("imagePushedAt")
        image = {
            "image_uri": f"{repository['repositoryUri']}:{self.image_tag}",
            "image_uri_by_digest": f"{repository['repositoryUri']}@{digest}",
            "image_digest": digest,
            "image_tag": self.image_tag,
            "repository_name": self.repository_name,
            "repository_arn": repository["repositoryArn"],
            "registry_id": repository["registryId"],
            "region_name": region,
            "pushed_at": pushed_at.isoformat() if pushed_at is not None else None,
            "asset_uri": ecr_asset_uri(repository["registryId"], region, self.repository_name, self.image_tag),
        }
        self.log.info("Image %s has digest %s", image["image_uri"], digest)
        if self.asset_alias:
            asset = Asset(name=image["image_uri"], uri=image["asset_uri"])
            context["outlet_events"][AssetAlias(name=self.asset_alias)].add(asset, extra=image)
            self.log.info("Published %s as asset %s (alias %s)", image["image_uri"], asset.uri, self.asset_alias)
        return image


class EcrResolveImageOperator(AwsBaseOperator[EcrHook]):
    """
    The image an image builder DAG published last (the latest event of its asset alias), checked
    to still be in ECR. The alias is added to the task's inlets.

    :param asset_alias: the alias the image builder publishes under (``image_alias_name(dag_id)``).
    :param source_dag_id: the image builder DAG, for messages.
    :return: ``image_uri`` (by digest, what to deploy), ``image_uri_by_tag``, ``image_digest``,
        ``repository_name``, ``source_dag_id``, ``source_run_id``, ``published_at``.
    """

    aws_hook_class = EcrHook
    template_fields: Sequence[str] = aws_template_fields("asset_alias", "source_dag_id")
    ui_color = "#fff3bf"

    def __init__(self, *, asset_alias: str, source_dag_id: str, **kwargs):
        kwargs["inlets"] = [*(kwargs.get("inlets") or []), AssetAlias(name=asset_alias)]
        super().__init__(**kwargs)
        self.asset_alias = asset_alias
        self.source_dag_id = source_dag_id

    def execute(self, context: Context) -> dict[str, Any]:
        events = context["inlet_events"][AssetAlias(name=self.asset_alias)]
        if not len(events):
            raise AirflowFailException(
                f"No image has been published by DAG {self.source_dag_id!r} yet (asset alias "
                f"{self.asset_alias!r}): run that image builder DAG first (custom_image_from: {self.source_dag_id})"
            )
        event = events[-1]
        extra = event.extra or {}
        missing = [k for k in ("image_uri_by_digest", "image_digest", "repository_name") if not extra.get(k)]
        if missing:
            raise AirflowFailException(
                f"The latest event of asset alias {self.asset_alias!r} ({event.asset.uri}) has no "
                f"{', '.join(missing)} in its extra: it was not published by an image builder"
            )
        conn = self.hook.conn
        try:
            registry = {"registryId": extra["registry_id"]} if extra.get("registry_id") else {}
            conn.describe_images(
                repositoryName=extra["repository_name"], imageIds=[{"imageDigest": extra["image_digest"]}], **registry
            )
        except (conn.exceptions.ImageNotFoundException, conn.exceptions.RepositoryNotFoundException):
            raise AirflowFailException(
                f"Image {extra['image_uri_by_digest']}, published by DAG {self.source_dag_id!r} "
                f"(run {event.source_run_id}), is no longer in ECR (was the image builder deprovisioned?): "
                f"run {self.source_dag_id} again"
            ) from None
        self.log.info(
            "Latest image of %s: %s (published %s by run %s)",
            self.source_dag_id,
            extra["image_uri_by_digest"],
            event.timestamp,
            event.source_run_id,
        )
        return {
            "image_uri": extra["image_uri_by_digest"],
            "image_uri_by_tag": extra.get("image_uri"),
            "image_digest": extra["image_digest"],
            "repository_name": extra["repository_name"],
            "source_dag_id": event.source_dag_id,
            "source_run_id": event.source_run_id,
            "published_at": event.timestamp.isoformat(),
        }
