"""SageMaker endpoints that take time and can fail, UpdateEndpoint, and their CloudFormation handling.

moto 5.2 creates endpoints ``InService`` at once, has no UpdateEndpoint, deletes at once, and its
CloudFormation handlers ignore the ``ModelName``/``EndpointConfigName``/``EndpointName``
properties and replace an endpoint (delete + create) where CloudFormation calls UpdateEndpoint.
Here:

- CreateEndpoint shows ``Creating`` for ``endpoint_seconds``, then ``InService``, or ``Failed``
  with ``FailureReason`` when a failure rule of kind ``endpoint`` matches;
- UpdateEndpoint shows ``Updating``, then serves the new config, or - like SageMaker - goes back
  to ``InService`` on the old config with the rule's ``FailureReason``;
- DeleteEndpoint shows ``Deleting``, then the endpoint is gone;
- the CloudFormation resource types honour their name properties, a Model accepts
  ``ModelPackageName`` containers (or ``Containers``) without an image, and an Endpoint whose
  ``EndpointConfigName`` changed is updated in place through UpdateEndpoint.

Statuses are settled lazily (see ``lifecycle``) whenever an endpoint is described or listed.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import (
    FakeEndpoint,
    FakeEndpointConfig,
    Model,
    SageMakerModelBackend,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse

from mlops_orchestrator.local.cloudformation import resources as cfn_resources
from mlops_orchestrator.local.lifecycle import (
    LOCK,
    STATE,
    Lifecycle,
    attach,
    lifecycle_or_attach,
    now,
    register_failure_kind,
    settle_before_describe,
    settle_before_list,
    settle_status,
    to_datetime,
)
from mlops_orchestrator.local.patching import Patches

ENDPOINT_FAILURES = "endpoint"
_CONTAINER_NAMES = ("Image", "ModelDataUrl", "ModelPackageName")

_patches = Patches()


def install() -> None:
    """Extend moto's SageMaker backend, responses and CloudFormation handlers (idempotent)."""
    if _patches.installed:
        return
    register_failure_kind(
        ENDPOINT_FAILURES,
        "the endpoint name, the endpoint config name, or a model's container Image, "
        "ModelDataUrl or ModelPackageName",
    )
    backend = SageMakerModelBackend
    _patches.set(backend, "create_endpoint", _create_endpoint)
    # a settled delete makes describe say "Could not find"
    _patches.set(backend, "describe_endpoint", settle_before_describe(_original("describe_endpoint"), "endpoints", _settle))
    _patches.set(backend, "delete_endpoint", _delete_endpoint)
    _patches.set(backend, "list_endpoints", settle_before_list(_original("list_endpoints"), "endpoints", _settle))
    _patches.set(backend, "update_endpoint", _update_endpoint)
    _patches.set(SageMakerResponse, "update_endpoint", _update_endpoint_response)

    _patches.set(Model, "cloudformation_name_type", staticmethod(lambda: "ModelName"))
    _patches.set(FakeEndpointConfig, "cloudformation_name_type", staticmethod(lambda: "EndpointConfigName"))
    _patches.set(FakeEndpoint, "cloudformation_name_type", staticmethod(lambda: "EndpointName"))
    _patches.set(Model, "create_from_cloudformation_json", classmethod(_create_model_from_cloudformation))
    cfn_resources.register_handler("AWS::SageMaker::Model", cfn_resources.ResourceHandler())
    cfn_resources.register_handler("AWS::SageMaker::EndpointConfig", cfn_resources.ResourceHandler())
    cfn_resources.register_handler("AWS::SageMaker::Endpoint", EndpointHandler())


def uninstall() -> None:
    _patches.undo()


# --- endpoints -------------------------------------------------------------------------------


def _original(name: str) -> Any:
    return _patches.original(SageMakerModelBackend, name)


def _endpoint_arn(backend: SageMakerModelBackend, name: str) -> str:
    return FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)


def failure_names(backend: SageMakerModelBackend, endpoint_name: str, config_name: str) -> list[str]:
    """What an ``endpoint`` failure rule's ``match`` is compared with (the ARN names the account)."""
    names = [endpoint_name, config_name, _endpoint_arn(backend, endpoint_name)]
    config = backend.endpoint_configs.get(config_name)
    for variant in config.production_variants if config else []:
        model = backend._models.get(variant.get("ModelName"))
        if model is None:
            continue
        for container in [model.primary_container or {}, *(model.containers or [])]:
            names.extend(str(container.get(key) or "") for key in _CONTAINER_NAMES)
    return [name for name in names if name]


def _lifecycle(endpoint: FakeEndpoint) -> Lifecycle:
    return lifecycle_or_attach(endpoint, "endpoint_status")  # made before the extension: InService


def _settle(endpoint: FakeEndpoint) -> str:
    return settle_status(endpoint, "endpoint_status")


def _settle_all(backend: SageMakerModelBackend) -> None:
    for endpoint in list(backend.endpoints.values()):
        _settle(endpoint)


def _capture_summary(config: FakeEndpointConfig) -> dict[str, Any] | None:
    """DescribeEndpoint's DataCaptureConfig (a summary with a status), None without capture."""
    capture = config.data_capture_config or {}
    if not capture:
        return None
    enabled = bool(capture.get("EnableCapture", True))
    summary = {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": capture.get("InitialSamplingPercentage"),
        "DestinationS3Uri": capture.get("DestinationS3Uri"),
        "KmsKeyId": capture.get("KmsKeyId"),
    }
    return {key: value for key, value in summary.items() if value is not None}


