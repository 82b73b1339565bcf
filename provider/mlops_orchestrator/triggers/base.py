"""The base of our deferrable waits: the Amazon provider's waiter trigger, on every provider MWAA pins."""

from __future__ import annotations

from typing import ClassVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook
from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger


class HookWaiterTrigger(AwsBaseWaiterTrigger):
    """
    ``AwsBaseWaiterTrigger`` whose hook is built from the class attribute ``aws_hook_class``.

    Recent Amazon providers build the hook from ``aws_hook_class`` themselves; the ones MWAA 3.2.1
    and 3.3.1 pin (9.25, 9.34) declare ``hook()`` abstract, so the trigger could not even be
    created there (found by tests/mwaa/check.sh). Defining ``hook()`` here works on both.
    """

    aws_hook_class: ClassVar[type[AwsGenericHook]]

    def hook(self) -> AwsGenericHook:
        return self.aws_hook_class(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        )
