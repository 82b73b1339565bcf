"""ResolveModelOperator against the emulator over HTTP: a registered package with several
containers (an Autopilot candidate's) gives the blueprints every artifact and every repository,
and the realtime and batch blueprints' execution role may then read all of them and pull every image."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from airflow.providers.common.compat.sdk import AirflowException
from mlops_orchestrator.blueprint_files import read_blueprint
from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook
from mlops_orchestrator.operators.sagemaker import ResolveModelOperator

WAIT = {"Delay": 0.1, "MaxAttempts": 100}
CONN_ID = "resolve_model_local"
REGISTRY = "683313688378.dkr.ecr.us-east-1.amazonaws.com"
SKLEARN = f"{REGISTRY}/sagemaker-sklearn-automl:2.5-1-cpu-py3"
XGBOOST = f"{REGISTRY}/sagemaker-xgboost:1.7-1-cpu-py3"
DATA_PROCESSING = "s3://auto-bucket/output/churn-auto/data-processors/model.tar.gz"
ALGORITHM = "s3://auto-bucket/output/churn-auto/tuning/candidate-1/output/model.tar.gz"
# Autopilot's shape: data processing, the algorithm, the inverse label transform (the first image
# and artifact again).
AUTOPILOT_CONTAINERS = [
    {"Image": SKLEARN, "ModelDataUrl": DATA_PROCESSING},
    {"Image": XGBOOST, "ModelDataUrl": ALGORITHM},
    {"Image": SKLEARN, "ModelDataUrl": DATA_PROCESSING},
]
BASE = {"ModelName": "churn-auto"}
#: The parse-time parameters of each blueprint, and its role's policy name.
BLUEPRINTS = {
    "realtime-endpoint.yaml": (
        {
            "EndpointName": "churn-auto-endpoint",
            "InferenceInstance": "ml.m5.large",
            "DataCaptureS3Path": "auto-bucket/capture/churn-auto",
        },
        "model-access",
    ),
    "batch-model.yaml": (
        {
            "BatchInputS3Path": "auto-bucket/batch/in",
            "BatchInputBucket": "auto-bucket",
            "BatchInputPrefix": "batch/in",
            "BatchOutputS3Path": "auto-bucket/batch/out",
        },
        "batch-model-access",
    ),
}


@pytest.fixture
def conn_id(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """An Airflow AWS connection (environment variable) on the emulator."""
    connection = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": local_aws.endpoint_url, "region_name": "us-east-1"},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
    return CONN_ID


def register(sagemaker: Any, group: str, containers: list[dict[str, Any]]) -> str:
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    return sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": containers,
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]


def resolve(conn_id: str, base: dict[str, Any] = BASE, **source: Any) -> dict[str, Any]:
    operator = ResolveModelOperator(task_id="resolve_model", base_parameters=base, aws_conn_id=conn_id, **source)
    return operator.execute({})


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (!Ref, !If...) as nothing."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def deploy(aws_client: Any, conn_id: str, blueprint: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Deploy the blueprint with the parameters (through the stack hook, which comma-joins lists):
    its outputs, and its execution role's policy statements by Sid."""
    body = read_blueprint(blueprint)
    # CloudFormation refuses a parameter its template does not declare (moto ignores it).
    assert set(parameters) <= set(yaml.load(body, Loader=_CfnLoader)["Parameters"])
    stack = f"resolve-{blueprint.removesuffix('.yaml')}"
    CloudFormationStackHook(aws_conn_id=conn_id).deploy_stack(stack, body, parameters)
    cloudformation = aws_client("cloudformation")
    cloudformation.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    role_name = outputs["ExecutionRoleArn"].rsplit("/", 1)[1]
    policy = aws_client("iam").get_role_policy(RoleName=role_name, PolicyName=BLUEPRINTS[blueprint][1])
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    return {"outputs": outputs, "statements": {s["Sid"]: s for s in document["Statement"]}}


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_a_three_container_package_gives_every_artifact_and_repository(sagemaker, aws_client, conn_id, blueprint):
    arn = register(sagemaker, "churn-auto", AUTOPILOT_CONTAINERS)
    base = {**BASE, **BLUEPRINTS[blueprint][0]}

    parameters = resolve(conn_id, base, model_package_name=arn)

    assert parameters == {
        **base,
        "ImageUri": SKLEARN,
        "ModelArtifactUri": DATA_PROCESSING,
        "ModelArtifactS3Path": DATA_PROCESSING.removeprefix("s3://"),
        "EcrRepositoryArn": "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-sklearn-automl",
        "ModelPackageName": arn,
        "ModelArtifactArns": [
            "arn:aws:s3:::auto-bucket/output/churn-auto/data-processors/model.tar.gz",
            "arn:aws:s3:::auto-bucket/output/churn-auto/tuning/candidate-1/output/model.tar.gz",
        ],
        "EcrRepositoryArns": [
            "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-sklearn-automl",
            "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost",
        ],
    }

    # The blueprint takes them as they are: the role may read both artifacts and pull from both
    # repositories, and nothing else; the model is the package (all its containers).
    stack = deploy(aws_client, conn_id, blueprint, parameters)
    assert stack["statements"]["ReadModelArtifact"]["Resource"] == parameters["ModelArtifactArns"]
    assert stack["statements"]["PullImage"]["Resource"] == parameters["EcrRepositoryArns"]
    model = sagemaker.describe_model(ModelName=stack["outputs"]["ModelName"])
    assert model["PrimaryContainer"] == {"ModelPackageName": arn}


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_a_single_model_keeps_one_artifact_and_one_repository(sagemaker, aws_client, conn_id, blueprint):
    parameters = resolve(
        conn_id,
        {**BASE, **BLUEPRINTS[blueprint][0]},
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/team/ranker:2.1",
        model_artifact_uri="s3://auto-bucket/models/ranker/model.tar.gz",
    )

    assert "ModelArtifactArns" not in parameters and "EcrRepositoryArns" not in parameters
    assert parameters["ModelArtifactS3Path"] == "auto-bucket/models/ranker/model.tar.gz"
    assert parameters["EcrRepositoryArn"] == "arn:aws:ecr:us-east-1:123456789012:repository/team/ranker"
    statements = deploy(aws_client, conn_id, blueprint, parameters)["statements"]
    assert statements["ReadModelArtifact"]["Resource"] == "arn:aws:s3:::auto-bucket/models/ranker/model.tar.gz"
    assert statements["PullImage"]["Resource"] == parameters["EcrRepositoryArn"]


