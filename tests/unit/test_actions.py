"""How a two-action DAG picks deploy or deprovision without a branch task (factory/actions.py).

The wiring is checked here; that a run really takes each path (the scheduler skipping the
deprovision path, the first deploy task skipping itself) is proven by the DAG runs in
tests/integration (test_realtime's deprovision, test_airflow_services on real services)."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException
from mlops_orchestrator.factory.actions import DEPROVISION_EDGE, deploy_or_deprovision, skip_unless_deploying


def test_the_first_deploy_task_runs_on_deploy_and_by_default():
    assert skip_unless_deploying({"params": {"action": "deploy"}}) is None
    assert skip_unless_deploying({"params": {}}) is None


def test_it_skips_itself_and_so_the_deploy_path_on_deprovision():
    with pytest.raises(AirflowSkipException, match="deprovision path runs"):
        skip_unless_deploying({"params": {"action": "deprovision"}})


def test_an_unknown_action_fails_without_retrying_and_names_the_choices():
    with pytest.raises(AirflowFailException, match="params.action must be 'deploy' or 'deprovision', got 'remove'"):
        skip_unless_deploying({"params": {"action": "remove"}})


def test_the_paths_are_wired_with_a_labelled_edge_and_all_skipped():
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    with DAG("actions_wiring", schedule=None) as dag:
        deploy, build = EmptyOperator(task_id="deploy_stack"), EmptyOperator(task_id="build")
        remove = EmptyOperator(task_id="delete_stack")
        deploy >> build
        deploy_or_deprovision(deploy, remove)

    assert deploy._pre_execute_hook is skip_unless_deploying
    assert remove._pre_execute_hook is None
    assert remove.trigger_rule == "all_skipped" and build.trigger_rule == "all_success"
    assert remove.upstream_task_ids == {"deploy_stack"}
    assert dag.get_edge_info("deploy_stack", "delete_stack") == {"label": DEPROVISION_EDGE}
    assert "deployed" not in dag.task_ids  # build is a leaf after deploy_stack already


def test_a_deploy_path_of_one_task_gets_a_leaf_that_carries_its_failure_to_the_run():
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    with DAG("actions_single", schedule=None) as dag:
        deploy, remove = EmptyOperator(task_id="deploy_stack"), EmptyOperator(task_id="delete_stack")
        deploy_or_deprovision(deploy, remove)

    assert {t.task_id for t in dag.leaves} == {"deployed", "delete_stack"}
    deployed = dag.get_task("deployed")
    assert type(deployed) is EmptyOperator and deployed.trigger_rule == "all_success"
    assert deployed.upstream_task_ids == {"deploy_stack"}


def test_a_resume_without_the_resolved_parameters_says_what_to_do():
    from mlops_orchestrator.operators.cloudformation import DeployStackOperator

    class NoXcom:
        def xcom_pull(self, task_ids, key):
            return None

    operator = DeployStackOperator(task_id="deploy_stack", stack_name="s", blueprint="batch-model.yaml",
                                   model_source={"model_package_name": "arn"})
    with pytest.raises(Exception, match="clear the task to resolve and deploy again"):
        operator.resolved_model_source({"ti": NoXcom()})
