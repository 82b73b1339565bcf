"""byom_image_builder: build a custom algorithm image with CodeBuild, push it to ECR, publish it.

DAG: deploy_stack -> build_image -> publish_image (deploy), or delete_stack (deprovision: it
runs when deploy_stack skipped itself, see ``actions``).

- ``deploy_stack`` deploys ``cloudformation/image-builder.yaml``: the ECR repository and the
  CodeBuild project (with its own role and log group). Re-running updates it in place.
- ``build_image`` runs a build of the project: the zip in the assets bucket is the Docker build
  context; the build pushes ``{account}.dkr.ecr.{region}.amazonaws.com/{ecr_repo_name}:{image_tag}``.
  Every run builds and pushes again (same tag: the tag moves to the new image).
- ``publish_image`` reads the pushed image from ECR and publishes its URI and digest to XCom and
  as an asset event (alias ``mlops-orchestrator/image/{dag_id}``, asset
  ``ecr://{account}/{region}/{repository}:{tag}``); a ``byom_realtime_custom`` config with
  ``custom_image_from: {dag_id}`` deploys that image.
- ``delete_stack`` deletes the stack: the project, its logs and the repository *with its images*
  (the blueprint sets ``EmptyOnDelete``: deprovisioning removes what the pipeline built).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_orchestrator.factory.actions import deploy_or_deprovision
from mlops_orchestrator.factory.dag_options import building, new_dag
from mlops_orchestrator.factory.steps import stack_tags
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployStackOperator
from mlops_orchestrator.operators.codebuild import CodeBuildStartBuildOperator
from mlops_orchestrator.operators.ecr import EcrPublishImageOperator, image_alias_name

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from mlops_orchestrator.config import PipelineConfig
    from mlops_orchestrator.factory.context import BuildContext

BLUEPRINT = "image-builder.yaml"
#: The project's name, from the stack outputs (the stack names it; outputs are the contract).
PROJECT_NAME = "{{ ti.xcom_pull(task_ids='deploy_stack')['outputs']['ProjectName'] }}"


def pull_account_ids(config: PipelineConfig) -> list[str]:
    """The stage accounts (``stages`` in the config or defaults file) allowed to pull the image."""
    if config.stages is None:
        return []
    return sorted({getattr(config.stages, stage).account_id for stage in config.stages.names()})


def stack_parameters(config: PipelineConfig) -> dict[str, Any]:
    """The blueprint's parameters: all known at parse time."""
    bucket, _, key = config.s3_uri("custom_algorithm_docker").removeprefix("s3://").partition("/")
    return {
        "RepositoryName": config.ecr_repo_name,
        "ImageTag": config.image_tag,
        "SourceS3Bucket": bucket,
        "SourceS3Key": key,
        "PullAccountIds": pull_account_ids(config),
    }


def build_image_builder_dag(config: PipelineConfig, ctx: BuildContext) -> DAG:
    dag = new_dag(config, ctx)
    stack_name = config.stack_name_or_default(ctx.dag_id)
    aws = {"aws_conn_id": config.aws_conn_id, "region_name": config.region_name}
    poll = {"waiter_delay": ctx.poll_seconds}
    with building(dag):
        deploy = DeployStackOperator(
            task_id="deploy_stack",
            stack_name=stack_name,
            blueprint=BLUEPRINT,
            parameters=stack_parameters(config),
            tags=stack_tags(config, ctx, repository=config.ecr_repo_name),
            **aws,
            **poll,
        )
        build = CodeBuildStartBuildOperator(
            task_id="build_image",
            project_name=PROJECT_NAME,
            environment_variables={"IMAGE_TAG": config.image_tag},
            **aws,
            **poll,
        )
        publish = EcrPublishImageOperator(
            task_id="publish_image",
            repository_name=config.ecr_repo_name,
            image_tag=config.image_tag,
            asset_alias=image_alias_name(ctx.dag_id),
            **aws,
        )
        delete = DeleteStackOperator(task_id="delete_stack", stack_name=stack_name, **aws, **poll)
        deploy >> build >> publish
        deploy_or_deprovision(deploy, delete)
    return dag