def test_a_container_without_an_artifact_has_nothing_to_read(sagemaker, conn_id):
    baked = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/postprocess:1"
    arn = register(sagemaker, "with-baked", [*AUTOPILOT_CONTAINERS[:2], {"Image": baked}])

    parameters = resolve(conn_id, model_package_name=arn)

    assert parameters["ModelArtifactArns"] == [
        f"arn:aws:s3:::{DATA_PROCESSING.removeprefix('s3://')}",
        f"arn:aws:s3:::{ALGORITHM.removeprefix('s3://')}",
    ]
    assert parameters["EcrRepositoryArns"][-1] == "arn:aws:ecr:us-east-1:123456789012:repository/team/postprocess"


def test_a_package_whose_image_is_not_in_ecr_names_the_container(sagemaker, conn_id):
    arn = register(sagemaker, "outside-ecr", [AUTOPILOT_CONTAINERS[0], {"Image": "docker.io/me/model:1"}])

    with pytest.raises(AirflowException) as raised:
        resolve(conn_id, model_package_name=arn)

    assert str(raised.value).startswith(f"model_package_name {arn}: container 2: the image: ")
    assert "'docker.io/me/model:1' is not an ECR image URI" in str(raised.value)


def test_a_package_without_any_artifact_says_so(sagemaker, conn_id):
    arn = register(sagemaker, "no-artifact", [{"Image": SKLEARN}])

    with pytest.raises(AirflowException, match="no inference container has a ModelDataUrl"):
        resolve(conn_id, model_package_name=arn)


def test_uncompressed_model_data_is_refused_with_the_reason(sagemaker, conn_id):
    source = {"S3DataSource": {"S3Uri": "s3://auto-bucket/llm/", "S3DataType": "S3Prefix", "CompressionType": "None"}}
    arn = register(sagemaker, "uncompressed", [{"Image": SKLEARN, "ModelDataSource": source}])

    with pytest.raises(AirflowException) as raised:
        resolve(conn_id, model_package_name=arn)

    assert str(raised.value).startswith(f"model_package_name {arn}: container 1 gives its model as ModelDataSource")


class _TaskInstance:
    """What DeployStackOperator.execute needs of a task instance: XCom in and out."""

    task_id = "deploy_stack"

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return self.xcom.get(key)


def test_the_deploy_operator_resolves_its_model_source_through_the_sources_connection(
    sagemaker, aws_client, conn_id, local_aws, monkeypatch
):
    """deploy_stack resolves the model itself (no resolve_model task): the registry is read through
    ``model_source``'s connection, the stack deployed through the operator's, and what was resolved
    is in XCom for the resume after a deferral and for people reading the run."""
    from mlops_orchestrator.operators.cloudformation import DeployEndpointStackOperator

    stage = {"conn_type": "aws", "login": "testing", "password": "testing",
             "extra": {"endpoint_url": local_aws.endpoint_url, "region_name": "us-east-1"}}
    monkeypatch.setenv("AIRFLOW_CONN_RESOLVE_MODEL_STAGE", json.dumps(stage))
    arn = register(sagemaker, "churn-deploy", AUTOPILOT_CONTAINERS)
    base = {**BASE, **BLUEPRINTS["realtime-endpoint.yaml"][0]}
    operator = DeployEndpointStackOperator(
        task_id="deploy_stack",
        stack_name="resolve-in-deploy",
        blueprint="realtime-endpoint.yaml",
        parameters=base,
        model_source={"model_package_name": arn, "aws_conn_id": conn_id},
        deferrable=False,
        waiter_delay=1,
        aws_conn_id="resolve_model_stage",
    )
    ti = _TaskInstance()

    result = operator.execute({"ti": ti})

    assert result["action"] == "create"
    assert ti.xcom["parameters"] == resolve(conn_id, base, model_package_name=arn)
    assert ti.xcom["parameters"]["ModelArtifactArns"][1].endswith("candidate-1/output/model.tar.gz")
    role_name = result["outputs"]["ExecutionRoleArn"].rsplit("/", 1)[1]
    document = aws_client("iam").get_role_policy(RoleName=role_name, PolicyName="model-access")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["PullImage"]["Resource"] == ti.xcom["parameters"]["EcrRepositoryArns"]
    assert "ModelName" in result["outputs"]


def test_a_model_source_with_an_unknown_key_names_it():
    from mlops_orchestrator.model_source import resolve_model_source

    with pytest.raises(AirflowException, match="model_source has unknown key.s. model_pakage_name"):
        resolve_model_source({"model_pakage_name": "x"}, BASE, log=None)
