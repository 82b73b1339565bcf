"""Notifications end to end: real DAG runs send to the emulator's SNS (read back from a subscribed SQS
queue) and to a local SMTP server, through Airflow's SNS and SMTP notifiers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hitl import respond
from notify import TopicInbox, smtp_server, wait_for

pytestmark = pytest.mark.integration


def training(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "pipeline_type": "model_training_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "training_data": f"training/{model}/train.csv",
        "job_output_location": f"training/{model}/output",
        "use_spot_instances": False,
        "algo_hyperparameters": {"objective": "binary:logistic", "eval_metric": "auc", "num_round": 5},
        **extra,
    }


def test_a_failed_pipeline_is_sent_once_with_its_error(run_config, aws, control):
    inbox = TopicInbox(aws)
    reason = "AlgorithmError: the label column is missing"
    control.add_failure("training_job", match="notify-fail", reason=reason)
    config = training("notify-fail", notifications={"sns_topic_arn": inbox.topic_arn})
    report = run_config(config, name="notify_fail.yaml")
    assert report["state"] == "failed"

    [message] = inbox.read(1)
    assert message["Subject"] == "[mlops-orchestrator] notify_fail failed: train"
    body = message["Message"]
    assert body.startswith("The pipeline notify_fail failed.\n")
    assert "Pipeline: notify_fail (model_training_builtin, config notify_fail.yaml)" in body
    assert f"ended Failed: {reason}" in body
    assert "Task: train (try " in body and "Log: http" in body
    assert message["MessageAttributes"]["event"]["Value"] == "failure"
    assert inbox.settle() == []  # the downstream tasks did not run: one failure, one message


def test_a_waiting_approval_is_sent_to_the_topic_and_by_e_mail(run_config, aws):
    inbox = TopicInbox(aws)
    with smtp_server("smtp_notify") as mails:
        config = training(
            "notify-gate",
            model_package_group_name="notify-gate",
            notifications={
                "sns_topic_arn": inbox.topic_arn,
                "email": "ml-team@example.com, risk@example.com",
                "smtp_conn_id": "smtp_notify",
                "on": ["approval"],
            },
        )
        answer = respond("notify_gate", "approve_model", "Approve")
        report = run_config(config, name="notify_gate.yaml")
        answer.join(timeout=5)
        assert report["state"] == "success", report["failures"]
        wait_for(mails, 1)

    [message] = inbox.read(1)
    assert message["Subject"] == "[mlops-orchestrator] notify_gate: approval waiting - Approve version 1 of notify-gate?"
    body = message["Message"]
    assert "A person's decision is waiting in Airflow: Approve version 1 of notify-gate?" in body
    assert "registered\n`arn:aws:sagemaker:us-east-1:123456789012:model-package/notify-gate/1`" in body  # the gate's body
    assert "/dags/notify_gate/runs/" in body and "/tasks/approve_model" in body
    assert message["MessageAttributes"]["event"]["Value"] == "approval"

    [mail] = mails
    assert sorted(mail["to"]) == ["ml-team@example.com", "risk@example.com"]
    assert mail["from"] == "airflow@example.com"
    assert mail["message"]["Subject"] == message["Subject"]
    assert "Approve version 1 of notify-gate?" in mail["message"].get_body(("html",)).get_content()
    assert inbox.settle() == []  # "on: [approval]": the run's other events send nothing


def test_a_notification_that_cannot_be_sent_is_logged_and_the_task_goes_on(local_aws, aws, capfd):
    from mlops_orchestrator.notifications import PipelineNotifier
    from mlops_orchestrator.run.airflow_env import set_local_aws_connection

    set_local_aws_connection("aws_notify", local_aws.endpoint_url, "us-east-1")
    notifier = PipelineNotifier(
        event="failure",
        pipeline={"pipeline_type": "byom_realtime_builtin", "config": "churn.yaml"},
        sns_topic_arn="arn:aws:sns:us-east-1:123456789012:no-such-topic",
        aws_conn_id="aws_notify",
    )
    ti = SimpleNamespace(dag_id="churn", run_id="manual__1", task_id="deploy_stack", try_number=2, log_url="http://x/log")
    notifier({"ti": ti, "exception": RuntimeError("stack failed")})  # does not raise
    logged = "".join(capfd.readouterr())  # Airflow's structured log
    assert (
        "Could not send the failure notification to SNS topic arn:aws:sns:us-east-1:123456789012:no-such-topic: "
        "An error occurred (NotFound)" in logged
    )

    inbox = TopicInbox(aws)
    notifier.sns_topic_arn = inbox.topic_arn
    notifier({"ti": ti, "exception": RuntimeError("{{ not a template }} " + "x" * 3000)})
    [message] = inbox.read(1)
    assert message["Subject"] == "[mlops-orchestrator] churn failed: deploy_stack"
    assert "{{ not a template }} xxx" in message["Message"]  # sent as it is, cut at 1500 characters
    assert message["Message"].count("x") < 1600
