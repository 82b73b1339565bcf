"""Many pipelines at once on real Airflow services, and a config's way to InService (not a test).

Airflow as deployed (scheduler, DAG processor, triggerer, API server; LocalExecutor with
``--parallelism`` worker slots; SQLite or PostgreSQL) on the local emulator in a process of its own, whose
stacks and endpoints take ``--seconds``. In one command:

1. baseline: one realtime pipeline alone, triggered through the REST API: its run's time (queued
   to end, the scheduler's own timestamps);
2. ``--pipelines`` N pipelines triggered at once: the time from the first queued to the last
   finished, and its ratio to the baseline; while they wait, how many tasks hold a worker slot
   (``running``) and how many wait in the triggerer (``deferred``), sampled every 2 s; AWS calls
   per waiting job per minute, counted at the emulator over the window in which every stack
   wait is deferred; from each run queued to its deploy_stack started;
3. where the time goes: CPU seconds per component (scheduler, its workers with their task
   processes, DAG processor, triggerer, API server, emulator, PostgreSQL) in each phase, task
   processes started, and how long worker slots stayed taken after their task had ended;
4. a config dropped into the dags folder (emulator timings ``--drop-seconds``): the time until its
   DAG is listed, until its run is triggered and until its endpoint is InService, step by step.

``--database postgres`` keeps Airflow's metadata in a throwaway PostgreSQL, as deployed (SQLite,
the default here as in the tests, serializes every write); ``--airflow section.key=value`` sets
an Airflow option for every component.

    .venv/bin/python benchmarks/services_benchmark.py --pipelines 50 --seconds 120 --parallelism 4 --database postgres
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {"assets_bucket": "bench-assets", "region_name": "us-east-1", "aws_conn_id": "aws_default", "retries": 0}


def realtime(model: str) -> dict[str, Any]:
    config = yaml.safe_load((REPO / "dags/examples/realtime_builtin_xgboost.yaml").read_text())
    config.update(
        model_name=model,
        model_artifact_location=f"models/{model}/model.tar.gz",
        data_capture_location=f"bench-assets/datacapture/{model}",
        endpoint_name=f"{model}-endpoint",
    )
    return config


def airflow_settings(settings: list[str]) -> dict[str, str]:
    """``section.key=value`` as Airflow's environment variables (``AIRFLOW__SECTION__KEY``)."""
    found = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        section, _, key = name.partition(".")
        found[f"AIRFLOW__{section.upper()}__{key.upper()}"] = value
    return found


def when(value: str | None) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else float("nan")


class Sampler(threading.Thread):
    """Every 2 s: the states of the runs' task instances, and the moments every stack wait is deferred."""

    def __init__(self, api: Any, runs: dict[str, str], emulator: Any) -> None:
        super().__init__(daemon=True)
        self.api, self.runs, self.emulator = api, runs, emulator
        self.samples: list[dict[str, int]] = []
        self.window: dict[str, Any] | None = None  # calls while every deploy_stack was deferred
        self.stop = threading.Event()

    def run(self) -> None:
        started = None
        while not self.stop.wait(2):
            found = self.api.get("/dags/~/dagRuns/~/taskInstances", limit=5000)["task_instances"]
            mine = [ti for ti in found if self.runs.get(ti["dag_id"]) == ti["dag_run_id"]]
            counts: dict[str, int] = {}
            for ti in mine:
                counts[str(ti["state"])] = counts.get(str(ti["state"]), 0) + 1
            self.samples.append(counts)
            waits = [ti["state"] for ti in mine if ti["task_id"] == "deploy_stack"]
            all_deferred = len(waits) == len(self.runs) and all(s == "deferred" for s in waits)
            if all_deferred and started is None:
                self.emulator.control.clear_requests()
                started = time.monotonic()
            elif started is not None and not all_deferred and self.window is None:
                self.window = self.emulator.control.requests()
                self.window["all_deferred_seconds"] = time.monotonic() - started
            if self.window is not None and all(c == 0 for s, c in counts.items() if s in ("running", "queued", "scheduled", "deferred", "None")):
                return


def run_times(api: Any, runs: dict[str, str]) -> tuple[float, list[dict[str, Any]]]:
    """(first queued to last ended, seconds; every task instance of the runs, with its run's queued_at)."""
    found = [api.dag_run(dag_id, run_id) for dag_id, run_id in runs.items()]
    bad = [r for r in found if r["state"] != "success"]
    if bad:
        raise SystemExit(f"{len(bad)} run(s) did not succeed, e.g. {bad[0]['dag_id']}: {bad[0]['state']}")
    span = max(when(r["end_date"]) for r in found) - min(when(r["queued_at"]) for r in found)
    queued = {r["dag_id"]: r["queued_at"] for r in found}
    tasks = [{**ti, "run_queued_at": queued[ti["dag_id"]]}
             for ti in api.get("/dags/~/dagRuns/~/taskInstances", limit=5000)["task_instances"]
             if runs.get(ti["dag_id"]) == ti["dag_run_id"]]
    return span, tasks


