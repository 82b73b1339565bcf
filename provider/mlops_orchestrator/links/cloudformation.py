"""Extra link from a task to the CloudFormation stack it deployed, in the AWS console."""

from __future__ import annotations

from urllib.parse import quote

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class CloudFormationStackConsoleLink(BaseAwsLink):
    """The stack's page (resources, events) in the CloudFormation console."""

    name = "CloudFormation Stack"
    key = "mlops_cloudformation_stack"
    format_str = (
        BASE_AWS_CONSOLE_LINK
        + "/cloudformation/home?region={region_name}#/stacks/stackinfo?stackId={stack_id}"
    )

    def format_link(self, **kwargs) -> str:
        """Stack ids are ARNs: escape them so the console's hash router reads them whole."""
        if "stack_id" in kwargs:
            kwargs = {**kwargs, "stack_id": quote(kwargs["stack_id"], safe="")}
        return super().format_link(**kwargs)


class CloudFormationStackSetConsoleLink(BaseAwsLink):
    """The stack set's page (instances, operations) in the CloudFormation console."""

    name = "CloudFormation StackSet"
    key = "mlops_cloudformation_stack_set"
    format_str = (
        BASE_AWS_CONSOLE_LINK
        + "/cloudformation/home?region={region_name}#/stacksets/{stack_set_name}/info?permissions={permissions}"
    )


class CloudFormationStackSetOperationConsoleLink(BaseAwsLink):
    """The stack set's last operation of this task (per-account results) in the console."""

    name = "StackSet Operation"
    key = "mlops_cloudformation_stack_set_operation"
    format_str = (
        BASE_AWS_CONSOLE_LINK
        + "/cloudformation/home?region={region_name}#/stacksets/{stack_set_name}/operations/info"
        "?permissions={permissions}&operationId={operation_id}"
    )
