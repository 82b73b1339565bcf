"""Extra links from a task to the SageMaker resources it deployed, in the AWS console."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class SageMakerEndpointConsoleLink(BaseAwsLink):
    """The endpoint's page in the SageMaker console."""

    name = "SageMaker Endpoint"
    key = "mlops_sagemaker_endpoint"
    format_str = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#/endpoints/{endpoint_name}"
