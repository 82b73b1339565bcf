"""
The plugin on Airflow's own API server: MWO's provisionpipeline / pipelinestatus, GET /pipelines,
authentication and authorization by Airflow's auth manager, and the pipelines page in Chromium.

One set of Airflow services (scheduler, DAG processor, triggerer, API server) with the repo's
plugins/ folder and the package's entry point, SimpleAuthManager with an admin, a viewer and a
viewer refused one team's DAGs (team_auth_manager.py), the local AWS emulator. Bodies are MWO's,
posted as MWO's scripts post them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from mlops_orchestrator.run.services import AirflowServices, connection_env
from team_auth_manager import HIDDEN_PREFIX, OUTSIDER

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# One retry: Airflow 3.3's scheduler can fail a resumed deferred task when the executor's report of
# its deferral arrives after the resumption (apache/airflow#72716, seen here on a loaded machine);
# the retry re-attaches to the stack, as a retry does on AWS.
DEFAULTS = {
    "assets_bucket": "api-assets",
    "region_name": "us-east-1",
    "aws_conn_id": "aws_default",
    "retries": 1,
    "retry_delay_seconds": 1,
}
PREFIX = "/mlops-orchestrator"


def realtime_body(model_name: str) -> dict:
    """The README's realtime example as an MWO script posts it (JSON), for ``model_name``."""
    body = yaml.safe_load((REPO / "dags/examples/realtime_builtin_xgboost.yaml").read_text())
    body.update(
        model_name=model_name,
        model_artifact_location=f"models/{model_name}/model.tar.gz",
        data_capture_location=f"api-assets/datacapture/{model_name}",
        endpoint_name=f"{model_name}-endpoint",
    )
    return body


def seed(body: dict, aws, tmp: Path) -> None:
    """Upload what the body points at (the model artifact), as its owner would before posting."""
    from mlops_orchestrator.config import load_config
    from mlops_orchestrator.run.inputs import seed_inputs

    folder = tmp / "seed"
    folder.mkdir(exist_ok=True)
    (folder / "defaults.yaml").write_text(yaml.safe_dump(DEFAULTS))
    (folder / "body.json").write_text(json.dumps(body))
    seed_inputs(load_config(folder / "body.json", root=folder), aws, "us-east-1")


@pytest.fixture(scope="module")
def airflow(tmp_path_factory, local_aws):
    root = tmp_path_factory.mktemp("api")
    dags = root / "dags"
    dags.mkdir()
    shutil.copy(REPO / "dags/mlops_pipelines.py", dags / "mlops_pipelines.py")
    (dags / "defaults.yaml").write_text(yaml.safe_dump(DEFAULTS))
    broken = realtime_body("churn-broken")
    broken["model_nmae"] = broken.pop("model_name")
    (dags / "team").mkdir()
    (dags / "team" / "churn_broken.yaml").write_text(yaml.safe_dump(broken))
    # SimpleAuthManager with one per-DAG refusal (team_auth_manager.py), importable by every component
    python_path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    services = AirflowServices(
        home=root / "airflow-home",
        dags_folder=dags,
        users={"admin": "admin", "viewer": "viewer", OUTSIDER: "viewer"},
        env={
            **connection_env(["aws_default"], local_aws.endpoint_url),
            "MLOPS_ORCHESTRATOR_POLL_SECONDS": "1",
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__AUTH_MANAGER": "team_auth_manager.TeamAuthManager",
            "PYTHONPATH": python_path,
        },
    )
    with services:
        services.client().wait_for_dag("churn_broken")
        yield services


