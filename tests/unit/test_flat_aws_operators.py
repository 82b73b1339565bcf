"""Operators on FlatAwsOperator keep AwsBaseOperator's behaviour, with one ``__init__`` level fewer.

The stack operators and ResolveModelOperator are built for every pipeline at every parse; they
were moved off the Amazon provider's ``AwsBaseOperator`` to save Airflow's per-class
``apply_defaults`` (issue 13). These tests hold them to what ``AwsBaseOperator`` gives: its
constructor arguments and defaults, the attributes it sets, templated connection fields, DAG
default args, the hook, serialization. Real runs of the same operators against the emulator are
in tests/integration/test_stack_operators.py and test_realtime.py.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest
from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.common.compat.sdk import DAG, BaseOperator
from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook
from mlops_orchestrator.operators.cloudformation import (
    DeleteStackOperator,
    DeployEndpointStackOperator,
    DeployStackOperator,
)
from mlops_orchestrator.operators.sagemaker import ResolveModelOperator

START = datetime(2024, 1, 1, tzinfo=UTC)

#: each flat operator, the arguments it needs, and its hook class
OPERATORS = [
    (DeployStackOperator, {"stack_name": "s", "blueprint": "realtime-endpoint.yaml"}, CloudFormationStackHook),
    (DeployEndpointStackOperator, {"stack_name": "s", "blueprint": "realtime-endpoint.yaml"}, CloudFormationStackHook),
    (DeleteStackOperator, {"stack_name": "s"}, CloudFormationStackHook),
    (ResolveModelOperator, {"base_parameters": {"ModelName": "m"}}, SageMakerHook),
]
IDS = [cls.__name__ for cls, _, _ in OPERATORS]


def _levels(cls: type) -> list[str]:
    """The classes of ``cls``'s hierarchy whose ``__init__`` Airflow wrapped in ``apply_defaults``."""
    return [c.__name__ for c in cls.__mro__ if hasattr(vars(c).get("__init__"), "__wrapped__")]


def _reference(hook_class: type) -> type[AwsBaseOperator]:
    """A plain AwsBaseOperator subclass with the same hook: what the flat operators must match."""
    return type("Reference", (AwsBaseOperator,), {"aws_hook_class": hook_class, "execute": lambda self, context: None})


@pytest.mark.parametrize(("cls", "args", "hook_class"), OPERATORS, ids=IDS)
def test_one_init_level_of_ours_and_airflow_s(cls, args, hook_class):
    assert len(_levels(cls)) == 2, _levels(cls)
    assert _levels(cls)[-1] == "BaseOperator"


@pytest.mark.parametrize(("cls", "args", "hook_class"), OPERATORS, ids=IDS)
def test_aws_base_operator_s_arguments_and_defaults(cls, args, hook_class):
    """Every argument of AwsBaseOperator.__init__, with its default: a provider upgrade that adds
    one fails here rather than being silently dropped."""
    theirs = inspect.signature(AwsBaseOperator.__init__.__wrapped__).parameters
    ours = inspect.signature(cls.__init__.__wrapped__).parameters
    for name, parameter in theirs.items():
        if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL) or name == "self":
            continue
        assert name in ours, f"{cls.__name__} lacks AwsBaseOperator's argument {name}"
        assert ours[name].default == parameter.default, name


@pytest.mark.parametrize(("cls", "args", "hook_class"), OPERATORS, ids=IDS)
def test_the_attributes_aws_base_operator_sets_with_the_same_values(cls, args, hook_class):
    given = {"aws_conn_id": "aws_stage", "region_name": "eu-west-1", "verify": False,
             "botocore_config": {"retries": {"max_attempts": 7}}}
    for kwargs in ({}, given):
        ours = cls(task_id="t", **args, **kwargs)
        reference = _reference(hook_class)(task_id="t", **kwargs)
        bare = set(vars(BaseOperator(task_id="t")))
        their_attributes = {k: v for k, v in vars(reference).items() if k not in bare}
        assert their_attributes, "AwsBaseOperator sets the connection attributes"
        for name, value in their_attributes.items():
            assert getattr(ours, name) == value, name
        assert ours._hook_parameters == reference._hook_parameters
        assert set(reference.template_fields) <= set(ours.template_fields)