def _create_endpoint(
    self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str, tags: list[dict[str, str]]
) -> FakeEndpoint:
    with LOCK:
        _settle_all(self)  # a finished delete frees the name
        if endpoint_name in self.endpoints:
            raise ValidationError(
                message=f'Cannot create already existing endpoint "{_endpoint_arn(self, endpoint_name)}".'
            )
        endpoint = _original("create_endpoint")(self, endpoint_name, endpoint_config_name, tags)
        endpoint.data_capture_config = _capture_summary(self.endpoint_configs[endpoint_config_name])
        reason = STATE.failures.take(
            ENDPOINT_FAILURES, failure_names(self, endpoint_name, endpoint_config_name)
        )
        attach(endpoint, Lifecycle("Creating")).run(
            "Creating", STATE.settings.endpoint_seconds, "InService", failure_reason=reason
        )
        _settle(endpoint)
        return endpoint






def _delete_endpoint(self: SageMakerModelBackend, endpoint_name: str) -> None:
    with LOCK:
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            return _original("delete_endpoint")(self, endpoint_name)  # raises "Could not find"
        if _settle(endpoint) == "Deleting":
            return None

        def gone(at: float) -> None:
            if self.endpoints.get(endpoint_name) is endpoint:
                del self.endpoints[endpoint_name]

        lifecycle = _lifecycle(endpoint)
        lifecycle.cancel()
        lifecycle.run("Deleting", STATE.settings.endpoint_seconds, "Deleted", on_done=gone)
        _settle(endpoint)
        return None


def _update_endpoint(
    self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str, **_ignored: Any
) -> str:
    """UpdateEndpoint: serve ``endpoint_config_name`` after ``Updating``, or keep the old config."""
    with LOCK:
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            raise ValidationError(message=f'Could not find endpoint "{_endpoint_arn(self, endpoint_name)}".')
        status = _settle(endpoint)
        if status == "Failed":
            raise ValidationError(message=f'Cannot update failed endpoint "{endpoint.arn}".')
        if status != "InService":
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            arn = FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Could not find endpoint configuration "{arn}".')

        started = now()
        reason = STATE.failures.take(
            ENDPOINT_FAILURES, failure_names(self, endpoint_name, endpoint_config_name)
        )
        # SageMaker keeps serving (and describing) the old config until the new one is deployed.
        endpoint.pending_deployment_summary = {
            "EndpointConfigName": endpoint_config_name,
            "StartTime": to_datetime(started),
        }
        endpoint.last_modified_time = to_datetime(started)

        def deployed(at: float) -> None:
            endpoint.endpoint_config_name = endpoint_config_name
            endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
            endpoint.data_capture_config = _capture_summary(config)
            endpoint.pending_deployment_summary = None
            endpoint.last_modified_time = to_datetime(at)

        def kept_old(at: float) -> None:
            endpoint.pending_deployment_summary = None
            endpoint.last_modified_time = to_datetime(at)

        _lifecycle(endpoint).run(
            "Updating",
            STATE.settings.endpoint_seconds,
            "InService",
            failed="InService",
            failure_reason=reason,
            on_done=deployed,
            on_failed=kept_old,
            at=started,
        )
        _settle(endpoint)
        return endpoint.arn


def _update_endpoint_response(self: SageMakerResponse) -> ActionResult:
    arn = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
    )
    return ActionResult({"EndpointArn": arn})


# --- CloudFormation --------------------------------------------------------------------------


def _create_model_from_cloudformation(
    cls: type[Model],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Model:
    """AWS::SageMaker::Model with a PrimaryContainer (Image or ModelPackageName) or Containers.

    moto's handler requires ``PrimaryContainer`` and ``ExecutionRoleArn``; CloudFormation requires
    neither (a model package brings its own containers).
    """
    properties = cloudformation_json.get("Properties") or {}
    return sagemaker_backends[account_id][region_name].create_model(
        model_name=resource_name,
        execution_role_arn=properties.get("ExecutionRoleArn"),
        primary_container=properties.get("PrimaryContainer"),
        vpc_config=properties.get("VpcConfig"),
        containers=properties.get("Containers"),
        tags=properties.get("Tags"),
    )


class EndpointHandler(cfn_resources.ResourceHandler):
    """AWS::SageMaker::Endpoint: a new EndpointConfigName is deployed with UpdateEndpoint."""

    updatable = frozenset(
        {
            "EndpointConfigName",
            "Tags",
            "DeploymentConfig",
            "RetainAllVariantProperties",
            "ExcludeRetainedVariantProperties",
            "RetainDeploymentConfig",
        }
    )

    def update(
        self,
        resource: FakeEndpoint,
        old: dict[str, Any],
        new: dict[str, Any],
        context: cfn_resources.ResourceContext,
    ) -> FakeEndpoint:
        backend = sagemaker_backends[context.account_id][context.region_name]
        config_name = new.get("EndpointConfigName")
        if (
            backend.endpoints.get(resource.endpoint_name) is resource
            and config_name != resource.endpoint_config_name
        ):
            backend.update_endpoint(resource.endpoint_name, config_name)
        resource.tags = new.get("Tags") or []
        return resource

    def failure_message(self, resource: Any, reason: str) -> str:
        return super().failure_message(resource, f"Endpoint {resource.arn} failed: {reason}")
