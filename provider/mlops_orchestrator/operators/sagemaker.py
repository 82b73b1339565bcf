"""SageMaker steps the Amazon provider has no operator for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException

from mlops_orchestrator.images import builtin_image_uri, ecr_repository_arn

if TYPE_CHECKING:
    from airflow.sdk import Context


class ResolveModelOperator(AwsBaseOperator[SageMakerHook]):
    """
    Work out, at run time, which image and artifact a model deployment uses.

    Three sources, as in MWO: a built-in framework (image looked up with the SageMaker SDK in the
    connection's region, which the scheduler must not import), a custom image URI, or a model
    package version from the model registry (its image and artifact read from SageMaker). The
    blueprint needs the artifact and repository even for a registered model, to scope the
    execution role to exactly them.

    :param base_parameters: the stack parameters known at parse time.
    :return: ``base_parameters`` plus ImageUri, ModelArtifactUri, ModelArtifactS3Path,
        EcrRepositoryArn and ModelPackageName.
    """

    aws_hook_class = SageMakerHook
    template_fields: Sequence[str] = aws_template_fields(
        "base_parameters", "model_package_name", "image_uri", "model_artifact_uri"
    )
    template_fields_renderers = {"base_parameters": "json"}
    ui_color = "#d0ebff"

    def __init__(
        self,
        *,
        base_parameters: dict[str, Any],
        model_package_name: str | None = None,
        image_uri: str | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        model_artifact_uri: str | None = None,
        instance_type: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.base_parameters = base_parameters
        self.model_package_name = model_package_name
        self.image_uri = image_uri
        self.model_framework = model_framework
        self.model_framework_version = model_framework_version
        self.model_artifact_uri = model_artifact_uri
        self.instance_type = instance_type

    def execute(self, context: Context) -> dict[str, Any]:
        image, artifact = self._image_and_artifact()
        if not artifact or not artifact.startswith("s3://"):
            raise AirflowException(f"The model artifact must be an s3:// URI, got {artifact!r}")
        parameters = {
            **self.base_parameters,
            "ImageUri": image,
            "ModelArtifactUri": artifact,
            "ModelArtifactS3Path": artifact.removeprefix("s3://"),
            "EcrRepositoryArn": ecr_repository_arn(image, self.hook.conn_partition),
            "ModelPackageName": self.model_package_name or "",
        }
        self.log.info("Model image %s, artifact %s", image, artifact)
        return parameters

    def _image_and_artifact(self) -> tuple[str, str | None]:
        if self.model_package_name:
            package = self.hook.conn.describe_model_package(ModelPackageName=self.model_package_name)
            containers = package.get("InferenceSpecification", {}).get("Containers") or []
            if not containers:
                raise AirflowException(
                    f"model_package_name {self.model_package_name}: the package has no inference container"
                )
            status = package.get("ModelApprovalStatus")
            if status != "Approved":
                self.log.warning(
                    "Model package %s is %s, not Approved; deploying it as the config asks.",
                    self.model_package_name,
                    status,
                )
            return containers[0]["Image"], containers[0].get("ModelDataUrl")
        if self.model_framework:
            try:
                image = builtin_image_uri(
                    self.model_framework,
                    self.model_framework_version or "",
                    self.hook.conn_region_name,
                    self.instance_type,
                )
            except ValueError as err:
                raise AirflowException(str(err)) from err
            return image, self.model_artifact_uri
        if not self.image_uri:
            raise AirflowException("No model source: give model_package_name, model_framework or custom_image_uri")
        return self.image_uri, self.model_artifact_uri
