"""
The requests of the training pipelines: CreateTrainingJob, CreateHyperParameterTuningJob and
CreateAutoMLJob (v1), built from a validated config, and the per-run job names.

Pure functions (no AWS call, no SDK import), so the DAG factory can build the request at parse
time and the tests can check every field. Each request is what MWO's SageMaker SDK calls sent
(``Estimator``, ``HyperparameterTuner``, ``AutoML``), without the job name, which the operator
derives from the DAG run (``job_name_for``), and without tags, which the operator adds. Where MWO
was weaker we do better: KMS and VPC reach Autopilot too, and spot checkpoints go to a folder of
their own job (the operator appends the job name), so a new run never resumes an old run's model.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_orchestrator.config.training import (
        AutopilotTrainingConfig,
        TrainingBuiltinConfig,
        TrainingJobConfig,
        TunerBuiltinConfig,
    )

__all__ = [
    "CHECKPOINTS_FOLDER",
    "JOB_NAME_LIMITS",
    "autopilot_request",
    "hyperparameter_value",
    "job_name_for",
    "job_name_prefix",
    "job_name_stem",
    "training_request",
    "tuning_request",
]

#: SageMaker's length limit of each kind of job name.
JOB_NAME_LIMITS = {"training": 63, "tuning": 32, "automl": 32}
#: The folder under the output location where spot jobs keep checkpoints (one subfolder per job).
CHECKPOINTS_FOLDER = "checkpoints"
_DIGEST_LENGTH = 12
_NAME_BAD_CHARS = re.compile(r"[^A-Za-z0-9-]+")


# --------------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------------


def job_name_for(kind: str, prefix: str, dag_id: str, run_id: str) -> str:
    """
    ``{prefix}-{12 hex digits of sha256(dag_id, run_id)}``, within SageMaker's limit for ``kind``
    (training 63, tuning 32, automl 32 characters).

    The same for every try of a task in one DAG run (a retry finds the job its first try
    started), different for every run and every DAG. The prefix is cut to fit, never the digest.
    """
    digest = hashlib.sha256(f"{dag_id}\n{run_id}".encode()).hexdigest()[:_DIGEST_LENGTH]
    return f"{job_name_stem(kind, prefix)}-{digest}"


def job_name_stem(kind: str, prefix: str) -> str:
    """
    What every run's job name starts with (before ``-{digest}``): the prefix with only letters,
    digits and hyphens, cut to fit ``kind``'s limit (``kind`` itself when nothing is left).
    Finding a pipeline's jobs by name (e.g. to stop them) searches for this.
    """
    try:
        limit = JOB_NAME_LIMITS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; expected one of {', '.join(JOB_NAME_LIMITS)}") from None
    stem = _NAME_BAD_CHARS.sub("-", prefix or "").strip("-")
    return stem[: limit - _DIGEST_LENGTH - 1].rstrip("-") or kind


def job_name_prefix(config: TrainingJobConfig | AutopilotTrainingConfig) -> str:
    """
    The start of the config's job names: ``job_name`` when set, else (tuner) the tuner's
    ``base_tuning_job_name``, else ``model_name``.

    MWO used ``job_name`` verbatim for its one job; here every DAG run trains again, so it is
    the prefix of each run's own name (``job_name_for``), cut to SageMaker's limit.
    """
    if config.job_name:
        return config.job_name
    tuner = getattr(config, "tuner_configs", None)
    if tuner is not None and tuner.base_tuning_job_name:
        return tuner.base_tuning_job_name
    return config.model_name


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


def hyperparameter_value(value: Any) -> str:
    """SageMaker takes hyperparameters as strings: booleans as ``true``/``false``, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _channel(config: TrainingJobConfig, name: str, uri: str) -> dict[str, Any]:
    """One input channel, as the SDK's ``TrainingInput`` with MWO's data settings describes it."""
    source: dict[str, Any] = {
        "S3DataType": config.s3_data_type,
        "S3Uri": uri,
        "S3DataDistributionType": config.data_distribution,
    }
    if config.attribute_names:
        source["AttributeNames"] = list(config.attribute_names)
    channel: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {"S3DataSource": source},
        "ContentType": config.content_type,
        "InputMode": config.data_input_mode,
    }
    if config.compression_type:
        channel["CompressionType"] = config.compression_type
    if config.data_record_wrapping:
        channel["RecordWrapperType"] = config.data_record_wrapping
    return channel


