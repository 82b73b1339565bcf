"""The ``mlops-orchestrator`` command: validate, schema, local-aws, run, status, demo.

``validate`` and ``schema`` never import Airflow (they run in CI and pre-commit hooks);
``run`` and ``demo`` configure Airflow through the environment before importing it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return args.func(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops-orchestrator",
        description="MLOps Workload Orchestrator pipelines on Apache Airflow, from config files.",
    )
    commands = parser.add_subparsers(dest="command")

    validate = commands.add_parser(
        "validate",
        help="check pipeline configs (files or folders)",
        description="Print one line per problem (FILE: field: message) and per warning (FILE: field: warning: "
        "message). Exit 1 if any config is invalid; warnings alone exit 0 unless --strict.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH")
    validate.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too, e.g. in CI")
    validate.set_defaults(func=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of a pipeline config")
    schema.set_defaults(func=_schema)

    local_aws = commands.add_parser("local-aws", help="run the local AWS emulator until stopped")
    local_aws.add_argument("--host", default="127.0.0.1")
    local_aws.add_argument("--port", type=int, default=None, help="default 5055")
    local_aws.set_defaults(func=_local_aws)

    run = commands.add_parser("run", help="run one pipeline's DAG once (a real Airflow DAG run)")
    run.add_argument("config", type=Path, metavar="CONFIG")
    run.add_argument("--local", action="store_true", help="start the local AWS emulator for this run")
    run.add_argument("--endpoint-url", help="use an AWS emulator already running at this URL")
    run.add_argument("--action", choices=("deploy", "deprovision"), default="deploy")
    run.add_argument("--json", action="store_true", help="print the run and its AWS resources as JSON")
    run.add_argument("--config-root", type=Path, help="top of the config tree (defaults files up to here)")
    run.add_argument("--airflow-home", type=Path, help="Airflow home (default: $AIRFLOW_HOME or a cache dir)")
    run.set_defaults(func=_run)

    loaders = commands.add_parser(
        "loaders", help="spread a dags folder's configs over COUNT loader files (parsed in parallel)"
    )
    loaders.add_argument("count", type=int, metavar="COUNT", help="1 puts back the single mlops_pipelines.py")
    loaders.add_argument("folder", type=Path, nargs="?", default=Path("dags"))
    loaders.set_defaults(func=_loaders)

    status = commands.add_parser(
        "status", help="a pipeline's state: last run and steps, each stage's account and resources"
    )
    status.add_argument("pipeline", metavar="PIPELINE", help="its DAG id (or its stack name, as MWO's pipeline_id)")
    status.add_argument("--folder", type=Path, help="the config folder (default: the plugin's, i.e. Airflow's dags folder)")
    status.add_argument("--json", action="store_true", help="print what POST /mlops-orchestrator/pipelinestatus answers")
    status.add_argument("--no-aws", action="store_true", help="config and Airflow runs only, no AWS calls")
    status.set_defaults(func=_status)

    demo = commands.add_parser("demo", help="run every buildable example config on the local emulator")
    demo.add_argument("folder", type=Path, nargs="?", default=Path("dags"))
    demo.add_argument("--json", action="store_true")
    demo.add_argument("--airflow-home", type=Path)
    demo.set_defaults(func=_demo)
    return parser


def _validate(args: argparse.Namespace) -> int:
    from mlops_orchestrator.config import validate_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    for path in missing:
        print(f"{path}: no such file or folder")
    problems = validate_paths([p for p in args.paths if Path(p).exists()])
    for problem in problems:
        print(problem.format())
    errors = [p for p in problems if not p.is_warning]
    warned = len(problems) - len(errors)
    return 1 if errors or missing or (args.strict and warned) else 0


def _loaders(args: argparse.Namespace) -> int:
    from mlops_orchestrator.factory.shards import write_loader_files

    try:
        written = write_loader_files(args.folder, args.count)
    except ValueError as err:
        print(f"mlops-orchestrator loaders: {err}")
        return 1
    for path in written:
        print(path)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from mlops_orchestrator.config import config_json_schema

    print(json.dumps(config_json_schema(), indent=2))
    return 0


def _local_aws(args: argparse.Namespace) -> int:
    from mlops_orchestrator.local.server import run_local_aws

    return run_local_aws(args)


def _run(args: argparse.Namespace) -> int:
    from mlops_orchestrator.config import ConfigError, load_config

    config_path = args.config.resolve()
    root = args.config_root.resolve() if args.config_root else None
    try:
        config = load_config(config_path, root=root)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    for warning in config.warnings:
        print(warning.format(), file=sys.stderr)
    from mlops_orchestrator.factory.registry import NoBuilderError, require_buildable

    try:
        require_buildable(config.pipeline_type)  # without importing Airflow: it is configured below
    except NoBuilderError as err:
        print(f"{config_path}: pipeline_type: {err}", file=sys.stderr)
        return 1

    with _logs_to_stderr(args.json):
        if args.local and not args.endpoint_url:
            from mlops_orchestrator.local.server import LocalAws

            with LocalAws(port=0) as aws:
                report = _run_on_emulator(config, config_path, root, args, aws.endpoint_url, aws.region)
        elif args.endpoint_url:
            report = _run_on_emulator(config, config_path, root, args, args.endpoint_url, "us-east-1")
        else:
            report = _run_on_aws(config, config_path, root, args)
    _print_reports([report], as_json=args.json)
    return 0 if report["state"] == "success" else 1


def _run_on_emulator(config, config_path: Path, root, args, endpoint_url: str, region: str) -> dict[str, Any]:
    """Seed the inputs the config points at, run its DAG, and describe what it left."""
    from mlops_orchestrator.run.airflow_env import set_local_aws_connection
    from mlops_orchestrator.run.dag_run import prepare_airflow

    os.environ.setdefault("MLOPS_ORCHESTRATOR_POLL_SECONDS", "1")
    prepare_airflow(args.airflow_home)
    set_local_aws_connection(config.aws_conn_id, endpoint_url, config.region_name or region)
    client = _emulator_clients(endpoint_url, config.region_name or region)
    from mlops_orchestrator.run.accounts import prepare_stage_accounts, stage_clients

    created = prepare_stage_accounts(config, endpoint_url, config.region_name or region)
    if args.action == "deploy":
        from mlops_orchestrator.run.inputs import seed_inputs

        created += seed_inputs(config, client, config.region_name or region)
    stages = stage_clients(config, endpoint_url, config.region_name or region)
    return _run_and_describe(config_path, root, args.action, client, created, stages)


def _run_on_aws(config, config_path: Path, root, args) -> dict[str, Any]:
    from mlops_orchestrator.run.dag_run import prepare_airflow

    prepare_airflow(args.airflow_home)
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    def clients(conn_id: str, region: str | None):
        return lambda service: AwsBaseHook(aws_conn_id=conn_id, client_type=service, region_name=region).conn

    stages = {}
    if config.is_multi_account:  # each stage's resources, read through its connection (when it has one)
        for stage in config.stages.names():
            account = config.stages.account(stage)
            if account.aws_conn_id:
                region = account.region or config.region_name
                stages[stage] = (account.account_id, clients(account.aws_conn_id, region))
    client = clients(config.aws_conn_id, config.region_name)
    return _run_and_describe(config_path, root, args.action, client, [], stages)


def _run_and_describe(config_path: Path, root, action: str, client, created: list[str], stages=None) -> dict[str, Any]:
    """Run the pipeline; describe what it left here and, for a multi-account one, in each stage account."""
    from mlops_orchestrator.run.dag_run import run_pipeline
    from mlops_orchestrator.run.resources import pipeline_resources

    report = run_pipeline(config_path, config_root=root, action=action)
    result = report.to_dict()
    result["inputs_created"] = created
    result["resources"] = pipeline_resources(client, report.dag_id)
    result["stages"] = {
        stage: {"account": account, "resources": pipeline_resources(stage_client, report.dag_id)}
        for stage, (account, stage_client) in (stages or {}).items()
    }
    return result


@contextlib.contextmanager
def _logs_to_stderr(enabled: bool) -> Iterator[None]:
    """With --json, stdout carries only the JSON: Airflow's own output goes to stderr meanwhile.

    Done on the file descriptor, since Airflow's loggers hold on to the stdout they started with.
    """
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _emulator_clients(endpoint_url: str, region: str):
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )

    def client(service: str):
        return session.client(service, endpoint_url=endpoint_url)

    return client


def _status(args: argparse.Namespace) -> int:
    """The same status as the plugin's pipelinestatus, read here: the configs, Airflow's database, AWS."""
    from mlops_orchestrator.pipelines.catalog import find_pipeline, list_pipelines

    if args.folder is not None:
        folder = args.folder.resolve()
    else:
        from mlops_orchestrator.api.settings import ApiSettings

        folder = ApiSettings.from_airflow().config_folder
    entry = find_pipeline(list_pipelines(folder), args.pipeline)
    if entry is None:
        print(f"No pipeline {args.pipeline!r} in {folder} (a DAG id or a stack name)", file=sys.stderr)
        return 1
    from mlops_orchestrator.pipelines.status import airflow_clients, pipeline_status

    with _logs_to_stderr(True):  # stdout carries the status only; Airflow's own logging goes to stderr
        status = pipeline_status(entry, None if args.no_aws else airflow_clients)
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        _print_status(status)
    return 0 if status["valid"] else 1


def _print_status(status: dict[str, Any]) -> None:
    print(f"{status['dag_id']} ({status['pipeline_type'] or 'unknown type'}, {status['file']}): {status['state']}")
    for problem in status["problems"]:
        print(f"  problem: {problem['text']}")
    for warning in status["warnings"]:
        print(f"  warning: {warning['text']}")
    if status.get("dag") and status["dag"]["is_paused"]:
        print("  DAG paused")
    last = status.get("last_run")
    if last:
        print(f"  last run {last['run_id']} ({last['action']}): {last['state']}, started {last['start_date']}")
        for step in last["steps"]:
            print(f"    {step['task_id']:<40} {step['state']}")
    for stage in status.get("stages", []):
        where = " · ".join(str(x) for x in (stage.get("account"), stage.get("region")) if x)
        print(f"  stage {stage['stage']}" + (f" ({where})" if where else "") + ":")
        if stage.get("error"):
            print(f"    cannot read: {stage['error']}")
        for instance in stage.get("stack_set_instances", []):
            reason = f" ({instance['reason']})" if instance.get("reason") else ""
            print(f"    stack set {instance['stack_set']}: {instance['status']}{reason}")
        for stack in stage.get("stacks", []):
            print(f"    stack {stack['name']}: {stack['status']}")
        for endpoint in stage.get("endpoints", []):
            size = f" on {endpoint['instance_type']}" if endpoint.get("instance_type") else ""
            print(f"    endpoint {endpoint['name']}: {endpoint['status']}{size}")
        for schedule in stage.get("monitoring_schedules", []):
            counts = ", ".join(str(h["violations"]) for h in schedule.get("history", [])) or "no execution yet"
            print(f"    monitoring schedule {schedule['name']}: {schedule['status']}; violations per execution: {counts}")
        for job in stage.get("training_jobs", []):
            print(f"    {job['kind']} job {job['name']}: {job['status']}")


def _demo(args: argparse.Namespace) -> int:
    """Run every example config whose pipeline type is built, on one emulator, and report."""
    from mlops_orchestrator.config import ConfigError, iter_config_files, load_config
    from mlops_orchestrator.factory.registry import buildable_types
    from mlops_orchestrator.local.server import LocalAws

    folder = args.folder.resolve()
    runnable, skipped = [], []
    for path in iter_config_files(folder):
        try:
            config = load_config(path, root=folder)
        except ConfigError as err:
            print(err, file=sys.stderr)
            return 1
        (runnable if config.pipeline_type in buildable_types() else skipped).append((path, config))
    for path, config in skipped:
        print(f"skipped {path.relative_to(folder)}: {config.pipeline_type} has no DAG builder yet")
    if not runnable:
        print(f"No example config in {folder} has a buildable pipeline type.", file=sys.stderr)
        return 1
    reports = []
    run_args = argparse.Namespace(airflow_home=args.airflow_home, action="deploy")
    with _logs_to_stderr(args.json), LocalAws(port=0) as aws:
        print(f"Local AWS emulator at {aws.endpoint_url}", flush=True)
        for path, config in runnable:
            print(f"Running {path.relative_to(folder)} ({config.pipeline_type}) ...", flush=True)
            reports.append(_run_on_emulator(config, path, folder, run_args, aws.endpoint_url, aws.region))
    _print_reports(reports, as_json=args.json)
    failed = [r for r in reports if r["state"] != "success"]
    everywhere = [r["resources"] for r in reports] + [
        stage["resources"] for r in reports for stage in r.get("stages", {}).values()
    ]
    not_serving = [e for res in everywhere for e in res.get("endpoints", []) if e["status"] != "InService"]
    not_done = [j for res in everywhere for j in res.get("transform_jobs", []) if j["status"] != "Completed"]
    not_done += [s for res in everywhere for s in res.get("monitoring_schedules", []) if s["status"] != "Scheduled"]
    if failed or not_serving or not_done:
        print(
            f"demo: {len(failed)} run(s) failed, {len(not_serving)} endpoint(s) not InService, "
            f"{len(not_done)} transform job(s) not Completed or monitoring schedule(s) not Scheduled",
            file=sys.stderr,
        )
        return 1
    print(
        f"demo: {len(reports)} pipeline(s) ran; every endpoint is InService, every transform job Completed, "
        "every monitoring schedule Scheduled."
    )
    return 0


def _print_reports(reports: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(reports if len(reports) > 1 else reports[0], indent=2, default=str))
        return
    for report in reports:
        print(f"\n== {report['dag_id']} ({report['pipeline_type']}, {report['action']}): {report['state']}")
        print("   tasks: " + ", ".join(f"{t}={s}" for t, s in sorted(report["tasks"].items())))
        for task_id, message in report.get("failures", {}).items():
            print(f"   {task_id} failed: " + message.replace("\n", "\n     "))
        for line in report.get("inputs_created", []):
            print(f"   created input: {line}")
        _print_resources(report["resources"], "   ")
        for stage, found in report.get("stages", {}).items():
            print(f"   stage {stage} (account {found['account']}):")
            _print_resources(found["resources"], "     ")
        results = report.get("monitor_results")
        if results:
            print(
                f"   monitor results: {results['status']}, {results['violations']} violation(s)"
                + (f" {results['by_check']}" if results.get("by_check") else "")
            )


def _print_resources(resources: dict[str, Any], indent: str) -> None:
    """What a run left in one account, a line per resource."""
    for stack in resources.get("stacks", []):
        print(f"{indent}stack {stack['name']}: {stack['status']}")
        for resource in stack["resources"]:
            print(f"{indent}  {resource['type']:<32} {resource['logical_id']:<16} {resource['physical_id']}")
    for endpoint in resources.get("endpoints", []):
        reason = f" ({endpoint['failure_reason']})" if endpoint.get("failure_reason") else ""
        size = f" on {endpoint['instance_type']}" if endpoint.get("instance_type") else ""
        print(f"{indent}endpoint {endpoint['name']}: {endpoint['status']}{size}{reason}")
    for job in resources.get("transform_jobs", []):
        reason = f" ({job['failure_reason']})" if job.get("failure_reason") else ""
        print(f"{indent}transform job {job['name']}: {job['status']}{reason}")
        print(f"{indent}  input  {job['input_uri']}")
        print(f"{indent}  output {job['output_uri']}")
        for uri in job.get("outputs", []):
            print(f"{indent}    {uri}")
    for image in resources.get("images", []):
        print(f"{indent}image {image['uri']}: {image['digest']}")
    for job in resources.get("training_jobs", []):
        reason = f" ({job['failure_reason']})" if job.get("failure_reason") else ""
        print(f"{indent}{job['kind']} job {job['name']}: {job['status']}{reason}")
    for package in resources.get("model_packages", []):
        print(f"{indent}model package {package['group']} version {package['version']}: {package['status']}")
    for schedule in resources.get("monitoring_schedules", []):
        print(
            f"{indent}monitoring schedule {schedule['name']}: {schedule['status']} ({schedule['type']} on "
            f"{schedule['endpoint']}, {schedule['schedule_expression']}, job definition "
            f"{schedule['job_definition']}; last execution: {schedule['last_execution'] or 'none yet'})"
        )
    for stack_set in resources.get("stack_sets", []):
        print(f"{indent}stack set {stack_set['name']} ({stack_set['permission_model']}):")
        for instance in stack_set["instances"]:
            reason = f" ({instance['reason']})" if instance.get("reason") else ""
            print(f"{indent}  account {instance['account']} {instance['region']}: {instance['status']}{reason}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
