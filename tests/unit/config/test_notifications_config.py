"""Notification settings: in defaults.yaml or a config, the forms they take, and what a mistake says."""

from __future__ import annotations

from config_helpers import problem_lines, valid_payload
from mlops_orchestrator.config import load_config

TOPIC = "arn:aws:sns:us-east-1:111122223333:mlops-notifications"


def test_the_defaults_file_sets_them_for_every_pipeline_and_a_config_may_override(write, tmp_path):
    write("defaults.yaml", {"notifications": {"sns_topic_arn": TOPIC, "email": "ml@example.com; ops@example.com"}})
    config = load_config(write("a.yaml", valid_payload("byom_realtime_builtin")), root=tmp_path)
    settings = config.notifications
    assert (settings.sns_topic_arn, settings.email) == (TOPIC, ["ml@example.com", "ops@example.com"])
    assert settings.on == ["failure", "approval", "violations"]
    assert (settings.smtp_conn_id, settings.from_email) == (None, None)

    own = valid_payload("byom_realtime_builtin") | {"notifications": {"email": ["me@example.com"], "on": ["failure"]}}
    config = load_config(write("b.yaml", own), root=tmp_path)
    assert (config.notifications.sns_topic_arn, config.notifications.on) == (None, ["failure"])
    off = load_config(write("c.yaml", valid_payload("byom_realtime_builtin") | {"notifications": None}), root=tmp_path)
    assert off.notifications is None


def test_the_environment_may_set_them_as_json(write, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_NOTIFICATIONS", f'{{"sns_topic_arn": "{TOPIC}", "on": ["violations"]}}')
    config = load_config(write("a.yaml", valid_payload("byom_data_quality_monitor")), root=tmp_path)
    assert (config.notifications.sns_topic_arn, config.notifications.on) == (TOPIC, ["violations"])


def test_wrong_settings_name_the_field(write, tmp_path):
    data = valid_payload("byom_realtime_builtin") | {
        "notifications": {
            "sns_topic_arn": "arn:aws:sqs:us-east-1:111122223333:queue",
            "email": ["ml@example", "ok@example.com"],
            "on": ["failures"],
        }
    }
    path = write("bad.yaml", data)
    assert problem_lines(path) == [
        f"{path}: notifications.sns_topic_arn: expected an SNS topic ARN like arn:aws:sns:us-east-1:111122223333:mlops, "
        "got 'arn:aws:sqs:us-east-1:111122223333:queue'",
        f"{path}: notifications.email[0]: expected an e-mail address like team@example.com, got 'ml@example'",
        f"{path}: notifications.on[0]: unknown value 'failures'; did you mean 'failure'? "
        "(expected one of failure, approval, violations)",
    ]
    nowhere = write("nowhere.yaml", valid_payload("byom_realtime_builtin") | {"notifications": {"on": ["failure"]}})
    assert problem_lines(nowhere) == [
        f"{nowhere}: notifications: give sns_topic_arn or email (or both): where notifications go"
    ]
    typo = write("typo.yaml", valid_payload("byom_realtime_builtin") | {"notifications": {"sns_topic": TOPIC}})
    assert f"{typo}: notifications.sns_topic: unknown field; did you mean 'sns_topic_arn'?" in problem_lines(typo)


def test_a_bad_defaults_file_setting_is_blamed_on_the_defaults_file(write, tmp_path):
    defaults = write("defaults.yaml", {"notifications": {"email": "not-an-address"}})
    path = write("a.yaml", valid_payload("byom_realtime_builtin"))
    assert (
        f"{defaults}: notifications.email[0]: expected an e-mail address like team@example.com, got 'not-an-address'"
        in problem_lines(path, root=tmp_path)
    )
