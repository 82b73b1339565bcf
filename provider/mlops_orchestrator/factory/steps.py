"""Tasks and stack settings that several pipeline families build the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_orchestrator.operators.sagemaker import ResolveModelOperator

if TYPE_CHECKING:
    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext


def stack_tags(config: PipelineConfig, ctx: BuildContext, **extra: str) -> dict[str, str]:
    """Tags on a pipeline's stack (and so on its resources) that tie them back to the pipeline."""
    return {
        "mlops-orchestrator:dag-id": ctx.dag_id,
        "mlops-orchestrator:pipeline-type": config.pipeline_type,
        **{f"mlops-orchestrator:{key.replace('_', '-')}": value for key, value in extra.items()},
    }


def resolve_model_task(
    config: PipelineConfig,
    stage: str,
    base_parameters: dict[str, Any],
    *,
    image_uri: str | None = None,
    **aws: Any,
) -> ResolveModelOperator:
    """
    The ``resolve_model`` task of a model deployment (realtime or batch): the config's model
    source — a registered package, a built-in framework, or a custom image (``image_uri``
    overrides the config's, e.g. with a template reading an image builder's output).
    """
    registered = bool(config.model_package_name)
    return ResolveModelOperator(
        task_id="resolve_model",
        base_parameters=base_parameters,
        model_package_name=config.model_package_name,
        image_uri=image_uri or getattr(config, "custom_image_uri", None),
        model_framework=None if registered else getattr(config, "model_framework", None),
        model_framework_version=None if registered else getattr(config, "model_framework_version", None),
        model_artifact_uri=None if registered else config.s3_uri("model_artifact_location"),
        instance_type=config.for_stage("inference_instance", stage),
        **aws,
    )