def _vpc(config: Any) -> dict[str, Any] | None:
    if not config.subnet_ids:
        return None
    return {"SecurityGroupIds": list(config.security_group_ids or []), "Subnets": list(config.subnet_ids)}


def _job_definition(config: TrainingJobConfig, stage: str, role_arn: str, image_uri: str | None) -> dict[str, Any]:
    """What a training job and a tuning job's ``TrainingJobDefinition`` share."""
    output_uri = config.s3_uri("job_output_location", stage).rstrip("/")
    kms_key = config.for_stage("kms_key_arn", stage)
    algorithm: dict[str, Any] = {"TrainingInputMode": config.data_input_mode}
    if image_uri:
        algorithm["TrainingImage"] = image_uri
    channels = [_channel(config, "train", config.s3_uri("training_data", stage))]
    if config.validation_data:
        channels.append(_channel(config, "validation", config.s3_uri("validation_data", stage)))
    output: dict[str, Any] = {"S3OutputPath": output_uri}
    resources: dict[str, Any] = {
        "InstanceType": config.for_stage("instance_type", stage),
        "InstanceCount": config.instance_count,
        "VolumeSizeInGB": config.for_stage("instance_volume_size", stage),
    }
    if kms_key:
        output["KmsKeyId"] = kms_key
        resources["VolumeKmsKeyId"] = kms_key
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": config.max_runtime_per_job}
    definition: dict[str, Any] = {
        "AlgorithmSpecification": algorithm,
        "RoleArn": role_arn,
        "InputDataConfig": channels,
        "OutputDataConfig": output,
        "ResourceConfig": resources,
        "StoppingCondition": stopping,
        "EnableInterContainerTrafficEncryption": config.encrypt_inner_traffic,
        "EnableManagedSpotTraining": config.use_spot_instances,
    }
    if config.use_spot_instances:
        stopping["MaxWaitTimeInSeconds"] = config.max_wait_time_spot_instances
        definition["CheckpointConfig"] = {"S3Uri": f"{output_uri}/{CHECKPOINTS_FOLDER}"}
    vpc = _vpc(config)
    if vpc:
        definition["VpcConfig"] = vpc
    return definition


def training_request(
    config: TrainingBuiltinConfig, stage: str, *, role_arn: str, image_uri: str | None
) -> dict[str, Any]:
    """
    The CreateTrainingJob request of a model_training_builtin config, without TrainingJobName.

    Channels ``train`` and (when given) ``validation`` carry the config's content type, S3 data
    type, distribution, compression, input mode, record wrapping and attribute names. With spot
    instances the job may wait ``max_wait_time_spot_instances`` and checkpoints under
    ``{job_output_location}/checkpoints`` (the operator adds ``/{job name}``). ``image_uri`` may be
    None: the operator then looks the built-in image up at run time. ``role_arn`` may be a template.
    """
    request = _job_definition(config, stage, role_arn, image_uri)
    request["HyperParameters"] = {
        name: hyperparameter_value(value) for name, value in config.algo_hyperparameters.items()
    }
    return request


# --------------------------------------------------------------------------------------------
# tuning
# --------------------------------------------------------------------------------------------


def _parameter_ranges(config: TunerBuiltinConfig) -> dict[str, list[dict[str, Any]]]:
    ranges: dict[str, list[dict[str, Any]]] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for name, rng in config.hyperparameters_ranges.items():
        if rng.kind == "categorical":
            values = [hyperparameter_value(v) for v in rng.values or []]
            ranges["CategoricalParameterRanges"].append({"Name": name, "Values": values})
            continue
        low, high = rng.min_value, rng.max_value
        if rng.kind == "integer":
            low, high = int(low), int(high)  # type: ignore[arg-type]
        key = "IntegerParameterRanges" if rng.kind == "integer" else "ContinuousParameterRanges"
        ranges[key].append(
            {"Name": name, "MinValue": str(low), "MaxValue": str(high), "ScalingType": rng.scaling_type or "Auto"}
        )
    return ranges


