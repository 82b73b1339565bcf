"""
Faults on a running deployment: Airflow's services as processes, the emulator in its own process.

Each test breaks something while a pipeline's run is active (a worker killed after AWS accepted its
call, the triggerer killed while it holds the wait, the emulator restarted with its state gone, a
config or the defaults file edited, two configs claiming one dag_id) and asserts that the run ends
(never hangs), with a clear reason when it cannot succeed, and that nothing was duplicated: the
emulator counts every AWS call, so "one CreateStack, one stack, one endpoint" is checked, not
assumed. Every wait is for a state (``wait_for_*``), never a fixed sleep.

Heavy (a deployment of its own, about ten minutes): ``pytest -m faults`` runs these alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlops_orchestrator.local.control import LocalAwsControlError
from mlops_orchestrator.run.emulator_process import EmulatorProcess
from mlops_orchestrator.run.services import AirflowServices, ServicesError, connection_env, free_port

pytestmark = [pytest.mark.integration, pytest.mark.faults]

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = {
    "assets_bucket": "fault-assets",
    "region_name": "us-east-1",
    "aws_conn_id": "aws_default",
    "retries": 1,
    "retry_delay_seconds": 3,
}
#: The emulator's timings between tests (each test sets the ones it needs).
QUICK = {"endpoint_seconds": 1, "stack_seconds": 1, "job_seconds": 1}
#: Secrets the deployment is given (the connection's secret key, the environment's); the emulator
#: accepts any credentials, so they are used for every call without changing what the runs do.
CONNECTION_SECRET = "conn-secret-5f2b9c7e41d8a3"
ENVIRONMENT_SECRET = "env-secret-9a4e1c6b27f05d"


class Deployment:
    """The emulator, Airflow's services on it, a REST client, and the dags folder."""

    def __init__(self, emulator: EmulatorProcess, services: AirflowServices) -> None:
        self.emulator = emulator
        self.services = services
        self.api = services.client()
        self.dags = services.dags_folder

    def aws(self, service: str) -> Any:
        return self.emulator.client(service)

    def drop(self, name: str, config: dict[str, Any]) -> Path:
        """A config written into the dags folder, with the inputs it points at uploaded."""
        from mlops_orchestrator.config import load_config
        from mlops_orchestrator.run.inputs import seed_inputs

        path = self.dags / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config))
        seed_inputs(load_config(path, root=self.dags), self.aws, "us-east-1")
        return path

    def until(self, probe: Callable[[], Any], what: str, timeout: float = 180) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.services.check_running()
            value = probe()
            if value:
                return value
            time.sleep(0.5)
        raise ServicesError(f"timed out after {timeout:.0f} s waiting for {what}")

    def task(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def wait_for_state(self, dag_id: str, run_id: str, task_id: str, state: str, timeout: float = 180) -> dict:
        return self.until(
            lambda: (ti := self.task(dag_id, run_id, task_id))["state"] == state and ti,
            f"{dag_id}.{task_id} to be {state}",
            timeout,
        )

    def finished(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        try:
            return self.api.wait_for_run(dag_id, run_id, timeout=timeout)
        except ServicesError as err:
            raise ServicesError(f"{err}; its tasks: {self.api.task_states(dag_id, run_id)}") from None

    def stacks_named(self, name: str) -> list[dict[str, Any]]:
        """Every stack ever created under ``name`` (deleted ones too)."""
        pages = self.aws("cloudformation").get_paginator("list_stacks").paginate()
        return [s for page in pages for s in page["StackSummaries"] if s["StackName"] == name]

    def endpoints_named(self, name: str) -> list[dict[str, Any]]:
        found = self.aws("sagemaker").list_endpoints(NameContains=name)["Endpoints"]
        return [e for e in found if e["EndpointName"] == name]

    def calls(self) -> dict[str, int]:
        return self.emulator.control.requests()["calls"]


def realtime(model: str, **extra: Any) -> dict[str, Any]:
    config = yaml.safe_load((REPO / "dags/examples/realtime_builtin_xgboost.yaml").read_text())
    config.update(
        model_name=model,
        model_artifact_location=f"models/{model}/model.tar.gz",
        data_capture_location=f"fault-assets/datacapture/{model}",
        endpoint_name=f"{model}-endpoint",
        **extra,
    )
    return config


def stack_name(model: str) -> str:
    return f"mlops-pipeline-{model}-byompipelinerealtimebuiltin"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    emulator = EmulatorProcess(free_port(), root / "emulator.log")
    emulator.start()
    emulator.control.set_settings(**QUICK)
    dags = root / "dags"
    dags.mkdir()
    (dags / "mlops_pipelines.py").write_text((REPO / "dags/mlops_pipelines.py").read_text())
    (dags / "defaults.yaml").write_text(yaml.safe_dump(DEFAULTS))
    services = AirflowServices(
        home=root / "airflow-home",
        dags_folder=dags,
        env={
            **connection_env(["aws_default"], emulator.endpoint_url),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {
                    "conn_type": "aws",
                    "login": "testing",
                    "password": CONNECTION_SECRET,
                    "extra": {"endpoint_url": emulator.endpoint_url, "region_name": "us-east-1"},
                }
            ),
            "AWS_SECRET_ACCESS_KEY": ENVIRONMENT_SECRET,
            "MLOPS_ORCHESTRATOR_POLL_SECONDS": "1",
            # a killed worker's task is found within seconds, not Airflow's default 5 minutes
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            # a dead triggerer's triggers go to another one after 15 s without a heartbeat
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
        },
    )
    try:
        with services:
            yield Deployment(emulator, services)
    finally:
        emulator.stop()


@pytest.fixture
def timings(deployment):
    """Set the emulator's timings for one test; clear rules and put the quick timings back after."""
    control = deployment.emulator.control

    def set_timings(**seconds: float) -> None:
        control.set_settings(**seconds)

    yield set_timings
    with contextlib.suppress(LocalAwsControlError):
        control.clear_failures()
        control.set_settings(**QUICK)


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            found[int(entry.name)] = (parent, cmdline)
    return found


def kill_task_worker(ti_id: str) -> list[int]:
    """SIGKILL the process running task instance ``ti_id`` and the LocalExecutor worker above it."""
    processes = _processes()
    task = [pid for pid, (_, cmd) in processes.items() if cmd == f"airflow worker -- {ti_id}"]
    assert task, f"no process runs task instance {ti_id}"
    killed = []
    for pid in task:
        parent = processes[pid][0]
        for victim in (pid, parent):
            if "airflow worker" in processes.get(victim, (0, ""))[1]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
    return killed


def test_a_worker_killed_after_aws_accepted_its_create_leaves_one_stack_and_the_retry_attaches(
    deployment, timings
):
    """The worst moment: CloudFormation has the stack, the task has not yet recorded it."""
    model, dag_id = "killed-worker", "killed_worker"
    timings(stack_seconds=60, endpoint_seconds=2)
    deployment.emulator.control.hold("cloudformation.CreateStack", seconds=120, times=1)
    deployment.emulator.control.clear_requests()
    deployment.drop("killed_worker.yaml", realtime(model))
    deployment.api.wait_for_dag(dag_id)
    run_id = deployment.api.trigger(dag_id)["dag_run_id"]

    deployment.until(lambda: deployment.stacks_named(stack_name(model)), "the stack to be created")
    ti = deployment.wait_for_state(dag_id, run_id, "deploy_stack", "running")
    assert kill_task_worker(ti["id"])

    finished = deployment.finished(dag_id, run_id)
    assert finished["state"] == "success", deployment.api.failed_task_logs(dag_id, run_id)
    assert deployment.task(dag_id, run_id, "deploy_stack")["try_number"] == 2  # the heartbeat timeout failed try 1
    retry_log = deployment.api.task_log(dag_id, run_id, "deploy_stack", try_number=2)
    assert "waiting for it instead of starting another deployment" in retry_log, retry_log[-3000:]
    assert deployment.calls()["cloudformation.CreateStack"] == 1
    (stack,) = deployment.stacks_named(stack_name(model))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    (endpoint,) = deployment.endpoints_named(f"{model}-endpoint")
    assert endpoint["EndpointStatus"] == "InService"


def test_the_triggerer_killed_mid_wait_resumes_the_same_wait_on_another_triggerer(deployment, timings):
    model, dag_id = "killed-triggerer", "killed_triggerer"
    timings(stack_seconds=30, endpoint_seconds=2)
    deployment.emulator.control.clear_requests()
    deployment.drop("killed_triggerer.yaml", realtime(model))
    deployment.api.wait_for_dag(dag_id)
    run_id = deployment.api.trigger(dag_id)["dag_run_id"]
    deployment.wait_for_state(dag_id, run_id, "deploy_stack", "deferred")

    triggerer = deployment.services.processes["triggerer"]
    os.killpg(triggerer.pid, signal.SIGKILL)
    triggerer.wait(10)
    deployment.services._spawn("triggerer")  # a new triggerer, as a supervisor would start

    finished = deployment.finished(dag_id, run_id)
    assert finished["state"] == "success", deployment.api.failed_task_logs(dag_id, run_id)
    assert deployment.task(dag_id, run_id, "deploy_stack")["try_number"] == 1  # resumed, not retried
    assert deployment.calls()["cloudformation.CreateStack"] == 1
    assert len(deployment.stacks_named(stack_name(model))) == 1
    assert len(deployment.endpoints_named(f"{model}-endpoint")) == 1


def test_the_emulator_restarted_mid_wait_ends_the_run_with_a_reason_and_the_retry_recovers(deployment, timings):
    """A restarted emulator has lost every resource: the wait must fail clearly, not hang."""
    model, dag_id = "restarted-aws", "restarted_aws"
    timings(stack_seconds=30, endpoint_seconds=2)
    path = deployment.drop("restarted_aws.yaml", realtime(model, retry_delay_seconds=15))
    deployment.api.wait_for_dag(dag_id)
    run_id = deployment.api.trigger(dag_id)["dag_run_id"]
    deployment.wait_for_state(dag_id, run_id, "deploy_stack", "deferred")

    deployment.emulator.restart()
    # not the quick timings: a wait that ends within a second of deferring can meet a race of
    # Airflow's scheduler on a loaded machine (the deferral's executor event read after the
    # task resumed: "task state changed externally"), which is not what this test is about
    deployment.emulator.control.set_settings(stack_seconds=8, endpoint_seconds=2)
    deployment.drop(path.name, realtime(model, retry_delay_seconds=15))  # the new emulator's inputs

    finished = deployment.finished(dag_id, run_id)
    assert finished["state"] == "success", deployment.api.failed_task_logs(dag_id, run_id)
    assert deployment.task(dag_id, run_id, "deploy_stack")["try_number"] == 2
    # while it was down the wait could not reach it; had it come back between two polls, the
    # stack it no longer knows would have ended the wait: either way the first try says why
    first = deployment.api.task_log(dag_id, run_id, "deploy_stack", try_number=1)
    if first.startswith("(no log: 404"):
        # Once in a full suite at load 2+ the API had no record of try 1 (no task instance
        # history row), though the run went on to try 2; the try's log file is still written
        logs = deployment.services.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=deploy_stack"
        first = "".join(p.read_text(errors="replace") for p in logs.glob("attempt=1*.log"))
    reasons = ("Could not connect to the endpoint URL", "no longer exists: it was deleted, or AWS lost it")
    assert any(reason in first for reason in reasons), first[-3000:]
    assert len(deployment.stacks_named(stack_name(model))) == 1


def test_a_config_edited_while_its_run_is_active_finishes_that_run_then_deploys_the_edit(deployment, timings):
    model, dag_id = "edited-config", "edited_config"
    timings(stack_seconds=15, endpoint_seconds=2)
    deployment.emulator.control.clear_requests()
    path = deployment.drop("edited_config.yaml", realtime(model))
    deployment.api.wait_for_dag(dag_id)
    run_id = deployment.api.trigger(dag_id)["dag_run_id"]
    deployment.wait_for_state(dag_id, run_id, "deploy_stack", "deferred")

    path.write_text(yaml.safe_dump(realtime(model, inference_instance="ml.c5.xlarge")))
    finished = deployment.finished(dag_id, run_id)
    assert finished["state"] == "success", deployment.api.failed_task_logs(dag_id, run_id)

    deployment.until(lambda: "ml.c5.xlarge" in (deployment.api.dag_details(dag_id).get("doc_md") or ""),
                     "the DAG processor to parse the edit")
    second = deployment.api.trigger(dag_id)["dag_run_id"]
    assert deployment.finished(dag_id, second)["state"] == "success", deployment.api.failed_task_logs(dag_id, second)
    (stack,) = deployment.stacks_named(stack_name(model))
    calls = deployment.calls()
    assert (calls["cloudformation.CreateStack"], calls["cloudformation.UpdateStack"]) == (1, 1)
    parameters = deployment.aws("cloudformation").describe_stacks(StackName=stack["StackId"])["Stacks"][0]
    assert {"ParameterKey": "InferenceInstance", "ParameterValue": "ml.c5.xlarge"} in parameters["Parameters"]


def test_a_defaults_file_made_invalid_while_a_run_is_active_fails_it_clearly_and_recovers_when_fixed(
    deployment, timings
):
    model, dag_id = "broken-defaults", "broken_defaults"
    timings(stack_seconds=20, endpoint_seconds=2)
    deployment.emulator.control.clear_requests()
    team = deployment.dags / "team_defaults"
    team.mkdir()
    good = {**DEFAULTS, "retry_delay_seconds": 5}
    (team / "defaults.yaml").write_text(yaml.safe_dump(good))
    deployment.drop("team_defaults/broken_defaults.yaml", realtime(model))
    deployment.api.wait_for_dag(dag_id)
    run_id = deployment.api.trigger(dag_id)["dag_run_id"]
    deployment.wait_for_state(dag_id, run_id, "deploy_stack", "deferred")

    (team / "defaults.yaml").write_text(yaml.safe_dump({**good, "retries": "many"}))
    deployment.until(
        lambda: "invalid-config" in {t["name"] for t in (deployment.api.dag(dag_id) or {}).get("tags", [])},
        "the DAG to show the broken defaults",
    )
    finished = deployment.finished(dag_id, run_id)
    log = deployment.api.task_log(dag_id, run_id, "deploy_stack", try_number=1)
    assert "team_defaults/defaults.yaml: retries" in log, log[-3000:]
    # The run fails: its tasks kept their ids in the error DAG (stand-ins failing with the
    # problems), so none was marked removed (its deferred wait cancelled, its failure unexplained).
    assert finished["state"] == "failed"
    states = deployment.api.task_states(dag_id, run_id)
    assert "removed" not in states.values(), states

    (team / "defaults.yaml").write_text(yaml.safe_dump(good))
    deployment.until(
        lambda: "invalid-config" not in {t["name"] for t in (deployment.api.dag(dag_id) or {}).get("tags", [])},
        "the DAG to come back",
    )
    again = deployment.api.trigger(dag_id)["dag_run_id"]
    assert deployment.finished(dag_id, again)["state"] == "success", deployment.api.failed_task_logs(dag_id, again)
    assert deployment.calls()["cloudformation.CreateStack"] == 1
    assert len(deployment.stacks_named(stack_name(model))) == 1


def test_two_configs_claiming_one_dag_id_in_different_folders_keep_the_first(deployment):
    deployment.drop("team_a/claimed.yaml", realtime("claimed-a"))
    deployment.api.wait_for_dag("claimed")
    deployment.drop("team_b/claimed.yaml", realtime("claimed-b"))
    deployment.drop("team_b/marker.yaml", realtime("claimed-marker"))  # parsed in the same pass
    deployment.api.wait_for_dag("marker")

    details = deployment.api.dag_details("claimed")
    assert "team_a/claimed.yaml" in details["doc_md"] and "claimed-b" not in details["doc_md"]
    assert deployment.api.import_errors() == []
    logs = "".join(p.read_text(errors="replace") for p in (deployment.services.home / "logs").rglob("*.log"))
    assert "team_b/claimed.yaml: dag_id: 'claimed' is already the DAG of team_a/claimed.yaml" in logs


def test_no_secret_of_a_connection_or_the_environment_reaches_docs_xcom_logs_or_rendered_fields(deployment):
    """After every run of this module: the secrets are in the services' environment, nowhere else."""
    api = deployment.api
    scheduler = deployment.services.processes["scheduler"].pid
    environment = Path(f"/proc/{scheduler}/environ").read_bytes().decode(errors="replace")
    assert CONNECTION_SECRET in environment and ENVIRONMENT_SECRET in environment  # the probe is armed

    seen: dict[str, str] = {}
    dags = api.get("/dags", limit=1000)["dags"]
    assert dags
    for dag in dags:
        details = api.dag_details(dag["dag_id"])
        seen[f"DAG {dag['dag_id']} details"] = json.dumps(details, default=str)
        for run in api.get(f"/dags/{dag['dag_id']}/dagRuns", limit=1000)["dag_runs"]:
            where = f"{dag['dag_id']}/{run['dag_run_id']}"
            tis = api.get(f"/dags/{dag['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances", limit=1000)
            seen[f"{where} task instances (rendered fields)"] = json.dumps(tis, default=str)
            entries = api.get(f"/dags/{dag['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances/~/xcomEntries",
                              limit=1000)["xcom_entries"]
            for entry in entries:
                value = api.get(
                    f"/dags/{dag['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances/{entry['task_id']}"
                    f"/xcomEntries/{entry['key']}", map_index=entry.get("map_index", -1)
                )
                seen[f"{where} XCom {entry['task_id']}.{entry['key']}"] = json.dumps(value, default=str)
            for ti in tis["task_instances"]:
                for attempt in range(1, (ti["try_number"] or 0) + 1):
                    seen[f"{where} {ti['task_id']} log {attempt}"] = api.task_log(
                        dag["dag_id"], run["dag_run_id"], ti["task_id"], attempt
                    )
    for path in (deployment.services.home / "logs").rglob("*"):
        if path.is_file():
            seen[str(path)] = path.read_text(errors="replace")
    assert any(" XCom " in where for where in seen) and any(" log " in where for where in seen)
    leaks = [where for where, text in seen.items() if CONNECTION_SECRET in text or ENVIRONMENT_SECRET in text]
    assert leaks == []
