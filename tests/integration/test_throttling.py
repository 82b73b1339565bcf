"""
Throttling: bursts of AWS's throttling error on every API a pipeline calls, for its whole run.

A first run of a train, register, approve and deploy pipeline (two stacks, a training job, a model
version and its card, an endpoint: the widest set of APIs of any pipeline) lists the APIs it
calls, from the emulator's request counter. A second pipeline of the same shape then runs while
every one of those APIs answers bursts of throttling (``ThrottlingException``, CloudFormation's
``Throttling``, S3's ``SlowDown``), re-armed every few seconds while the run lasts: the run must
succeed with nothing duplicated, and the counter must show each API throttled and then answered
(the clients retried with backoff, as botocore does by default).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from metadata import try_numbers

pytestmark = [pytest.mark.integration, pytest.mark.faults]

#: Throttled answers in a row per burst: botocore's default (legacy) retry mode makes 5 attempts.
BURST = 3
#: Seconds of calm after an API's burst before its next one: longer than botocore's backoff over
#: its 5 attempts (at most 1 + 2 + 4 + 8 s), so no call meets two bursts, as after a real burst.
CALM_SECONDS = 16.0
#: How often the bursts are looked at and re-armed.
LOOK_SECONDS = 1.0


def training_flow(model: str) -> dict[str, Any]:
    return {
        "pipeline_type": "model_training_builtin",
        "model_name": model,
        "model_framework": "xgboost",
        "model_framework_version": "1.7-1",
        "training_data": f"training/{model}/train.csv",
        "validation_data": f"training/{model}/validation.csv",
        "job_output_location": f"training/{model}/output",
        "use_spot_instances": False,
        "algo_hyperparameters": {"objective": "binary:logistic", "eval_metric": "auc", "num_round": 10},
        "model_package_group_name": model,
        "approval_threshold": {"metric": "validation:auc", "min": 0.6},
        "deploy": {"type": "realtime", "inference_instance": "ml.m5.large", "data_capture_location": f"it-assets/dc/{model}"},
        "model_card": {"intended_uses": {"purpose_of_model": "churn scoring", "risk_rating": "Medium"}},
    }


class Bursts:
    """Arm a throttling burst on every API of ``apis``, and again after each burst's calm, until stopped.

    Each rule is anchored (``service.Action$``): it throttles that one API, so no call meets the
    bursts of two rules in a row.
    """

    def __init__(self, control, apis: set[str]) -> None:
        self.control = control
        self.apis = sorted(apis)
        self.stopped = threading.Event()
        self.armed: dict[str, int] = dict.fromkeys(self.apis, 0)
        self.spent_at: dict[str, float] = {}  # when an API's last burst was seen used up
        self.thread = threading.Thread(target=self._run, name="throttle-bursts", daemon=True)

    def __enter__(self) -> Bursts:
        self._arm()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(30)
        self.control.clear_failures()

    def _run(self) -> None:
        while not self.stopped.wait(LOOK_SECONDS):
            self._arm()

    def _arm(self) -> None:
        now = time.monotonic()
        pending = {rule.match for rule in self.control.list_failures() if rule.kind == "throttle"}
        for api in self.apis:
            if f"{api}$" in pending:
                continue
            if self.armed[api] and now - self.spent_at.setdefault(api, now) < CALM_SECONDS:
                continue
            self.control.throttle(f"{api}$", times=BURST)
            self.armed[api] += 1
            self.spent_at.pop(api, None)


def run(folder: Path, name: str, model: str, local_aws, aws, airflow_ready, control, bursts_on: set[str] | None):
    """Seed and run one pipeline; the run report, the resources it left and the calls it made."""
    from mlops_orchestrator.config import load_config
    from mlops_orchestrator.run.airflow_env import set_local_aws_connection
    from mlops_orchestrator.run.dag_run import run_pipeline
    from mlops_orchestrator.run.inputs import seed_inputs
    from mlops_orchestrator.run.resources import pipeline_resources

    path = folder / name
    path.write_text(yaml.safe_dump(training_flow(model)))
    loaded = load_config(path, root=folder)
    set_local_aws_connection(loaded.aws_conn_id, local_aws.endpoint_url, "us-east-1")
    seed_inputs(loaded, aws, "us-east-1")
    control.clear_requests()
    if bursts_on is None:
        report = run_pipeline(path, config_root=folder, home=airflow_ready).to_dict()
        armed = 0
    else:
        with Bursts(control, bursts_on) as bursts:
            report = run_pipeline(path, config_root=folder, home=airflow_ready).to_dict()
        armed = sum(bursts.armed.values())
    counted = control.requests()
    report["resources"] = pipeline_resources(aws, report["dag_id"])
    return report, counted, armed


def test_bursts_of_throttling_on_every_api_a_pipeline_calls_are_retried_and_the_run_succeeds(
    tmp_path, local_aws, aws, airflow_ready, control
):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "defaults.yaml").write_text(
        yaml.safe_dump({"assets_bucket": "it-assets", "region_name": "us-east-1", "retry_delay_seconds": 1})
    )
    calm, calm_calls, _ = run(folder, "calm_flow.yaml", "calm-flow", local_aws, aws, airflow_ready, control, None)
    assert calm["state"] == "success", calm["failures"]
    apis = set(calm_calls["calls"])
    assert calm_calls["throttled"] == {}
    # the pipeline's APIs span every service it uses
    assert {api.split(".")[0] for api in apis} >= {"cloudformation", "sagemaker", "s3"}, apis

    report, counted, armed = run(
        folder, "throttled_flow.yaml", "throttled-flow", local_aws, aws, airflow_ready, control, apis
    )
    assert report["state"] == "success", report["failures"]
    assert report["tasks"] == calm["tasks"]  # the same tasks ran (and were skipped) as without throttling
    # no task needed a second try: botocore's retries absorbed every burst
    ran = {task for task, state in report["tasks"].items() if state == "success"}
    assert {task: n for task, n in try_numbers(report["dag_id"]).items() if task in ran and n != 1} == {}

    calls, throttled = counted["calls"], counted["throttled"]
    assert armed > len(apis)  # bursts came again while the run lasted, not only at its start
    assert set(throttled) == apis, f"not throttled: {sorted(apis - set(throttled))}"
    # every throttled API was called again and answered: more calls than throttled answers
    unanswered = {api: (calls[api], throttled[api]) for api in throttled if calls[api] <= throttled[api]}
    assert unanswered == {}

    # nothing duplicated by the retries: what the calm run left, once, for the throttled pipeline
    def kinds(resources: dict[str, Any]) -> dict[str, int]:
        return {kind: len(items) for kind, items in resources.items() if isinstance(items, list)}

    assert kinds(report["resources"]) == kinds(calm["resources"])
    sagemaker = aws("sagemaker")
    jobs = sagemaker.list_training_jobs(NameContains="throttled-flow")["TrainingJobSummaries"]
    assert len(jobs) == 1, jobs
    versions = sagemaker.list_model_packages(ModelPackageGroupName="throttled-flow")["ModelPackageSummaryList"]
    assert len(versions) == 1, versions
    # every create call was answered as often as in the calm run, its throttled attempts aside
    creates = {api for api in apis if ".Create" in api}
    assert {"cloudformation.CreateStack", "sagemaker.CreateTrainingJob"} <= creates
    answered = {api: calls[api] - throttled.get(api, 0) for api in creates}
    assert answered == {api: calm_calls["calls"][api] for api in creates}
