"""DAG parse time: N pipeline configs through our loader vs a hand-written DAG file (not a test).

For each N, two DAG folders are generated: N configs of mixed realtime types (builtin, custom,
model registry; YAML and JSON) plus our loader file, and one hand-written Python file that builds
the same N DAGs with the same operators. Each measurement runs in a fresh process, as Airflow's
DAG processor does, with Airflow already imported, and times ``DagBag(folder)`` (import of our
package included). Also timed: the parse a running task does (Airflow's parsing context set to
one DAG id). Medians over --repeat runs; ratios are against the hand-written file measured in
the same command.

    .venv/bin/python benchmarks/parse_benchmark.py --sizes 10 100 1000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

KINDS = ("builtin", "custom", "registry")

DEFAULTS = "assets_bucket: bench-assets\nregion_name: us-east-1\n"

LOADER = '''"""airflow DAG loader (benchmark copy of dags/mlops_pipelines.py)."""
from pathlib import Path
from mlops_orchestrator.factory import load_dags
load_dags(Path(__file__).resolve().parent, globals())
'''

HAND_WRITTEN_HEAD = '''"""Hand-written airflow DAGs: the same operators our factory builds, without configs."""
from datetime import datetime, timedelta, timezone
from airflow.providers.common.compat.sdk import DAG, Param
from airflow.providers.standard.operators.python import BranchPythonOperator
from mlops_orchestrator.factory.callables import choose_action
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployEndpointStackOperator
from mlops_orchestrator.operators.sagemaker import ResolveModelOperator

def make(i, kind):
    model = f"model-{i}"
    dag = DAG(
        dag_id=f"pipeline_{i:05d}", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
        catchup=False, tags=["mlops-orchestrator", kind], max_active_runs=1,
        default_args={"owner": "mlops", "retries": 1, "retry_delay": timedelta(seconds=60)},
        params={"action": Param("deploy", type="string", enum=["deploy", "deprovision"])},
    )
    base = {"ModelName": model, "EndpointName": model + "-endpoint", "InferenceInstance": "ml.m5.large",
            "DataCaptureS3Path": f"bench-assets/capture/{model}", "KmsKeyArn": "", "SubnetIds": "",
            "SecurityGroupIds": ""}
    with dag:
        choose = BranchPythonOperator(task_id="choose_action", python_callable=choose_action,
                                      op_kwargs={"deploy": "resolve_model", "deprovision": "delete_stack"})
        resolve = ResolveModelOperator(
            task_id="resolve_model", base_parameters=base,
            model_package_name=(f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/1"
                                if kind == "registry" else None),
            image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/algo:1" if kind == "custom" else None,
            model_framework="xgboost" if kind == "builtin" else None,
            model_framework_version="1.7-1" if kind == "builtin" else None,
            model_artifact_uri=None if kind == "registry" else f"s3://bench-assets/models/{model}.tar.gz",
            instance_type="ml.m5.large")
        deploy = DeployEndpointStackOperator(task_id="deploy_stack", stack_name=f"mlops-pipeline-{model}",
                                     blueprint="realtime-endpoint.yaml", parameters=resolve.output,
                                     tags={"mlops-orchestrator:dag-id": dag.dag_id})
        delete = DeleteStackOperator(task_id="delete_stack", stack_name=f"mlops-pipeline-{model}")
        choose >> resolve >> deploy
        choose >> delete
    return dag

'''

MEASURE = r'''
import json, os, sys, time
import airflow  # noqa: F401  (the DAG processor has Airflow imported before it parses)
from airflow.dag_processing.dagbag import DagBag
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator  # noqa: F401
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=True)
elapsed = time.perf_counter() - start
# What the DAG processor does next with every DAG it parsed: serialize it for the scheduler.
from airflow.serialization.serialized_objects import DagSerialization
start = time.perf_counter()
for dag in bag.dags.values():
    DagSerialization.to_dict(dag)
serialized = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "serialize": serialized, "dags": len(bag.dags),
                  "errors": len(bag.import_errors)}))
'''


def config_text(i: int) -> tuple[str, str]:
    """The i-th config: (file name, text), cycling through the realtime kinds and YAML/JSON."""
    kind = KINDS[i % len(KINDS)]
    model = f"model-{i}"
    fields = {
        "pipeline_type": "byom_realtime_custom" if kind == "custom" else "byom_realtime_builtin",
        "model_name": model,
        "inference_instance": "ml.m5.large",
        "data_capture_location": f"bench-assets/capture/{model}",
        "endpoint_name": f"{model}-endpoint",
    }
    if kind == "builtin":
        fields |= {"model_framework": "xgboost", "model_framework_version": "1.7-1",
                   "model_artifact_location": f"models/{model}.tar.gz"}
    elif kind == "custom":
        fields |= {"custom_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/algo:1",
                   "model_artifact_location": f"models/{model}.tar.gz"}
    else:
        fields["model_package_name"] = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/1"
    if i % 2:
        return f"pipeline_{i:05d}.json", json.dumps(fields, indent=2)
    return f"pipeline_{i:05d}.yaml", "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items())


def make_folders(root: Path, n: int) -> tuple[Path, Path]:
    ours = root / f"configs-{n}"
    hand = root / f"hand-{n}"
    (ours / "pipelines").mkdir(parents=True)
    hand.mkdir()
    (ours / "mlops_pipelines.py").write_text(LOADER)
    (ours / "defaults.yaml").write_text(DEFAULTS)
    for i in range(n):
        name, text = config_text(i)
        (ours / "pipelines" / name).write_text(text)
    body = HAND_WRITTEN_HEAD + "".join(
        f"dag_{i:05d} = make({i}, {KINDS[i % len(KINDS)]!r})\n" for i in range(n)
    )
    (hand / "hand_written_dags.py").write_text(body)
    return ours, hand


def measure(folder: Path, env: dict[str, str], repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(folder)], capture_output=True, text=True, env=env, check=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "median": statistics.median(r["seconds"] for r in runs),
        "with_serialize": statistics.median(r["seconds"] + r["serialize"] for r in runs),
        "dags": runs[0]["dags"],
        "errors": runs[0]["errors"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mlops-parse-bench-"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(root / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
    env.pop("_AIRFLOW_PARSING_CONTEXT_DAG_ID", None)
    print(f"cores: {os.cpu_count()}, repeat: {args.repeat} (median), python {sys.version.split()[0]}")
    print(
        "| N configs | ours: DagBag (s) | hand-written: DagBag (s) | ratio "
        "| ours: DagBag + serialize (s) | hand-written: DagBag + serialize (s) | ratio "
        "| ours: one task's parse (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        ours, hand = make_folders(root, n)
        full = measure(ours, env, args.repeat)
        baseline = measure(hand, env, args.repeat)
        task_env = {**env, "_AIRFLOW_PARSING_CONTEXT_DAG_ID": f"pipeline_{n // 2:05d}",
                    "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "deploy_stack"}
        one = measure(ours, task_env, args.repeat)
        if full["dags"] != n or baseline["dags"] != n or full["errors"] or one["dags"] != 1:
            print(f"unexpected bag contents at N={n}: {full}, {baseline}, {one}", file=sys.stderr)
            return 1
        print(
            f"| {n} | {full['median']:.3f} | {baseline['median']:.3f} | "
            f"{full['median'] / baseline['median']:.2f}x | {full['with_serialize']:.3f} | "
            f"{baseline['with_serialize']:.3f} | {full['with_serialize'] / baseline['with_serialize']:.2f}x | "
            f"{one['median']:.3f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