@pytest.fixture(scope="module")
def http(airflow):
    """``http(user)`` -> an httpx client of the API server with ``user``'s token (None: no token)."""
    clients = []

    def make(user: str | None = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {airflow.token(user)}"} if user else {}
        client = httpx.Client(base_url=airflow.base_url, headers=headers, timeout=300)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def mwo_post(client: httpx.Client, path: str, body: dict, **params) -> httpx.Response:
    """As MWO's API Gateway took it: the JSON text as the body, no JSON content type."""
    return client.post(f"{PREFIX}{path}", content=json.dumps(body), params=params)


def test_the_plugin_is_loaded_once_with_its_app_and_page(airflow, http):
    admin = http("admin")
    plugins = admin.get("/api/v2/plugins").json()["plugins"]
    ours = [p for p in plugins if p["name"] == "mlops_orchestrator"]
    assert len(ours) == 1, plugins
    assert ours[0]["fastapi_apps"][0]["url_prefix"] == PREFIX
    assert ours[0]["external_views"][0]["href"] == f"{PREFIX}/ui/pipelines"
    assert "airflow-provider-mlops-orchestrator" in ours[0]["source"]  # through the package's entry point
    # plugins/ is loaded too (AIRFLOW__CORE__PLUGINS_FOLDER) and does not register it a second time
    assert admin.get("/api/v2/plugins/importErrors").json()["import_errors"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/provisionpipeline"), ("POST", "/pipelinestatus"), ("GET", "/pipelines")],
)
def test_calls_without_a_valid_token_are_refused(airflow, http, method, path):
    anonymous = http(None)
    body = json.dumps({"pipeline_id": "x"})
    response = anonymous.request(method, f"{PREFIX}{path}", content=body if method == "POST" else None)
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == "Not authenticated"
    forged = anonymous.request(
        method, f"{PREFIX}{path}", content=body if method == "POST" else None, headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert forged.status_code in (401, 403), forged.text


def test_a_viewer_may_read_but_not_provision(airflow, http, aws, tmp_path):
    viewer = http("viewer")
    body = realtime_body("churn-viewer")
    refused = mwo_post(viewer, "/provisionpipeline", body)
    assert refused.status_code == 403, refused.text
    assert "viewer may not edit DAG 'mlops-pipeline-churn-viewer-byompipelinerealtimebuiltin'" in refused.json()["message"]
    assert not (airflow.dags_folder / "provisioned" / "mlops-pipeline-churn-viewer-byompipelinerealtimebuiltin.json").exists()
    invalid = mwo_post(viewer, "/provisionpipeline", {**body, "model_nmae": "x"})
    assert invalid.status_code == 403, invalid.text  # no validation details for someone who may not provision
    listing = viewer.get(f"{PREFIX}/pipelines")
    assert listing.status_code == 200, listing.text
    assert "churn_broken" in {p["dag_id"] for p in listing.json()["pipelines"]}


def test_an_invalid_body_gets_every_problem_as_validate_prints_it(airflow, http, tmp_path):
    body = realtime_body("churn-typo")
    body["model_nmae"] = body.pop("model_name")
    body["inference_instance"] = "m5.large"
    response = mwo_post(http("admin"), "/provisionpipeline", body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["message"] == "Bad request. The pipeline config is invalid: 3 problem(s)"
    # the same problems, field by field, that `mlops-orchestrator validate` prints for the body as a file
    folder = tmp_path / "dropped"
    folder.mkdir()
    (folder / "defaults.yaml").write_text(yaml.safe_dump(DEFAULTS))
    dropped = folder / "body.json"
    dropped.write_text(json.dumps(body))
    printed = subprocess.run(
        [sys.executable, "-m", "mlops_orchestrator.cli", "validate", str(dropped)], capture_output=True, text=True
    ).stdout
    expected = [line.replace(str(dropped), "request body") for line in printed.splitlines()]
    assert [p["text"] for p in answer["problems"]] == expected
    assert {p["field"] for p in answer["problems"]} == {"model_nmae", "model_name", "inference_instance"}
    assert not (airflow.dags_folder / "provisioned").exists() or not any((airflow.dags_folder / "provisioned").glob("*.json"))
    not_json = http("admin").post(f"{PREFIX}/provisionpipeline", content=b"{not json")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["message"]


def test_provisioning_deploys_and_the_status_says_where(airflow, http, aws, tmp_path):
    admin = http("admin")
    body = realtime_body("churn-api")
    seed(body, aws, tmp_path)
    response = mwo_post(admin, "/provisionpipeline", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    dag_id = "mlops-pipeline-churn-api-byompipelinerealtimebuiltin"
    assert answer["pipeline_id"] == answer["dag_id"] == dag_id
    assert answer["config_file"] == f"provisioned/{dag_id}.json"
    assert answer["created"] is True
    assert answer["run"]["state"] == "triggered", answer
    written = airflow.dags_folder / "provisioned" / f"{dag_id}.json"
    assert json.loads(written.read_text()) == body  # the body as posted, nothing added
    assert [p.name for p in written.parent.iterdir() if not p.name.startswith(".mlops")] == [written.name]

    api = airflow.client()
    finished = api.wait_for_run(dag_id, answer["run"]["run_id"])
    assert finished["state"] == "success", api.failed_task_logs(dag_id, answer["run"]["run_id"])

    status = mwo_post(admin, "/pipelinestatus", {"pipeline_id": answer["pipeline_id"]})
    assert status.status_code == 200, status.text
    state = status.json()
    assert state["state"] == "success"
    assert state["last_run"]["run_id"] == answer["run"]["run_id"]
    assert {s["task_id"]: s["state"] for s in state["last_run"]["steps"]} == {
        "deploy_stack": "success",
        "deployed": "success",
        "delete_stack": "skipped",
    }
    [stage] = state["stages"]
    assert (stage["stage"], stage["account"], stage["region"]) == ("dev", "123456789012", "us-east-1")
    assert [(s["name"], s["status"]) for s in stage["stacks"]] == [(dag_id, "CREATE_COMPLETE")]
    assert [(e["name"], e["status"], e["instance_type"]) for e in stage["endpoints"]] == [
        ("churn-api-endpoint", "InService", "ml.m5.large")
    ]
    # MWO's scripts may hold the stack name as the pipeline id
    by_stack = mwo_post(admin, "/pipelinestatus", {"pipeline_id": state["stack_name"]})
    assert by_stack.json()["dag_id"] == dag_id


def test_posting_the_same_body_again_updates_and_runs_the_same_pipeline(airflow, http, aws, tmp_path):
    admin = http("admin")
    api = airflow.client()
    body = realtime_body("churn-api")
    dag_id = "mlops-pipeline-churn-api-byompipelinerealtimebuiltin"
    again = mwo_post(admin, "/provisionpipeline", body).json()
    assert (again["created"], again["changed"]) == (False, False), again
    assert again["message"] == f"Pipeline {dag_id} is already provisioned. No updates are to be performed."
    assert api.wait_for_run(dag_id, again["run"]["run_id"])["state"] == "success"

    body["inference_instance"] = "ml.m5.xlarge"
    changed = mwo_post(admin, "/provisionpipeline", body).json()
    assert (changed["created"], changed["changed"], changed["run"]["state"]) == (False, True, "triggered"), changed
    assert api.wait_for_run(dag_id, changed["run"]["run_id"])["state"] == "success"
    status = mwo_post(admin, "/pipelinestatus", {"pipeline_id": dag_id}).json()
    assert [(e["status"], e["instance_type"]) for e in status["stages"][0]["endpoints"]] == [("InService", "ml.m5.xlarge")]
    provisioned = [p.name for p in (airflow.dags_folder / "provisioned").glob("*.json")]
    assert provisioned == [f"{dag_id}.json"]


def test_a_user_without_read_access_to_a_pipelines_dag_neither_sees_nor_reads_it(airflow, http):
    """The auth manager refuses ``outsider`` the DAGs starting with HIDDEN_PREFIX (team_auth_manager.py)."""
    outsider = http(OUTSIDER)
    dag_id = "mlops-pipeline-churn-api-byompipelinerealtimebuiltin"  # deployed by the tests above
    assert dag_id.startswith(HIDDEN_PREFIX)
    assert dag_id in {p["dag_id"] for p in http("viewer").get(f"{PREFIX}/pipelines").json()["pipelines"]}
    listing = outsider.get(f"{PREFIX}/pipelines")
    assert listing.status_code == 200, listing.text
    listed = {p["dag_id"] for p in listing.json()["pipelines"]}
    assert "churn_broken" in listed and not any(d.startswith(HIDDEN_PREFIX) for d in listed), listed
    refused = mwo_post(outsider, "/pipelinestatus", {"pipeline_id": dag_id})
    assert refused.status_code == 403, refused.text
    assert refused.json()["message"] == f"Forbidden: {OUTSIDER} may not read DAG {dag_id!r}"
    by_stack = mwo_post(outsider, "/pipelinestatus", {"pipeline_id": f"{dag_id}-codepipeline"})  # MWO's id form
    assert by_stack.status_code == 403, by_stack.text
    assert mwo_post(outsider, "/pipelinestatus", {"pipeline_id": "churn_broken"}).status_code == 200
    # provisioning it again is refused as well (a viewer), before anything is validated or written
    assert mwo_post(outsider, "/provisionpipeline", realtime_body("churn-api")).status_code == 403


def test_the_status_command_reads_the_same_status(airflow):
    """`mlops-orchestrator status` where Airflow runs (its home and connections), without the API."""
    dag_id = "mlops-pipeline-churn-api-byompipelinerealtimebuiltin"
    command = [sys.executable, "-m", "mlops_orchestrator.cli", "status"]
    env = airflow.environment()
    shown = subprocess.run([*command, dag_id], env=env, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"{dag_id} (byom_realtime_builtin, provisioned/{dag_id}.json): success"
    assert "  stage dev (123456789012 · us-east-1):" in lines
    assert f"    stack {dag_id}: UPDATE_COMPLETE" in lines
    assert "    endpoint churn-api-endpoint: InService on ml.m5.xlarge" in lines
    as_json = subprocess.run([*command, "churn_broken", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert as_json.returncode == 1  # an invalid config
    status = json.loads(as_json.stdout)
    assert (status["state"], status["problems"][0]["field"]) == ("invalid", "model_nmae")
    missing = subprocess.run([*command, "no-such-pipeline"], env=env, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1
    assert f"No pipeline 'no-such-pipeline' in {airflow.dags_folder}" in missing.stderr


def test_another_pipelines_file_or_dag_id_is_never_overwritten(airflow, http):
    admin = http("admin")
    taken = realtime_body("churn-hand")
    taken["dag_id"] = "churn_hand"
    hand_written = airflow.dags_folder / "team" / "churn_hand.yaml"
    hand_written.write_text(yaml.safe_dump(taken))
    before = hand_written.read_bytes()
    other = realtime_body("churn-other")
    other["dag_id"] = "churn_hand"
    refused = mwo_post(admin, "/provisionpipeline", other, run="false")
    assert refused.status_code == 409, refused.text
    assert refused.json()["message"] == (
        "Conflict: DAG id 'churn_hand' is already the DAG of team/churn_hand.yaml; "
        "set another dag_id in the body (or change that config)"
    )
    assert hand_written.read_bytes() == before
    assert not (airflow.dags_folder / "provisioned" / "churn_hand.json").exists()


def test_pipelines_lists_broken_configs_first_with_their_problems(airflow, http):
    listing = http("admin").get(f"{PREFIX}/pipelines").json()
    first = listing["pipelines"][0]
    assert (first["dag_id"], first["file"], first["valid"], first["state"]) == (
        "churn_broken",
        "team/churn_broken.yaml",
        False,
        "invalid",
    )
    assert [p["text"] for p in first["problems"]] == [
        "team/churn_broken.yaml: model_nmae: unknown field; did you mean 'model_name'?",
        "team/churn_broken.yaml: model_name: field required",
    ]
    deployed = next(p for p in listing["pipelines"] if p["dag_id"].startswith("mlops-pipeline-churn-api"))
    assert (deployed["valid"], deployed["state"], deployed["pipeline_type"]) == (True, "success", "byom_realtime_builtin")


def test_model_card_bodies_are_done_against_sagemaker_through_the_api(airflow, http):
    """MWO's model card bodies go through provisionpipeline to mlops_orchestrator.model_cards."""
    assert importlib.util.find_spec("mlops_orchestrator.model_cards") is not None
    admin, viewer = http("admin"), http("viewer")
    card = {
        "pipeline_type": "create_model_card",
        "name": "api-churn-card",
        "status": "Draft",
        "model_overview": {"model_description": "Predicts churn", "model_owner": "marketing"},
    }
    refused = mwo_post(viewer, "/provisionpipeline", card)
    assert refused.status_code == 403, refused.text
    created = mwo_post(admin, "/provisionpipeline", card)
    assert created.status_code == 200, created.text
    assert created.json()["ModelCardName"] == "api-churn-card"
    described = mwo_post(viewer, "/provisionpipeline", {"pipeline_type": "describe_model_card", "name": "api-churn-card"})
    assert described.status_code == 200, described.text
    assert json.loads(described.json()["Content"])["model_overview"]["model_owner"] == "marketing"
    listed = mwo_post(viewer, "/provisionpipeline", {"pipeline_type": "list_model_cards"})
    assert "api-churn-card" in {c["ModelCardName"] for c in listed.json()["ModelCardSummaries"]}
    bad = mwo_post(admin, "/provisionpipeline", {"pipeline_type": "describe_model_card"})
    assert bad.status_code == 400, bad.text
    assert [p["field"] for p in bad.json()["problems"]] == ["name"]


MONITOR_DAG = "it_churn_api_dq_dataquality"


def test_a_monitor_provisioned_through_the_api_reports_its_violations_over_time(airflow, http, aws, control, tmp_path):
    """A data quality monitor posted as MWO's body, run by the scheduler: its executions, the first
    with violations, are in pipelinestatus (what the page's chart draws, below)."""
    import time

    from notify import TopicInbox
    from test_monitors import monitor, serve_endpoint

    admin = http("admin")
    endpoint = serve_endpoint(aws, "churn-api-monitored")
    control.set_settings(schedule_seconds=15)  # the emulated hour between two executions
    control.add_failure("monitoring_violation", match=f"{endpoint}-data-quality", reason="day_mins drifted", times=1)
    inbox = TopicInbox(aws)
    body = monitor(
        "byom_data_quality_monitor", "churn-api-dq", endpoint,
        notifications={"sns_topic_arn": inbox.topic_arn, "on": ["violations", "failure"]},
    )
    seed(body, aws, tmp_path)
    answer = mwo_post(admin, "/provisionpipeline", body).json()
    assert (answer["dag_id"], answer["run"]["state"]) == (MONITOR_DAG, "triggered"), answer
    api = airflow.client()
    finished = api.wait_for_run(MONITOR_DAG, answer["run"]["run_id"])
    assert finished["state"] == "success", api.failed_task_logs(MONITOR_DAG, answer["run"]["run_id"])
    # the run's results task (on Airflow's own worker) sent the violations to the pipeline's topic
    [message] = inbox.read(1)
    assert message["Subject"] == f"[mlops-orchestrator] {MONITOR_DAG}: 1 monitor violation(s)"
    assert "day_mins drifted" in message["Message"]
    assert f"config provisioned/{MONITOR_DAG}.json" in message["Message"]
    assert inbox.settle() == []

    deadline = time.monotonic() + 180
    while True:  # until the schedule has run a second execution after the one with violations
        status = mwo_post(admin, "/pipelinestatus", {"pipeline_id": MONITOR_DAG}).json()
        [schedule] = status["stages"][0]["monitoring_schedules"]
        done = [h for h in schedule["history"] if h["status"] in ("Completed", "CompletedWithViolations")]
        if len(done) >= 2:
            break
        assert time.monotonic() < deadline, schedule
        time.sleep(2)
    assert schedule["status"] == "Scheduled"
    assert done[0]["status"] == "CompletedWithViolations" and done[0]["violations"] >= 1, done
    assert done[1]["violations"] == 0, done


def test_a_provisioned_pipelines_failure_is_sent_to_its_topic_by_airflows_worker(airflow, http, aws, control, tmp_path):
    """The failure callback runs where Airflow runs the task (LocalExecutor's worker), after its retry."""
    from notify import TopicInbox

    inbox = TopicInbox(aws)
    reason = "ResourceLimitExceeded: no ml.m5.large left"
    control.add_failure("endpoint", match="churn-fail-endpoint", reason=reason)
    body = {**realtime_body("churn-fail"), "notifications": {"sns_topic_arn": inbox.topic_arn}}
    seed(body, aws, tmp_path)
    answer = mwo_post(http("admin"), "/provisionpipeline", body).json()
    dag_id = "mlops-pipeline-churn-fail-byompipelinerealtimebuiltin"
    assert (answer["dag_id"], answer["run"]["state"]) == (dag_id, "triggered"), answer
    assert airflow.client().wait_for_run(dag_id, answer["run"]["run_id"])["state"] == "failed"

    messages = [*inbox.read(1), *inbox.settle()]
    assert messages, "no failure notification"
    # One failure, one message; but when the executor's report of the deferral arrives after the
    # resumed try is running (apache/airflow#72716, the race DEFAULTS' retry is for), the scheduler
    # also fails that try and the DAG processor runs the same failure callback: the same message
    # twice (seen in a full run on a loaded machine). Anything else (a retry notified, another
    # task) fails here.
    assert len(messages) <= 2, [m["Subject"] for m in messages]
    for message in messages:
        assert message["Subject"] == f"[mlops-orchestrator] {dag_id} failed: deploy_stack"
        text = message["Message"]
        assert f"Pipeline: {dag_id} (byom_realtime_builtin, config provisioned/{dag_id}.json)" in text
        assert "Task: deploy_stack (try 2)" in text, text  # its last try: retries do not notify
        assert f"Log: {airflow.base_url}" in text
    # the worker's message has the stack's reason (the scheduler's copy has its state mismatch)
    assert any(reason in m["Message"] for m in messages), [m["Message"] for m in messages]


def test_the_pipelines_page_shows_pipelines_resources_and_broken_configs_in_chromium(airflow, http, tmp_path):
    """Airflow's UI, signed in with a token as its login does, opens Browse > MLOps pipelines
    (after the tests above left a deployed pipeline and a monitor with violations)."""
    from browser import chromium
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium()
    try:
        driver.get(f"{airflow.base_url}/api/v2/version")  # a page of the API server's origin, to hold the cookie
        driver.add_cookie({"name": "_token", "value": airflow.token("admin"), "path": "/"})
        driver.get(f"{airflow.base_url}/plugin/mlops-pipelines")
        wait = WebDriverWait(driver, 120)
        frame = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "iframe")))
        assert frame.get_attribute("src").endswith("/mlops-orchestrator/ui/pipelines")
        driver.switch_to.frame(frame)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")

        broken = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#broken-configs tr.broken-config")]
        assert len(broken) == 2, broken
        assert broken[0].startswith("team/churn_broken.yaml:"), broken  # with the line of the YAML key
        assert broken[0].endswith(" model_nmae unknown field; did you mean 'model_name'? churn_broken"), broken
        assert broken[1].startswith("team/churn_broken.yaml"), broken
        assert broken[1].endswith(" model_name field required churn_broken"), broken
        row = driver.find_element(
            By.CSS_SELECTOR, 'tr[data-pipeline="mlops-pipeline-churn-api-byompipelinerealtimebuiltin"]'
        )
        assert row.get_attribute("data-loaded") == "true"
        assert "byom_realtime_builtin" in row.text
        assert "provisioned/mlops-pipeline-churn-api-byompipelinerealtimebuiltin.json" in row.text
        assert row.find_element(By.CSS_SELECTOR, ".last-run .state").text == "success"
        stage = row.find_element(By.CSS_SELECTOR, '.stage[data-stage="dev"]')
        assert "123456789012" in stage.text
        stack = stage.find_element(By.CSS_SELECTOR, ".stack")
        assert stack.text in (  # updated by the re-post test when it ran before
            "stack mlops-pipeline-churn-api-byompipelinerealtimebuiltin: CREATE_COMPLETE",
            "stack mlops-pipeline-churn-api-byompipelinerealtimebuiltin: UPDATE_COMPLETE",
        )
        endpoint = stage.find_element(By.CSS_SELECTOR, '.endpoint[data-endpoint="churn-api-endpoint"]')
        assert endpoint.find_element(By.CSS_SELECTOR, ".endpoint-status").text == "InService"
        # the monitor's executions as a bar chart over time: the first red (violations), then grey
        monitor_row = driver.find_element(By.CSS_SELECTOR, f'tr[data-pipeline="{MONITOR_DAG}"]')
        assert monitor_row.get_attribute("data-loaded") == "true"
        assert "byom_data_quality_monitor" in monitor_row.text
        chart = monitor_row.find_element(By.CSS_SELECTOR, ".monitor svg.violations-chart")
        counts = [int(c) for c in chart.get_attribute("aria-label").removeprefix("violations per execution: ").split(", ")]
        bars = chart.find_elements(By.TAG_NAME, "rect")
        assert len(bars) == len(counts) >= 2, counts
        first_violations = next(i for i, c in enumerate(counts) if c)
        assert bars[first_violations].get_attribute("fill") == "#c62828", counts
        assert bars[first_violations + 1].get_attribute("fill") == "#9e9e9e", counts
        assert float(bars[first_violations].get_attribute("height")) > float(bars[first_violations + 1].get_attribute("height"))
        assert monitor_row.find_element(By.CSS_SELECTOR, ".violations-summary").text.startswith("latest: ")
        driver.save_screenshot(str(tmp_path / "pipelines-page.png"))
    finally:
        driver.quit()