def tuning_request(
    config: TunerBuiltinConfig, stage: str, *, role_arn: str, image_uri: str | None
) -> dict[str, Any]:
    """
    The CreateHyperParameterTuningJob request of a model_tuner_builtin config, without its name.

    The training job definition is ``training_request``'s; the tuned hyperparameters are left
    out of the static ones, as the SDK's ``HyperparameterTuner`` does. ``tuner_configs`` gives the
    strategy, objective, job limits, early stopping, metric definitions and seed.
    """
    tuner = config.tuner_configs
    definition = _job_definition(config, stage, role_arn, image_uri)
    definition["StaticHyperParameters"] = {
        name: hyperparameter_value(value)
        for name, value in config.algo_hyperparameters.items()
        if name not in config.hyperparameters_ranges
    }
    if tuner.metric_definitions:
        definition["AlgorithmSpecification"]["MetricDefinitions"] = [
            {"Name": m.Name, "Regex": m.Regex} for m in tuner.metric_definitions
        ]
    limits: dict[str, Any] = {
        "MaxNumberOfTrainingJobs": tuner.max_jobs,
        "MaxParallelTrainingJobs": tuner.max_parallel_jobs,
    }
    if tuner.max_runtime_in_seconds:
        limits["MaxRuntimeInSeconds"] = tuner.max_runtime_in_seconds
    tuning_config: dict[str, Any] = {
        "Strategy": tuner.strategy,
        "HyperParameterTuningJobObjective": {"Type": tuner.objective_type, "MetricName": tuner.objective_metric_name},
        "ResourceLimits": limits,
        "ParameterRanges": _parameter_ranges(config),
        "TrainingJobEarlyStoppingType": tuner.early_stopping_type,
    }
    if tuner.random_seed is not None:
        tuning_config["RandomSeed"] = tuner.random_seed
    return {"HyperParameterTuningJobConfig": tuning_config, "TrainingJobDefinition": definition}


# --------------------------------------------------------------------------------------------
# Autopilot
# --------------------------------------------------------------------------------------------


def autopilot_request(config: AutopilotTrainingConfig, stage: str, *, role_arn: str) -> dict[str, Any]:
    """
    The CreateAutoMLJob (v1) request of a model_autopilot_training config, without its name.

    As the SDK's ``AutoML`` sends it (a CSV with header under ``training_data``), plus what MWO
    ignored: KMS on the output and the volumes, and the VPC.
    """
    kms_key = config.for_stage("kms_key_arn", stage)
    channel: dict[str, Any] = {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": config.s3_uri("training_data", stage)}},
        "TargetAttributeName": config.target_attribute,
    }
    if config.compression_type:
        channel["CompressionType"] = config.compression_type
    output: dict[str, Any] = {"S3OutputPath": config.s3_uri("job_output_location", stage).rstrip("/")}
    security: dict[str, Any] = {"EnableInterContainerTrafficEncryption": config.encrypt_inner_traffic}
    if kms_key:
        output["KmsKeyId"] = kms_key
        security["VolumeKmsKeyId"] = kms_key
    vpc = _vpc(config)
    if vpc:
        security["VpcConfig"] = vpc
    request: dict[str, Any] = {
        "InputDataConfig": [channel],
        "OutputDataConfig": output,
        "AutoMLJobConfig": {
            "CompletionCriteria": {
                "MaxCandidates": config.job_max_candidates,
                "MaxRuntimePerTrainingJobInSeconds": config.max_runtime_per_job,
                "MaxAutoMLJobRuntimeInSeconds": config.total_max_runtime,
            },
            "SecurityConfig": security,
        },
        "GenerateCandidateDefinitionsOnly": config.generate_definition_only,
        "RoleArn": role_arn,
    }
    if config.problem_type:
        request["ProblemType"] = config.problem_type
    if config.job_objective:
        request["AutoMLJobObjective"] = {"MetricName": config.job_objective}
    return request