def task_costs(tasks: list[dict[str, Any]]) -> dict[str, float]:
    """From a run queued to its deploy_stack started (a deferred task keeps its first start date)."""
    deploys = [ti for ti in tasks if ti["task_id"] == "deploy_stack" and ti["start_date"]]
    return {"queued_to_started": statistics.median(when(t["start_date"]) - when(t["run_queued_at"]) for t in deploys)}


def cpu_by_component(services: Any, emulator: Any, postgres: Any = None) -> dict[str, float]:
    """
    CPU seconds used so far by each component and everything it started, live or ended: the
    scheduler itself, its LocalExecutor workers with their task processes, the DAG processor, the
    triggerer, the API server, the emulator, PostgreSQL when given, and this script (its sampler
    reads the API).
    """
    import psutil

    def own(process: psutil.Process) -> float:
        """A process's CPU, with that of its children it has reaped (ended task processes)."""
        try:
            t = process.cpu_times()
        except psutil.Error:
            return 0.0
        return t.user + t.system + t.children_user + t.children_system

    def tree(pid: int) -> float:
        try:
            root = psutil.Process(pid)
            return own(root) + sum(own(child) for child in root.children(recursive=True))
        except psutil.Error:
            return 0.0

    found = {name: tree(process.pid) for name, process in services.processes.items()}
    scheduler = psutil.Process(services.processes["scheduler"].pid)
    workers = sum(tree(child.pid) for child in scheduler.children())  # the LocalExecutor workers
    found["scheduler"] -= workers
    found["workers and their tasks"] = workers
    found["emulator"] = tree(emulator.process.pid)
    if postgres is not None:
        found["postgres"] = tree(postgres.pid)
    found["this script"] = own(psutil.Process())
    return found


def task_starts(tasks: list[dict[str, Any]]) -> int:
    """
    Task processes started: one per task run (skipped tasks start none, nor do EmptyOperators,
    which the scheduler completes itself), and one more for each deploy_stack, whose deferred wait
    resumes on a worker when the trigger fires.
    """
    ran = [ti for ti in tasks if ti["start_date"] and ti["state"] != "skipped" and ti["operator"] != "EmptyOperator"]
    return len(ran) + sum(1 for ti in ran if ti["task_id"] == "deploy_stack")


def slot_release(scheduler_log: Path, tasks: list[dict[str, Any]]) -> list[float]:
    """
    For each task run, how long its worker slot stayed taken after the task had ended: the
    worker's "Workload finished" (scheduler log) minus the task's end date. Airflow's supervisor
    notices its task process has exited by polling every ``[workers] min_heartbeat_interval``
    (5 s) once the process's sockets are closed, so a task whose exit it did not see at once
    holds its slot up to that long for nothing.
    """
    ended = {ti["id"]: when(ti["end_date"]) for ti in tasks if ti["end_date"] and ti["state"] != "skipped"}
    finished: dict[str, float] = {}
    for line in scheduler_log.read_text(errors="replace").splitlines():
        found = re.search(r"Workload finished.*workload_id=([0-9a-f-]+)", line)
        if found and found.group(1) in ended:
            finished[found.group(1)] = when(line.split()[0])  # the last workload of a task ends it
    return [finished[ti_id] - ended[ti_id] for ti_id in finished]


def slot_report(delays: list[float]) -> None:
    if not delays:
        print("| worker slot kept after its task ended | not found in the scheduler's log |")
        return
    late = [d for d in delays if d > 1]
    print(f"| task runs whose slot stayed taken > 1 s after the task ended | {len(late)} of {len(delays)} |")
    print(f"| of those, median slot time lost (s) | {statistics.median(late) if late else 0:.1f} |")
    print(f"| slot time lost in all (s) | {sum(d for d in delays if d > 0):.0f} |", flush=True)


def cpu_report(before: dict[str, float], after: dict[str, float], starts: int, pipelines: int) -> None:
    print("\n| component | CPU seconds | per pipeline |\n|---|---:|---:|")
    for name in after:
        used = after[name] - before.get(name, 0.0)
        print(f"| {name} | {used:.1f} | {used / pipelines:.2f} |")
    workers = after["workers and their tasks"] - before["workers and their tasks"]
    print(f"| task processes started | {starts} | {starts / pipelines:.1f} |")
    print(f"| worker CPU per task process (s) | {workers / starts:.2f} | |", flush=True)


