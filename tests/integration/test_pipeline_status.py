"""
The status the API, the page and ``mlops-orchestrator status`` share, read from real runs on the
emulator: a multi-account pipeline's stages each with its account, stack-set instance and endpoint;
a monitor's recent executions with their violation counts (the page's chart).
"""

from __future__ import annotations

import time

import pytest
from mlops_orchestrator.pipelines.catalog import read_entry
from mlops_orchestrator.pipelines.status import airflow_clients, pipeline_status
from test_monitors import monitor
from test_multi_account import ACCOUNTS, INSTANCES, multi_account, realtime  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def test_a_multi_account_pipeline_shows_each_stage_in_its_account(multi_account, run_config):  # noqa: F811
    report = multi_account(realtime("status-ma"), name="status_ma.yaml")
    assert report["state"] == "success", report["failures"]
    entry = read_entry(run_config.folder / "status_ma.yaml", run_config.folder)
    status = pipeline_status(entry, airflow_clients)

    assert status["state"] == "success"
    assert status["last_run"]["run_id"]
    assert [s["stage"] for s in status["stages"]] == ["dev", "staging", "prod"]
    for stage in status["stages"]:
        name = stage["stage"]
        assert stage["account"] == ACCOUNTS[name], stage
        assert "error" not in stage, stage
        [instance] = stage["stack_set_instances"]
        assert (instance["account"], instance["status"]) == (ACCOUNTS[name], "CURRENT"), instance
        assert instance["stack_set"].endswith(f"-{name}")
        [endpoint] = stage["endpoints"]
        assert (endpoint["status"], endpoint["instance_type"]) == ("InService", INSTANCES[name]), stage


def test_a_monitors_recent_executions_carry_their_violations(run_config, aws, control):
    from test_monitors import serve_endpoint

    endpoint = serve_endpoint(aws, "ep-status-history")
    # executions 15 s apart: a few seconds would let a new execution be Pending each time the
    # run's results task looks on a busy machine (it failed so in a full run), and history needs two
    control.set_settings(schedule_seconds=15)
    control.add_failure("monitoring_violation", match=f"{endpoint}-data-quality", reason="day_mins drifted", times=1)
    report = run_config(monitor("byom_data_quality_monitor", "status-dq", endpoint), name="status_dq.yaml")
    assert report["state"] == "success", report["failures"]
    entry = read_entry(run_config.folder / "status_dq.yaml", run_config.folder)

    deadline = time.monotonic() + 120
    while True:  # until the schedule has run a second execution after the one with violations
        status = pipeline_status(entry, airflow_clients)
        [stage] = status["stages"]
        [schedule] = stage["monitoring_schedules"]
        history = schedule["history"]
        if len([h for h in history if h["status"] in ("Completed", "CompletedWithViolations")]) >= 2:
            break
        assert time.monotonic() < deadline, history
        time.sleep(1)
    assert schedule["status"] == "Scheduled"
    assert history[0]["status"] == "CompletedWithViolations" and history[0]["violations"] >= 1, history
    assert history[1]["violations"] == 0, history
    assert [h["scheduled_time"] for h in history] == sorted(h["scheduled_time"] for h in history)
