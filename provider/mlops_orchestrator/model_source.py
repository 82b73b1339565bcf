"""
Which images and artifacts a model deployment uses, worked out at run time.

Three sources, as in MWO: a built-in framework (image looked up with the SageMaker SDK in the
deployment's region, which the scheduler must not import), a custom image URI, or a model package
version from the model registry (its containers read from SageMaker). The blueprints need the
artifacts and repositories even for a registered model, to scope the execution role to exactly
them. A registered package may hold several inference containers (an Autopilot candidate has two
or three, each with its own image and artifact), and the model SageMaker builds from it runs all
of them, so the role must read every artifact and pull every image.

The deploy stack operators resolve a ``model_source`` this way right before they deploy (one task
instead of two: each task costs a worker process); ``ResolveModelOperator`` does it as a task of
its own for DAGs that want the parameters in XCom before anything deploys.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from mlops_orchestrator.images import builtin_image_uri, ecr_repository_arn

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

#: The keys of a ``model_source``: where the model comes from, and the connection that reads it.
MODEL_SOURCE_KEYS = frozenset(
    {
        "model_package_name",
        "image_uri",
        "model_framework",
        "model_framework_version",
        "model_artifact_uri",
        "instance_type",
        "image_region",
        "aws_conn_id",
        "region_name",
    }
)


class ModelResolver:
    """
    One model source resolved through one SageMaker connection (the account holding the registry).

    :param image_region: the region the model is deployed in, whose built-in image is looked up
        (default: the connection's; a multi-account stage may deploy in another region than the
        orchestrator account, whose connection reads the model registry).
    """

    def __init__(
        self,
        hook: SageMakerHook,
        log: logging.Logger | Any,
        *,
        model_package_name: str | None = None,
        image_uri: str | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        model_artifact_uri: str | None = None,
        instance_type: str | None = None,
        image_region: str | None = None,
    ):
        self.hook = hook
        self.log = log
        self.model_package_name = model_package_name
        self.image_uri = image_uri
        self.model_framework = model_framework
        self.model_framework_version = model_framework_version
        self.model_artifact_uri = model_artifact_uri
        self.instance_type = instance_type
        self.image_region = image_region

    def parameters(self, base_parameters: dict[str, Any]) -> dict[str, Any]:
        """
        ``base_parameters`` plus ImageUri, ModelArtifactUri, ModelArtifactS3Path, EcrRepositoryArn
        (the one model, or a package's first container) and ModelPackageName; for a package also
        ModelArtifactArns and EcrRepositoryArns: the S3 object ARNs of every container's artifact
        and the ARNs of every container's ECR repository, without repeats (lists; the stack
        operators comma-join them for the blueprints' CommaDelimitedList).
        """
        if self.model_package_name:
            return self._package_parameters(base_parameters, self.model_package_name)
        image, artifact = self._image_and_artifact()
        if not artifact or not artifact.startswith("s3://"):
            raise AirflowException(f"The model artifact must be an s3:// URI, got {artifact!r}")
        self.log.info("Model image %s, artifact %s", image, artifact)
        return self._model_parameters(base_parameters, image, artifact, self._repository_arn(image, "The model image"))

    def _model_parameters(
        self, base_parameters: dict[str, Any], image: str, artifact: str, repository_arn: str
    ) -> dict[str, Any]:
        return {
            **base_parameters,
            "ImageUri": image,
            "ModelArtifactUri": artifact,
            "ModelArtifactS3Path": artifact.removeprefix("s3://"),
            "EcrRepositoryArn": repository_arn,
            "ModelPackageName": self.model_package_name or "",
        }

    def _package_parameters(self, base_parameters: dict[str, Any], package_name: str) -> dict[str, Any]:
        """Every container's artifact and repository; the first ones fill the single-model parameters."""
        containers = self._package_containers(package_name)
        artifacts: list[str] = []
        repositories: list[str] = []
        for number, container in enumerate(containers, start=1):
            where = f"model_package_name {package_name}: container {number}"
            repositories.append(self._repository_arn(container.get("Image") or "", f"{where}: the image"))
            artifact = container.get("ModelDataUrl")
            if artifact is None and container.get("ModelDataSource"):
                raise AirflowException(
                    f"{where} gives its model as ModelDataSource (uncompressed model data), which the "
                    "blueprints cannot scope the execution role to; register a ModelDataUrl (model.tar.gz)"
                )
            if artifact is None:
                continue  # e.g. a container whose model is inside its image: nothing to read
            if not artifact.startswith("s3://"):
                raise AirflowException(f"{where}: the model artifact must be an s3:// URI, got {artifact!r}")
            artifacts.append(artifact)
        if not artifacts:
            raise AirflowException(
                f"model_package_name {package_name}: no inference container has a ModelDataUrl, "
                "so there is no model artifact to deploy"
            )
        partition = self.hook.conn_partition
        parameters = self._model_parameters(base_parameters, containers[0]["Image"], artifacts[0], repositories[0])
        parameters["ModelArtifactArns"] = list(
            dict.fromkeys(f"arn:{partition}:s3:::{a.removeprefix('s3://')}" for a in artifacts)
        )
        parameters["EcrRepositoryArns"] = list(dict.fromkeys(repositories))
        self.log.info(
            "Model package %s: %d container(s), images %s, artifacts %s",
            package_name,
            len(containers),
            ", ".join(c["Image"] for c in containers),
            ", ".join(artifacts),
        )
        return parameters

    def _package_containers(self, package_name: str) -> list[dict[str, Any]]:
        package = self.hook.conn.describe_model_package(ModelPackageName=package_name)
        containers = package.get("InferenceSpecification", {}).get("Containers") or []
        if not containers:
            raise AirflowException(
                f"model_package_name {package_name}: the package has no inference container"
            )
        status = package.get("ModelApprovalStatus")
        if status != "Approved":
            self.log.warning(
                "Model package %s is %s, not Approved; deploying it as the config asks.", package_name, status
            )
        return containers

    def _repository_arn(self, image: str, what: str) -> str:
        try:
            return ecr_repository_arn(image, self.hook.conn_partition)
        except ValueError as err:
            raise AirflowException(f"{what}: {err}; the execution role can only pull from ECR") from err

    def _image_and_artifact(self) -> tuple[str, str | None]:
        if self.model_framework:
            try:
                image = builtin_image_uri(
                    self.model_framework,
                    self.model_framework_version or "",
                    self.image_region or self.hook.conn_region_name,
                    self.instance_type,
                )
            except ValueError as err:
                raise AirflowException(str(err)) from err
            return image, self.model_artifact_uri
        if not self.image_uri:
            raise AirflowException("No model source: give model_package_name, model_framework or custom_image_uri")
        return self.image_uri, self.model_artifact_uri


def resolve_model_source(
    model_source: dict[str, Any], base_parameters: dict[str, Any], log: logging.Logger | Any
) -> dict[str, Any]:
    """
    ``base_parameters`` plus what ``model_source`` resolves to (``ModelResolver.parameters``),
    read through the source's own connection (``aws_conn_id``, ``region_name``): in a multi-account
    deployment the registry is in the orchestrator account, not in the stage's.
    """
    unknown = set(model_source) - MODEL_SOURCE_KEYS
    if unknown:
        raise AirflowException(
            f"model_source has unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(MODEL_SOURCE_KEYS))}"
        )
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    source = dict(model_source)
    hook = SageMakerHook(aws_conn_id=source.pop("aws_conn_id", "aws_default"), region_name=source.pop("region_name", None))
    return ModelResolver(hook, log, **source).parameters(base_parameters)


class DeploysModelSource:
    """
    A deploy operator's ``model_source``: its ``parameters`` plus the model's, resolved when the
    task starts (``ModelResolver``) and kept in the try's XCom (key ``parameters``) for the
    operator's resume after a deferral and for people reading the run.

    A mixin without ``__init__``, listed after the operator's base (see operators/flat_aws.py).
    """

    model_source: dict[str, Any] | None
    parameters: dict[str, Any]

    def resolve_model_source(self, context: Any) -> None:
        if not self.model_source:
            return
        self.parameters = resolve_model_source(self.model_source, dict(self.parameters), self.log)  # type: ignore[attr-defined]
        context["ti"].xcom_push(key="parameters", value=self.parameters)

    def resolved_model_source(self, context: Any) -> None:
        """After a deferral: the parameters this try resolved before it."""
        if not self.model_source:
            return
        resolved = context["ti"].xcom_pull(task_ids=self.task_id, key="parameters")  # type: ignore[attr-defined]
        if resolved is None:
            raise AirflowException(
                f"{self.task_id}: the model parameters resolved before the deferral are not in XCom "  # type: ignore[attr-defined]
                "(key 'parameters'); clear the task to resolve and deploy again"
            )
        self.parameters = resolved