def trigger_all(api: Any, dag_ids: list[str]) -> dict[str, str]:
    return {dag_id: api.trigger(dag_id)["dag_run_id"] for dag_id in dag_ids}


def wait_all(api: Any, runs: dict[str, str], timeout: float) -> None:
    for dag_id, run_id in runs.items():
        api.wait_for_run(dag_id, run_id, timeout=timeout, poll=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120, help="emulated stack and endpoint time")
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--poll", type=int, default=30, help="MLOPS_ORCHESTRATOR_POLL_SECONDS (waiter delay)")
    parser.add_argument("--drop-seconds", type=float, default=2, help="emulated times for the dropped config")
    parser.add_argument("--keep", type=Path, help="keep the deployment's files here")
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite",
        help="Airflow's metadata database: SQLite (the tests' harness) or a throwaway PostgreSQL (as deployed)",
    )
    parser.add_argument(
        "--airflow", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="an Airflow setting for every component (repeatable), e.g. workers.min_heartbeat_interval=1",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop Airflow, the emulator and PostgreSQL too
    root = Path(tempfile.mkdtemp(prefix="mlops-services-bench-"))
    try:
        return run(root, args)
    finally:
        if args.keep:
            shutil.copytree(root, args.keep, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def run(root: Path, args: argparse.Namespace) -> int:
    from mlops_orchestrator.config import load_config
    from mlops_orchestrator.run.emulator_process import EmulatorProcess
    from mlops_orchestrator.run.inputs import seed_inputs
    from mlops_orchestrator.run.postgres import LocalPostgres
    from mlops_orchestrator.run.services import AirflowServices, connection_env, free_port

    print(f"cores: {os.cpu_count()}, load before: {os.getloadavg()[0]:.1f}, python {sys.version.split()[0]}, "
          f"{args.pipelines} pipelines, {args.seconds:.0f} s stacks and endpoints, parallelism {args.parallelism}, "
          f"poll {args.poll} s, {args.database}, Airflow settings: {args.airflow or 'defaults'}", flush=True)
    stack = ExitStack()
    database, postgres = {}, None
    if args.database == "postgres":
        postgres = stack.enter_context(LocalPostgres())
        database = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url}
    emulator = EmulatorProcess(free_port(), root / "emulator.log").start()
    stack.callback(emulator.stop)
    with stack:
        emulator.control.set_settings(stack_seconds=args.seconds, endpoint_seconds=args.seconds)
        dags = root / "dags"
        dags.mkdir()
        shutil.copy(REPO / "dags/mlops_pipelines.py", dags / "mlops_pipelines.py")
        (dags / "defaults.yaml").write_text(yaml.safe_dump(DEFAULTS))
        names = ["solo"] + [f"many_{i:03d}" for i in range(args.pipelines)]
        for name in names:
            path = dags / f"{name}.yaml"
            path.write_text(yaml.safe_dump(realtime(name.replace("_", "-"))))
            seed_inputs(load_config(path, root=dags), emulator.client, "us-east-1")
        services = AirflowServices(
            home=root / "airflow-home",
            dags_folder=dags,
            parse_seconds=30,  # Airflow's default re-parse interval
            env={
                **connection_env(["aws_default"], emulator.endpoint_url),
                "MLOPS_ORCHESTRATOR_POLL_SECONDS": str(args.poll),
                "AIRFLOW__CORE__PARALLELISM": str(args.parallelism),
                # INFO: the LocalExecutor workers log when each workload ends (slot_release below)
                "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": "10000",  # the sampler reads every task instance at once
                **database,
                **airflow_settings(args.airflow),
            },
        )
        with services:
            api = services.client()
            for name in names:
                api.wait_for_dag(name, timeout=300)
            for name in names:
                api.unpause(name)

            solo_before = cpu_by_component(services, emulator, postgres)
            solo = trigger_all(api, ["solo"])
            wait_all(api, solo, timeout=20 * args.seconds + 600)
            solo_after = cpu_by_component(services, emulator, postgres)
            solo_span, solo_tasks = run_times(api, solo)
            print(f"\nbaseline, one pipeline: {solo_span:.1f} s", flush=True)

            before = cpu_by_component(services, emulator, postgres)
            many = trigger_all(api, names[1:])
            sampler = Sampler(api, many, emulator)
            sampler.start()
            wait_all(api, many, timeout=40 * args.seconds + 1800)
            sampler.stop.set()
            sampler.join(30)
            after = cpu_by_component(services, emulator, postgres)
            span, tasks = run_times(api, many)
            report_many(args, solo_span, solo_tasks, span, tasks, sampler)
            print("\nCPU, one pipeline alone:")
            cpu_report(solo_before, solo_after, task_starts(solo_tasks), 1)
            print(f"\nCPU, {args.pipelines} pipelines at once:")
            cpu_report(before, after, task_starts(tasks), args.pipelines)
            print("\nWorker slots, one pipeline alone then many:\n\n| figure | value |\n|---|---:|")
            slot_report(slot_release(services.log_path("scheduler"), solo_tasks))
            slot_report(slot_release(services.log_path("scheduler"), tasks))

            emulator.control.set_settings(stack_seconds=args.drop_seconds, endpoint_seconds=args.drop_seconds)
            report_drop(api, dags, emulator, args, seed_inputs, load_config)
    return 0


def report_many(args, solo_span, solo_tasks, span, tasks, sampler) -> None:
    n = args.pipelines
    print(f"{n} pipelines at once: {span:.1f} s, {span / solo_span:.2f}x the baseline", flush=True)
    waiting = [s for s in sampler.samples if s.get("deferred", 0) >= n // 2]
    print("\n| figure | value |\n|---|---:|")
    print(f"| one pipeline alone: queued to end (s) | {solo_span:.1f} |")
    print(f"| {n} pipelines: first queued to last end (s) | {span:.1f} |")
    print(f"| ratio | {span / solo_span:.2f}x |")
    print(f"| samples with at least {n // 2} waits deferred | {len(waiting)} of {len(sampler.samples)} |")
    if waiting:
        print(f"| tasks holding a worker slot while at least {n // 2} waits were deferred: median, max | "
              f"{statistics.median(s.get('running', 0) for s in waiting):.0f}, "
              f"{max(s.get('running', 0) for s in waiting)} |")
    print(f"| most waits deferred at once | {max((s.get('deferred', 0) for s in sampler.samples), default=0)} |")
    window = sampler.window
    if window:
        minutes = window["all_deferred_seconds"] / 60
        describe = window["calls"].get("cloudformation.DescribeStacks", 0)
        total = sum(window["calls"].values())
        print(f"| window with every stack wait deferred (s) | {window['all_deferred_seconds']:.0f} |")
        print(f"| DescribeStacks per waiting job per minute | {describe / n / minutes:.2f} |")
        print(f"| every AWS call per waiting job per minute | {total / n / minutes:.2f} |")
        print(f"| calls in the window | {window['calls']} |")
    else:
        print("| window with every stack wait deferred | never: not all waits were deferred at once |")
    solo_costs, costs = task_costs(solo_tasks), task_costs(tasks)
    print(f"| one pipeline: run queued to deploy_stack started (s) | {solo_costs['queued_to_started']:.1f} |")
    print(f"| {n} pipelines: run queued to deploy_stack started, median (s) | {costs['queued_to_started']:.1f} |",
          flush=True)


def report_drop(api, dags: Path, emulator, args, seed_inputs, load_config) -> None:
    path = dags / "dropped.yaml"
    start = time.monotonic()
    path.write_text(yaml.safe_dump(realtime("dropped")))
    seed_inputs(load_config(path, root=dags), emulator.client, "us-east-1")
    api.wait_for_dag("dropped", timeout=600)
    listed = time.monotonic()
    run_id = api.trigger("dropped")["dag_run_id"]
    triggered = time.monotonic()
    sagemaker = emulator.client("sagemaker")
    while True:
        try:
            status = sagemaker.describe_endpoint(EndpointName="dropped-endpoint")["EndpointStatus"]
        except sagemaker.exceptions.ClientError:
            status = None
        if status == "InService":
            break
        time.sleep(0.5)
    in_service = time.monotonic()
    api.wait_for_run("dropped", run_id, timeout=600, poll=0.5)
    done = time.monotonic()
    tasks = {ti["task_id"]: ti for ti in api.get(f"/dags/dropped/dagRuns/{run_id}/taskInstances")["task_instances"]}
    deploy = tasks["deploy_stack"]
    print(f"\nA config dropped into the folder ({args.drop_seconds:.0f} s emulated stack and endpoint):\n")
    print("| step | seconds |\n|---|---:|")
    print(f"| file written -> DAG listed by the API | {listed - start:.1f} |")
    print(f"| DAG listed -> run triggered (REST) | {triggered - listed:.1f} |")
    print(f"| run triggered -> endpoint InService | {in_service - triggered:.1f} |")
    print(f"| endpoint InService -> run finished | {done - in_service:.1f} |")
    print(f"| file written -> endpoint InService | {in_service - start:.1f} |")
    print(f"| of which deploy_stack started after the run was queued | "
          f"{when(deploy['start_date']) - when(api.dag_run('dropped', run_id)['queued_at']):.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