@pytest.mark.parametrize(("cls", "args", "hook_class"), OPERATORS, ids=IDS)
def test_the_hook_is_built_from_the_connection_arguments_without_calling_aws(cls, args, hook_class):
    operator = cls(task_id="t", **args, aws_conn_id="aws_stage", region_name="eu-west-1",
                   botocore_config={"retries": {"max_attempts": 7}})
    hook = operator.hook
    assert type(hook) is hook_class
    assert (hook.aws_conn_id, hook.region_name) == ("aws_stage", "eu-west-1")
    assert hook.config.retries == {"max_attempts": 7}
    assert operator.hook is hook  # built once per task, as AwsBaseOperator's cached property


@pytest.mark.parametrize(("cls", "args", "hook_class"), OPERATORS, ids=IDS)
def test_dag_default_args_fill_the_connection_as_for_aws_base_operator(cls, args, hook_class):
    default_args = {"aws_conn_id": "aws_from_dag", "region_name": "ap-south-1", "retries": 4}
    with DAG("d", schedule=None, start_date=START, default_args=default_args):
        operator = cls(task_id="t", **args)
        reference = _reference(hook_class)(task_id="r")
    assert (operator.aws_conn_id, operator.region_name, operator.retries) == ("aws_from_dag", "ap-south-1", 4)
    assert (reference.aws_conn_id, reference.region_name) == ("aws_from_dag", "ap-south-1")


@pytest.mark.parametrize(("cls", "args", "hook_class"), OPERATORS, ids=IDS)
def test_connection_fields_are_templated_and_rendered_at_run_time(cls, args, hook_class):
    with DAG("d", schedule=None, start_date=START) as dag:
        operator = cls(task_id="t", **args, aws_conn_id="{{ params.conn }}", region_name="{{ params.region }}")
    operator.render_template_fields({"params": {"conn": "aws_prod", "region": "us-west-2"}, "dag": dag})
    assert (operator.aws_conn_id, operator.region_name) == ("aws_prod", "us-west-2")
    assert operator.hook.aws_conn_id == "aws_prod"


@pytest.mark.parametrize(("cls", "args", "hook_class"), OPERATORS, ids=IDS)
def test_bad_arguments_are_refused_as_before(cls, args, hook_class):
    with pytest.raises(TypeError, match="Invalid arguments"):
        cls(task_id="t", **args, no_such_argument=1)
    required = next(iter(args))
    with pytest.raises(TypeError, match=f"missing keyword argument '{required}'"):
        cls(task_id="t", **{k: v for k, v in args.items() if k != required})


def test_a_dag_of_them_serializes_and_the_tasks_keep_connection_links_and_waits():
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG("d", schedule=None, start_date=START) as dag:
        resolve = ResolveModelOperator(task_id="resolve_model", base_parameters={"ModelName": "m"},
                                       aws_conn_id="aws_a", region_name="eu-west-1")
        deploy = DeployEndpointStackOperator(task_id="deploy_stack", stack_name="s", blueprint="realtime-endpoint.yaml",
                                             parameters=resolve.output, waiter_delay=7, aws_conn_id="aws_b")
        DeleteStackOperator(task_id="delete_stack", stack_name="s", deferrable=False, region_name="us-east-2")
    assert deploy.upstream_task_ids == {"resolve_model"}  # the XComArg in a templated field
    restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    deploy_again = restored.get_task("deploy_stack")
    assert (deploy_again.aws_conn_id, deploy_again.region_name) == ("aws_b", None)
    assert sorted(deploy_again.operator_extra_link_dict) == sorted(
        link.name for link in DeployEndpointStackOperator.operator_extra_links
    )
    assert restored.get_task("resolve_model").aws_conn_id == "aws_a"
    assert restored.get_task("delete_stack").region_name == "us-east-2"
    # what a deferral hands the trigger: the operator's wait settings and connection
    assert deploy.trigger_kwargs() == {"waiter_delay": 7, "waiter_max_attempts": 480, "aws_conn_id": "aws_b",
                                       "region_name": None, "verify": None, "botocore_config": None}
