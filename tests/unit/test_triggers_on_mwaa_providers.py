"""
Every trigger of ours can be created and builds its hook, whatever the Amazon provider's version:
the versions MWAA pins (9.25, 9.34) declare ``AwsBaseWaiterTrigger.hook()`` abstract, so a trigger
relying on the newer ``aws_hook_class`` support could not even be created there (make mwaa-check
runs this file under those pins).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import mlops_orchestrator.triggers as triggers_package
from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger
from mlops_orchestrator.triggers.base import HookWaiterTrigger


def _our_waiter_triggers() -> list[type]:
    found = []
    for module in pkgutil.iter_modules(triggers_package.__path__):
        loaded = importlib.import_module(f"mlops_orchestrator.triggers.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, AwsBaseWaiterTrigger) and cls.__module__ == loaded.__name__ and not cls.__name__.startswith("_"):
                found.append(cls)
    return found


def test_every_waiter_trigger_builds_its_hook_from_our_base():
    triggers = _our_waiter_triggers()
    assert len(triggers) >= 6
    for cls in triggers:
        assert issubclass(cls, HookWaiterTrigger), f"{cls.__name__} must subclass HookWaiterTrigger"
        assert not inspect.isabstract(cls), cls.__name__


def test_a_trigger_is_created_and_its_hook_is_the_class_hook():
    from mlops_orchestrator.hooks.cloudformation import CloudFormationStackHook
    from mlops_orchestrator.triggers.cloudformation import StackDeployCompleteTrigger

    trigger = StackDeployCompleteTrigger(stack_id="arn:aws:cloudformation:us-east-1:1:stack/s/1", aws_conn_id=None)
    hook = trigger.hook()
    assert isinstance(hook, CloudFormationStackHook)
    assert hook.aws_conn_id is None
