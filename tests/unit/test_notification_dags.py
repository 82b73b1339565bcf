"""Which tasks notify, and what they say: the notifiers a config's settings put into its DAG."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from mlops_orchestrator.config import load_config
from mlops_orchestrator.factory.context import BuildContext
from mlops_orchestrator.factory.registry import builder_for
from mlops_orchestrator.notifications import PipelineNotifier
from mlops_orchestrator.notifications.messages import DETAILS_KEY, sns_subject

REPO = Path(__file__).resolve().parents[2]
TOPIC = "arn:aws:sns:eu-west-1:111122223333:mlops"
TRAINING = {
    "pipeline_type": "model_training_builtin",
    "model_name": "churn",
    "model_framework": "xgboost",
    "model_framework_version": "1.7-1",
    "training_data": "churn/train/data.csv",
    "job_output_location": "churn/output/",
    "algo_hyperparameters": {"num_round": 10},
    "assets_bucket": "assets-bucket",
    "model_package_group_name": "churn",
}


def build(tmp_path: Path, data: dict[str, Any], name: str = "churn.yaml"):
    path = tmp_path / "team" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    config = load_config(path, root=tmp_path)
    return builder_for(config.pipeline_type)(config, BuildContext(path=path, folder=tmp_path, dag_id="churn"))


def test_every_task_notifies_its_failure_the_gate_its_wait(tmp_path):
    settings = {"sns_topic_arn": TOPIC, "email": ["ml@example.com"], "smtp_conn_id": "ses"}
    dag = build(tmp_path, TRAINING | {"notifications": settings})
    for task in dag.tasks:
        [notifier] = task.on_failure_callback
        assert isinstance(notifier, PipelineNotifier) and notifier.event == "failure"
    failure = dag.tasks[0].on_failure_callback[0]
    assert (failure.sns_topic_arn, failure.email, failure.smtp_conn_id, failure.aws_conn_id) == (
        TOPIC,
        ["ml@example.com"],
        "ses",
        "aws_default",
    )
    assert failure.pipeline == {"pipeline_type": "model_training_builtin", "config": "team/churn.yaml"}
    [gate] = dag.get_task("approve_model").notifiers
    assert gate.event == "approval"


def test_nothing_notifies_without_settings_or_for_events_left_out(tmp_path):
    dag = build(tmp_path, TRAINING)
    assert all(not task.on_failure_callback for task in dag.tasks)
    assert dag.get_task("approve_model").notifiers == []
    only_violations = build(tmp_path, TRAINING | {"notifications": {"sns_topic_arn": TOPIC, "on": ["violations"]}})
    assert all(not task.on_failure_callback for task in only_violations.tasks)
    assert only_violations.get_task("approve_model").notifiers == []


def test_the_monitor_results_task_sends_violations(tmp_path):
    example = yaml.safe_load((REPO / "dags/examples/realtime_builtin_xgboost_monitor_data_quality.yaml").read_text())
    dag = build(tmp_path, example | {"assets_bucket": "assets-bucket", "notifications": {"sns_topic_arn": TOPIC}})
    [notifier] = dag.get_task("monitor_results").notifiers
    assert notifier.event == "violations"


def context(**extra: Any) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="churn", run_id="manual__2024", task_id="train", try_number=2, log_url="http://ui/log")
    return {"ti": ti, **extra}


def notifier(event: str) -> PipelineNotifier:
    return PipelineNotifier(event=event, pipeline={"pipeline_type": "byom_data_quality_monitor", "config": "m.yaml"})


def test_the_messages_say_what_happened_and_where_without_settings_values():
    subject, text = notifier("failure").compose(context(exception=RuntimeError("job ended Failed: OOM")))
    assert subject == "[mlops-orchestrator] churn failed: train"
    assert text.splitlines() == [
        "The pipeline churn failed.",
        "",
        "Pipeline: churn (byom_data_quality_monitor, config m.yaml)",
        "Run: manual__2024",
        "Task: train (try 2)",
        "",
        "Error:",
        "job ended Failed: OOM",
        "",
        "Log: http://ui/log",
    ]
    summary = {
        "status": "CompletedWithViolations",
        "scheduled_time": "2024-01-01T10:00:00",
        "violations": 2,
        "by_check": {"data_type_check": 1, "baseline_drift_check": 1},
        "features": ["age", "income"],
        "report_uri": "s3://b/r/constraint_violations.json",
        "schedule": "ep-data-quality-schedule",
        "violation_lines": ["- age: data_type_check: not an integer"],
    }
    subject, text = notifier("violations").compose(context(**{DETAILS_KEY: summary}))
    assert subject == "[mlops-orchestrator] churn: 2 monitor violation(s)"
    assert "By check: baseline_drift_check 1, data_type_check 1" in text
    assert "Features: age, income" in text
    assert text.endswith("Violations:\n- age: data_type_check: not an integer\n\nLog: http://ui/log")
    gate = SimpleNamespace(subject="Approve version 3 of churn?", body="metrics table", response_timeout=None)
    subject, text = notifier("approval").compose(context(task=gate))
    assert subject == "[mlops-orchestrator] churn: approval waiting - Approve version 3 of churn?"
    assert "metrics table" in text and "Answer it in Airflow's Required Actions: http://ui/log" in text


def test_sns_subjects_follow_snss_rules():
    assert sns_subject("a\nb  ü " + "x" * 200) == "a b ? " + "x" * 91 + "..."
    assert len(sns_subject("y" * 100)) == 100
