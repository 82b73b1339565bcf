"""Tasks and stack settings that several pipeline families build the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AssetAlias

from mlops_orchestrator.factory import promotion
from mlops_orchestrator.operators.ecr import EcrResolveImageOperator, image_alias_name

if TYPE_CHECKING:

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext


#: With ``custom_image_from``, the image resolve_image found (the builder's latest, by digest).
RESOLVED_IMAGE = "{{ ti.xcom_pull(task_ids='resolve_image')['image_uri'] }}"


def image_source(config: PipelineConfig) -> str | None:
    """The image builder DAG whose published image a custom model uses (``custom_image_from``)."""
    return getattr(config, "custom_image_from", None)


def new_image_schedule(config: PipelineConfig) -> list[AssetAlias] | None:
    """``deploy_on_new_image``: every image the builder publishes (its asset alias) starts a run."""
    source = image_source(config)
    if source and getattr(config, "deploy_on_new_image", False):
        return [AssetAlias(name=image_alias_name(source))]
    return None


def image_source_task(config: PipelineConfig, **aws: Any) -> EcrResolveImageOperator | None:
    """
    ``resolve_image`` when the image comes from an image builder DAG (``custom_image_from``): the
    image that DAG published last, by digest, instead of a literal URI (read once per run, before
    every stage). None for other model sources.
    """
    source = image_source(config)
    if not source:
        return None
    return EcrResolveImageOperator(
        task_id="resolve_image", asset_alias=image_alias_name(source), source_dag_id=source, **aws
    )


def stack_tags(config: PipelineConfig, ctx: BuildContext, **extra: str) -> dict[str, str]:
    """Tags on a pipeline's stack (and so on its resources) that tie them back to the pipeline."""
    return {
        "mlops-orchestrator:dag-id": ctx.dag_id,
        "mlops-orchestrator:pipeline-type": config.pipeline_type,
        **{f"mlops-orchestrator:{key.replace('_', '-')}": value for key, value in extra.items()},
    }


def model_source_for(
    config: PipelineConfig,
    stage: str,
    *,
    image_uri: str | None = None,
    model_package_name: str | None = None,
) -> dict[str, Any]:
    """
    The model a deployment's ``deploy_stack`` resolves when it starts (realtime or batch): the
    config's model source — a registered package, a built-in framework, or a custom image
    (``image_uri`` and ``model_package_name`` override the config's, e.g. with templates reading
    an image builder's output or the version a training DAG registered) — with the stage's region
    for a built-in image, read through the orchestrator account's connection (it holds the registry).
    """

    package = model_package_name or config.model_package_name
    registered = bool(package)
    source = {
        "model_package_name": package,
        "image_uri": image_uri or getattr(config, "custom_image_uri", None),
        "model_framework": None if registered else getattr(config, "model_framework", None),
        "model_framework_version": None if registered else getattr(config, "model_framework_version", None),
        "model_artifact_uri": None if registered else config.s3_uri("model_artifact_location"),
        "instance_type": config.for_stage("inference_instance", stage),
        "image_region": promotion.stage_region(config, stage),
    }
    return {**{key: value for key, value in source.items() if value is not None}, **promotion.orchestrator_aws(config)}
