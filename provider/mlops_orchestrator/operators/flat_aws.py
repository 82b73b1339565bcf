"""``AwsBaseOperator``'s behaviour in one constructor level: for operators built thousands of times a parse.

Airflow wraps the ``__init__`` of every class of an operator's hierarchy that defines one in its
``apply_defaults``, which merges the DAG's default args and params again at each level. Under
the Amazon provider's ``AwsBaseOperator`` our stack operator had four such levels (our class, our
stack base, ``AwsBaseOperator``, ``BaseOperator``): at 1000 configs (4000 tasks) they were a
measurable share of a parse (issue 13). ``FlatAwsOperator`` is ``BaseOperator`` plus the
provider's ``AwsBaseHookMixin`` (the ``hook`` property), the shape the provider documents for
AWS operators that do not subclass ``AwsBaseOperator`` (see ``AwsHookParams.from_constructor``):
a subclass's own ``__init__`` takes the connection arguments, with ``AwsBaseOperator``'s names
and defaults, and hands them to ``_init_aws``. That leaves two levels: the subclass's and
``BaseOperator``'s.

What ``AwsBaseOperator`` gives is kept: ``aws_conn_id``, ``region_name``, ``verify`` and
``botocore_config`` (templated, filled from the DAG's default args like any argument of the
subclass's signature), the hook built from them on first use, and the check of
``aws_hook_class``. tests/unit/test_flat_aws_operators.py holds the operators to that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.amazon.aws.utils.mixins import (
    AwsBaseHookMixin,
    AwsHookParams,
    AwsHookType,
    aws_template_fields,
)
from airflow.providers.amazon.version_compat import NOTSET, ArgNotSet
from airflow.providers.common.compat.sdk import BaseOperator

__all__ = ["NOTSET", "ArgNotSet", "FlatAwsOperator"]


class FlatAwsOperator(BaseOperator, AwsBaseHookMixin[AwsHookType]):
    """
    Base of an AWS operator whose one ``__init__`` takes ``aws_conn_id="aws_default"``,
    ``region_name=None``, ``verify=None``, ``botocore_config=None`` and
    ``region: str | None | ArgNotSet = NOTSET`` (``AwsBaseOperator``'s, for ``.partial``'s
    signature check; ignored as there), calls ``super().__init__(**kwargs)`` and then
    ``self._init_aws(...)``. It defines no ``__init__`` itself: that is the point.
    """

    template_fields: Sequence[str] = aws_template_fields()

    def _init_aws(
        self,
        aws_conn_id: str | None,
        region_name: str | None,
        verify: bool | str | None,
        botocore_config: dict[str, Any] | None,
    ) -> None:
        """What ``AwsBaseOperator.__init__`` does after ``BaseOperator.__init__``."""
        params = AwsHookParams.from_constructor(
            aws_conn_id, region_name, verify, botocore_config, additional_params={}
        )
        self.aws_conn_id = params.aws_conn_id
        self.region_name = params.region_name
        self.verify = params.verify
        self.botocore_config = params.botocore_config
        self.validate_attributes()
