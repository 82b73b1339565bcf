"""What a pipeline left in AWS: its stacks (found by the dag-id tag), their resources and endpoints."""

from __future__ import annotations

from typing import Any

DAG_ID_TAG = "mlops-orchestrator:dag-id"


def pipeline_resources(session_client, dag_id: str) -> dict[str, Any]:
    """
    Stacks tagged with the pipeline's DAG id, each with its status, outputs and resources, and
    the state of every SageMaker endpoint among them.

    :param session_client: ``callable(service_name) -> boto3 client`` (already pointed at the
        emulator or at AWS).
    """
    cloudformation = session_client("cloudformation")
    sagemaker = session_client("sagemaker")
    stacks = []
    endpoints = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if tags.get(DAG_ID_TAG) != dag_id:
                continue
            resources = cloudformation.describe_stack_resources(StackName=stack["StackId"])["StackResources"]
            stacks.append(
                {
                    "name": stack["StackName"],
                    "status": stack["StackStatus"],
                    "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
                    "resources": [
                        {
                            "logical_id": r["LogicalResourceId"],
                            "type": r["ResourceType"],
                            "physical_id": r.get("PhysicalResourceId", ""),
                            "status": r["ResourceStatus"],
                        }
                        for r in resources
                    ],
                }
            )
            for resource in resources:
                if resource["ResourceType"] != "AWS::SageMaker::Endpoint":
                    continue
                name = resource.get("PhysicalResourceId", "").rsplit("/", 1)[-1]
                described = sagemaker.describe_endpoint(EndpointName=name)
                endpoints.append(
                    {
                        "name": described["EndpointName"],
                        "status": described["EndpointStatus"],
                        "endpoint_config": described.get("EndpointConfigName"),
                        "failure_reason": described.get("FailureReason"),
                    }
                )
    return {"stacks": stacks, "endpoints": endpoints}
