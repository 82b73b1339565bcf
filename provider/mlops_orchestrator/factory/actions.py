"""
Deploy or deprovision, as the run's ``action`` param says, without a task that only chooses.

A branch task in front (``choose_action``) costs every run a worker process of its own: on a
small deployment, starting task processes is what many pipelines at once wait for. Instead the
deploy path's first task checks the action before it does anything (its ``pre_execute``) and
skips itself, and so the whole deploy path, when the run deprovisions; the deprovision path's
first task comes after it with trigger rule ``all_skipped``. When the deploy path runs, the
scheduler skips the deprovision path without starting a process; when it was skipped, the
deprovision path runs. The edge between them is labelled, so the graph says why it is there.

Airflow judges a run by its leaf tasks, and the deploy path's first task is not a leaf any more
(the deprovision path hangs off it). When it is the whole deploy path (a realtime endpoint), a
leaf ``deployed`` follows it: an EmptyOperator, which the scheduler completes without a worker
process, and which is ``upstream_failed``, failing the run, when the deployment failed.

Families with more actions than two (the monitors' ``report``) keep their branch task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import TriggerRule

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator

#: The label on the edge from the deploy path's first task to the deprovision path's.
DEPROVISION_EDGE = "action = deprovision"
#: The leaf after a deploy path of one task, whose failure it carries to the run's state.
DEPLOYED = "deployed"


def skip_unless_deploying(context: Any) -> None:
    """The deploy path's first task runs on ``action: deploy`` and skips itself on ``deprovision``."""
    from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException

    action = (context.get("params") or {}).get("action", "deploy")
    if action == "deploy":
        return
    if action == "deprovision":
        raise AirflowSkipException("params.action is 'deprovision': the deploy path is skipped, the deprovision path runs")
    raise AirflowFailException(f"params.action must be 'deploy' or 'deprovision', got {action!r}")


def deploy_or_deprovision(deploy: BaseOperator, deprovision: BaseOperator) -> None:
    """Wire the two paths' first tasks (see the module's docstring); call it inside the DAG."""
    downstream = [deprovision]
    if not deploy.downstream_task_ids:
        from airflow.providers.standard.operators.empty import EmptyOperator

        downstream.append(EmptyOperator(task_id=DEPLOYED))
    # BaseOperator(pre_execute=...) sets this attribute; the tasks are built by each family's
    # stage builders, which do not know which of their tasks comes first in the DAG.
    deploy._pre_execute_hook = skip_unless_deploying
    deprovision.trigger_rule = TriggerRule.ALL_SKIPPED
    # One set_downstream and the label as DAG edge info: what ``deploy >> Label(...) >> x`` does,
    # at a third of its cost (this runs for every DAG at every parse).
    deploy.set_downstream(downstream)
    deploy.dag.set_edge_info(deploy.task_id, deprovision.task_id, {"label": DEPROVISION_EDGE})
