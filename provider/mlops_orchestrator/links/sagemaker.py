"""Extra links from a task to the SageMaker resources it deployed, in the AWS console."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class SageMakerEndpointConsoleLink(BaseAwsLink):
    """The endpoint's page in the SageMaker console."""

    name = "SageMaker Endpoint"
    key = "mlops_sagemaker_endpoint"
    format_str = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#/endpoints/{endpoint_name}"


class SageMakerTrainingJobConsoleLink(BaseAwsLink):
    """The training job's page in the SageMaker console."""

    name = "SageMaker Training Job"
    key = "mlops_sagemaker_training_job"
    format_str = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#/jobs/{job_name}"


class SageMakerTuningJobConsoleLink(BaseAwsLink):
    """The hyperparameter tuning job's page in the SageMaker console."""

    name = "SageMaker Tuning Job"
    key = "mlops_sagemaker_tuning_job"
    format_str = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#/hyper-tuning-jobs/{job_name}"


class SageMakerAutopilotOutputLink(BaseAwsLink):
    """The Autopilot job's output folder in the S3 console (the SageMaker console has no AutoML page)."""

    name = "Autopilot Job Output"
    key = "mlops_sagemaker_autopilot_output"
    format_str = BASE_AWS_CONSOLE_LINK + "/s3/buckets/{bucket}?region={region_name}&prefix={prefix}"
