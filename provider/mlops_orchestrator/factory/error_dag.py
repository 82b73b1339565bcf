"""A visible stand-in for a config that cannot become its pipeline DAG.

Airflow records import errors per Python file, and one loader file serves every config, so
raising would hide every good pipeline behind one bad file. Instead the bad config keeps its
DAG id and shows up in the DAG list tagged ``invalid-config``, its description and docs give the
file, field and message, and running it fails at once with the same text (so a scheduled run
fails loudly rather than silently stopping). Nothing in it touches AWS.

A config (or the defaults file above it) can turn bad while one of its runs is active. Airflow's
scheduler would mark the run's tasks that the error DAG lacks as removed (cancelling deferred
waits) and the run would end without a word about the problems; the tasks still to run would
parse the file, find only ``config_error`` and fail with "task not found". So the error DAG also holds stand-ins
under the pipeline's task ids, with their dependencies and trigger rules (the last good DAG's,
see last_tasks.py, and the running task's from Airflow's parsing context) which fail with the
problems: the run fails and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator

from mlops_orchestrator.factory.callables import raise_config_error
from mlops_orchestrator.factory.dag_options import INVALID_TAG, PROVIDER_TAG

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["INVALID_TAG", "ConfigErrorOperator", "build_error_dag"]


class ConfigErrorOperator(PythonOperator):
    """Fails with the config's problems, also when it stands in for a deferred task that resumes.

    Airflow resumes a deferred task by calling its ``next_method`` (``execute_complete``), which a
    PythonOperator lacks: the AttributeError would be an ordinary failure, retried after the
    default five minutes, instead of the problems, once.
    """

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context):
        return self.python_callable(*self.op_args, **self.op_kwargs)


def build_error_dag(
    dag_id: str, problems: list[str], stand_ins: Mapping[str, tuple[list[str], str]] | None = None,
    warnings: Sequence[str] = (),
) -> DAG:
    """A paused DAG whose tasks (``config_error`` and the stand-ins) fail with the config's problems.

    ``stand_ins``: task id -> (upstream task ids, trigger rule), as the pipeline's DAG had them.

    Its docs list the config's warnings too.
    """
    message = "\n".join(problems)
    doc = "### This pipeline's config is invalid\n\nFix the config file; the DAG comes back at the next parse.\n\n"
    doc += "\n".join(f"- `{p}`" for p in problems)
    if warnings:
        doc += "\n\n#### Warnings\n\n" + "\n".join(f"- `{w}`" for w in warnings)
    dag = DAG(
        dag_id=dag_id,
        description=f"INVALID CONFIG: {problems[0]}"[:1000] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
        schedule=None,
        start_date=datetime(2024, 1, 1, tzinfo=UTC),
        catchup=False,
        tags=[PROVIDER_TAG, INVALID_TAG],
        doc_md=doc,
        is_paused_upon_creation=True,
    )
    shape = {"config_error": ([], "all_success"), **(stand_ins or {})}
    tasks = {
        task_id: ConfigErrorOperator(
            task_id=task_id,
            python_callable=raise_config_error,
            op_kwargs={"message": message},
            retries=0,
            trigger_rule=rule,
            dag=dag,
        )
        for task_id, (_, rule) in shape.items()
    }
    for task_id, (upstream, _) in shape.items():
        for upstream_id in upstream:
            if upstream_id in tasks:
                tasks[upstream_id] >> tasks[task_id]
    return dag
