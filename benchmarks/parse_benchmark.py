"""DAG parse time: N pipeline configs through our loader vs a baseline (not a test).

Default mode (``--mix realtime``): for each N, two DAG folders are generated: N configs of mixed
realtime types (builtin, custom, model registry; YAML and JSON) plus our loader file, and one
hand-written Python file that builds the same N DAGs with the same operators. Ratios are against
the hand-written file.

``--mix all``: N configs spread over all 12 MWO pipeline types (valid payloads with varied model
names, YAML and JSON, one shared defaults.yaml). There is no hand-written equivalent of every
family, so the baseline is the realtime-only folder of the same N, measured in the same command.
The mixed folder must parse without import errors or ``invalid-config`` DAGs, or the run fails.

Each measurement runs in a fresh process, as Airflow's DAG processor does, with Airflow already
imported, and times ``DagBag(folder)`` (import of our package included), then serializing every
DAG. Also timed: the parse a running task does (Airflow's parsing context set to one DAG id).
Medians over --repeat runs.

``--mix template``: the mixed folder again, with every config also carrying the keys of a payload
template shared by all types (MWO teams kept one): the other types' keys are read past with a
warning, so every config has warnings. The baseline is the same folder without them, measured in
the same command; "first parse" is the one after a change, which logs the warnings and writes the
markers that keep later parses from logging them again.

``--breakdown N``: where the time goes, per pipeline type (a folder of N configs of that type
only) and per builder module (its import). ``--profile``: cProfile of one DagBag of the mixed
folder of the largest size.

    .venv/bin/python benchmarks/parse_benchmark.py --sizes 10 100 1000 --repeat 5
    .venv/bin/python benchmarks/parse_benchmark.py --mix all --sizes 10 100 1000 --repeat 5
    .venv/bin/python benchmarks/parse_benchmark.py --mix template --sizes 1000 --repeat 5
    .venv/bin/python benchmarks/parse_benchmark.py --breakdown 100 --repeat 5
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
from typing import Any

KINDS = ("builtin", "custom", "registry")

DEFAULTS = "assets_bucket: bench-assets\nregion_name: us-east-1\n"

LOADER = '''"""airflow DAG loader (benchmark copy of dags/mlops_pipelines.py)."""
from pathlib import Path
from mlops_orchestrator.factory import load_dags
load_dags(Path(__file__).resolve().parent, globals())
'''

# The same DAG the realtime builder makes (tasks, arguments, stack name and tags, params); only the
# description and doc_md, which our loader derives from each config, are left out.
HAND_WRITTEN_HEAD = '''"""Hand-written airflow DAGs: the same operators our factory builds, without configs."""
from datetime import datetime, timedelta, timezone
from airflow.providers.common.compat.sdk import DAG, Label, Param, TriggerRule
from airflow.providers.standard.operators.empty import EmptyOperator
from mlops_orchestrator.factory.actions import skip_unless_deploying
from mlops_orchestrator.operators.cloudformation import DeleteStackOperator, DeployEndpointStackOperator

def make(i, kind):
    model = f"model-{i}"
    ptype = "byom_realtime_custom" if kind == "custom" else "byom_realtime_builtin"
    stack = f"mlops-pipeline-{model}-byompipeline" + ptype[5:].replace("_", "")
    aws = {"aws_conn_id": "aws_default", "region_name": "us-east-1"}
    dag = DAG(
        dag_id=f"pipeline_{i:05d}", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
        catchup=False, tags=["mlops-orchestrator", ptype], max_active_runs=1,
        default_args={"owner": "mlops", "retries": 1, "retry_delay": timedelta(seconds=60)},
        params={"action": Param("deploy", type="string", enum=["deploy", "deprovision"],
                                description="deploy: create or update what this pipeline deploys. "
                                "deprovision: delete it (the CloudFormation stack and its resources).")},
    )
    base = {"ModelName": model, "EndpointName": model + "-endpoint", "InferenceInstance": "ml.m5.large",
            "DataCaptureS3Path": f"bench-assets/capture/{model}", "KmsKeyArn": "", "SubnetIds": "",
            "SecurityGroupIds": ""}
    source = {"instance_type": "ml.m5.large", **aws}
    if kind == "registry":
        source["model_package_name"] = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/1"
    else:
        source["model_artifact_uri"] = f"s3://bench-assets/models/{model}.tar.gz"
    if kind == "custom":
        source["image_uri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/algo:1"
    if kind == "builtin":
        source.update(model_framework="xgboost", model_framework_version="1.7-1")
    with dag:
        deploy = DeployEndpointStackOperator(
            task_id="deploy_stack", stack_name=stack, blueprint="realtime-endpoint.yaml",
            parameters=base, model_source=source, waiter_delay=30, pre_execute=skip_unless_deploying, **aws,
            tags={"mlops-orchestrator:dag-id": dag.dag_id, "mlops-orchestrator:pipeline-type": ptype,
                  "mlops-orchestrator:model-name": model})
        delete = DeleteStackOperator(task_id="delete_stack", stack_name=stack, waiter_delay=30,
                                     trigger_rule=TriggerRule.ALL_SKIPPED, **aws)
        deploy >> EmptyOperator(task_id="deployed")
        deploy >> Label("action = deprovision") >> delete
    return dag

'''

MEASURE = r'''
import gc, json, os, sys, time
import airflow  # noqa: F401  (the DAG processor has Airflow imported before it parses)
from airflow.dag_processing.dagbag import DagBag
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator  # noqa: F401
# Airflow's DAG processor freezes what it has imported before it forks each file's parse
# (DagFileProcessorManager.before_run): the garbage collector passes over none of it.
gc.freeze()
start, cpu = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=True)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
# What the DAG processor does next with every DAG it parsed: serialize it for the scheduler.
from airflow.serialization.serialized_objects import DagSerialization
start = time.perf_counter()
for dag in bag.dags.values():
    DagSerialization.to_dict(dag)
serialized = time.perf_counter() - start
types = {}
for dag in bag.dags.values():
    for tag in dag.tags:
        if tag.startswith(("byom_", "model_")):
            types[tag] = types.get(tag, 0) + 1
invalid = [d for d in bag.dags.values() if "invalid-config" in d.tags]
problems = [f"{d.dag_id}: {d.description}" for d in invalid[:5]]
problems += [f"{path}: {error.strip().splitlines()[-1]}" for path, error in list(bag.import_errors.items())[:5]]
print(json.dumps({"seconds": elapsed, "cpu": cpu, "serialize": serialized, "dags": len(bag.dags),
                  "tasks": sum(len(d.tasks) for d in bag.dags.values()), "errors": len(bag.import_errors),
                  "invalid": len(invalid), "types": types, "problems": problems}))
'''

# The shape (task ids and edges) of every DAG a folder gives, for the EmptyOperator baseline.
SHAPES = r'''
import json, sys
import airflow  # noqa: F401
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=True)
shapes = {dag_id: [[t.task_id, sorted(t.downstream_task_ids)] for t in dag.tasks]
          for dag_id, dag in sorted(bag.dags.items())}
print(json.dumps(shapes))
'''

# N DAGs of EmptyOperators with the task ids and edges of ours (data, then one loop): the least
# Airflow itself spends on DAGs of that size.
EMPTY_DAGS = '''"""airflow DAGs of EmptyOperators: the same DAG ids, task ids and edges as the configs'."""
from datetime import datetime, timezone
from airflow.providers.common.compat.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

SHAPES = {shapes!r}

for dag_id, tasks in SHAPES.items():
    with DAG(dag_id=dag_id, schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)) as dag:
        made = {{task_id: EmptyOperator(task_id=task_id) for task_id, _ in tasks}}
        for task_id, downstream in tasks:
            for other in downstream:
                made[task_id] >> made[other]
    globals()[dag_id] = dag
'''

IMPORT_TIME = r'''
import importlib, json, sys, time
import airflow  # noqa: F401
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator  # noqa: F401
start = time.perf_counter()
import mlops_orchestrator.factory  # noqa: F401  (what the loader file imports)
loader = time.perf_counter() - start
start = time.perf_counter()
importlib.import_module(sys.argv[1])
print(json.dumps({"loader": loader, "seconds": time.perf_counter() - start}))
'''

PROFILE = r'''
import cProfile, pstats, sys
import airflow  # noqa: F401
from airflow.dag_processing.dagbag import DagBag
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator  # noqa: F401
profile = cProfile.Profile()
profile.enable()
DagBag(dag_folder=sys.argv[1], safe_mode=True)
profile.disable()
stats = pstats.Stats(profile)
stats.sort_stats("cumulative").print_stats(40)
stats.sort_stats("tottime").print_stats(25)
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
    return file_text(i, fields, as_json=bool(i % 2))


def file_text(i: int, fields: dict[str, Any], *, as_json: bool) -> tuple[str, str]:
    """``pipeline_{i}.json`` or ``.yaml`` holding ``fields`` (YAML written as JSON values, one per line)."""
    if as_json:
        return f"pipeline_{i:05d}.json", json.dumps(fields, indent=2)
    return f"pipeline_{i:05d}.yaml", "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items())


# ------------------------------------------------------------------------------------------------
# --mix all: every pipeline type, after tests/fixtures/configs/valid and dags/examples
# ------------------------------------------------------------------------------------------------

#: The 12 types, in the order configs cycle through them (so 10 configs already cover 10 families).
TYPES = (
    "byom_realtime_builtin", "byom_batch_builtin", "byom_image_builder", "byom_data_quality_monitor",
    "model_training_builtin", "model_tuner_builtin", "model_autopilot_training", "byom_model_quality_monitor",
    "byom_realtime_custom", "byom_batch_custom", "byom_model_bias_monitor", "byom_model_explainability_monitor",
)
ACCOUNT = "123456789012"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/algo:1"
XGBOOST = {"model_framework": "xgboost", "model_framework_version": "1.7-1"}
HYPERPARAMETERS = {"objective": "binary:logistic", "eval_metric": "auc", "num_round": 50}
TRAINING_DATA = {"training_data": "churn/train/data.csv", "validation_data": "churn/validation/data.csv"}


def package(m: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{m}/1"


def realtime_variants(m: str, i: int) -> list[dict[str, Any]]:
    endpoint = {"inference_instance": "ml.m5.large", "data_capture_location": f"bench-assets/capture/{m}"}
    return [
        {**XGBOOST, "model_artifact_location": f"models/{m}/model.tar.gz", **endpoint, "endpoint_name": m},
        {"model_package_name": package(m), **endpoint, "tags": ["registry"]},
    ]


def realtime_custom_variants(m: str, i: int) -> list[dict[str, Any]]:
    stages = ("dev", "staging", "prod")
    return [
        {"custom_image_uri": IMAGE, "model_artifact_location": f"models/{m}/model.tar.gz",
         "inference_instance": "ml.c5.xlarge", "data_capture_location": f"bench-assets/capture/{m}"},
        # The image of the image builder config of the same cycle of 12, a deployment per new image.
        {"custom_image_from": f"pipeline_{i // len(TYPES) * len(TYPES) + 2:05d}", "deploy_on_new_image": True,
         "model_artifact_location": f"models/{m}/model.tar.gz", "inference_instance": "ml.c5.xlarge",
         "data_capture_location": f"bench-assets/capture/{m}"},
        # MWO's multi-account form: one value per stage.
        {"custom_image_uri": IMAGE, "model_artifact_location": f"models/{m}/model.tar.gz",
         "inference_instance": {"dev": "ml.m5.large", "staging": "ml.m5.xlarge", "prod": "ml.c5.2xlarge"},
         "data_capture_location": {s: f"s3://bench-{s}-capture/{m}" for s in stages},
         "endpoint_name": {s: f"{m}-{s}" for s in stages},
         "stages": {s: {"account_id": str(n) * 12, "org_unit_id": f"ou-ab12-{s * 3}"}
                    for n, s in enumerate(stages, start=1)}},
    ]


def batch_variants(m: str, i: int) -> list[dict[str, Any]]:
    io = {"inference_instance": "ml.m5.large", "batch_inference_data": f"bench-assets/batch/{m}/input",
          "batch_job_output_location": f"bench-assets/batch/{m}/output"}
    return [
        {**XGBOOST, "model_artifact_location": f"models/{m}/model.tar.gz", **io, "schedule": "0 2 * * *"},
        {"model_package_name": package(m), **io, "use_model_registry": "True"},
    ]


def batch_custom_variants(m: str, i: int) -> list[dict[str, Any]]:
    io = {"batch_inference_data": f"bench-assets/batch/{m}/input",
          "batch_job_output_location": f"bench-assets/batch/{m}/output"}
    return [
        {"custom_image_uri": IMAGE, "model_artifact_location": f"s3://other-bucket/{m}/model.tar.gz",
         "inference_instance": "ml.g4dn.xlarge", **io,
         "kms_key_arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/mlops"},
        {"model_package_name": package(m), "inference_instance": "ml.c5.xlarge", **io, "content_type": "text/csv",
         "accept": "text/csv", "split_type": "Line", "assemble_with": "Line", "instance_count": 2},
    ]


def image_builder_variants(m: str, i: int) -> list[dict[str, Any]]:
    return [{"custom_algorithm_docker": f"custom/{m}.zip", "ecr_repo_name": m, "image_tag": "1.0"}]


def monitor(m: str, kind: str) -> dict[str, Any]:
    return {
        "endpoint_name": f"{m}-endpoint",
        "baseline_data": f"baselines/{m}/baseline.csv",
        "baseline_job_output_location": f"bench-assets/baselines/{m}/{kind}",
        "data_capture_location": f"bench-assets/capture/{m}",
        "monitoring_output_location": f"bench-assets/monitoring/{m}/{kind}",
        "schedule_expression": "cron(0 * ? * * *)",
        "instance_type": "ml.m5.large",
        "instance_volume_size": 20,
        "monitor_max_runtime_seconds": 1800,
    }


def data_quality_variants(m: str, i: int) -> list[dict[str, Any]]:
    return [{**monitor(m, "data-quality"), "baseline_max_runtime_seconds": 3600, "fail_on_violations": False}]


def model_quality_variants(m: str, i: int) -> list[dict[str, Any]]:
    return [{**monitor(m, "model-quality"), "problem_type": "BinaryClassification",
             "baseline_inference_attribute": "prediction", "baseline_probability_attribute": "probability",
             "baseline_ground_truth_attribute": "label", "monitor_probability_attribute": "0",
             "probability_threshold_attribute": 0.5, "monitor_ground_truth_input": f"bench-assets/groundtruth/{m}"}]


def model_bias_variants(m: str, i: int) -> list[dict[str, Any]]:
    return [{**monitor(m, "model-bias"), "problem_type": "BinaryClassification",
             "monitor_probability_attribute": "0", "probability_threshold_attribute": 0.5,
             "monitor_ground_truth_input": f"bench-assets/groundtruth/{m}",
             "bias_config": {"label_values_or_threshold": [1], "facet_name": "gender",
                             "facet_values_or_threshold": [0]},
             "model_predicted_label_config": {"probability_threshold": 0.5}}]


def model_explainability_variants(m: str, i: int) -> list[dict[str, Any]]:
    return [{**monitor(m, "model-explainability"), "problem_type": "BinaryClassification",
             "monitor_probability_attribute": "0",
             "shap_config": {"baseline": [[120, 1, 180.5, 0]], "num_samples": 50, "agg_method": "mean_abs",
                             "use_logit": False}}]


def training_variants(m: str, i: int) -> list[dict[str, Any]]:
    job = {**XGBOOST, **TRAINING_DATA, "job_output_location": f"bench/{m}/output", "instance_type": "ml.m5.xlarge",
           "algo_hyperparamaters": HYPERPARAMETERS}
    return [
        # Train, register, approve by threshold, deploy an endpoint: the biggest DAG of all.
        {**job, "use_spot_instances": "False", "model_package_group_name": m,
         "approval_threshold": {"metric": "validation:auc", "min": 0.6},
         "deploy": {"type": "realtime", "inference_instance": "ml.m5.large",
                    "data_capture_location": f"bench-assets/capture/{m}", "endpoint_name": m},
         "schedule": "@weekly"},
        # MWO's pipeline as it was: the model artifact is the result.
        {**job, "instance_count": "1", "instance_volume_size": "20", "use_spot_instances": "True",
         "max_runtime_per_job": "3600", "max_wait_time_spot_instances": "7200"},
        # A person approves in the Airflow UI, then one batch transform.
        {**job, "model_package_group_name": m, "model_approval": "manual", "approval_timeout_hours": 48,
         "deploy": {"type": "batch", "inference_instance": "ml.m5.large",
                    "batch_inference_data": f"bench-assets/batch/{m}/input",
                    "batch_job_output_location": f"bench-assets/batch/{m}/output"}},
    ]


def tuner_variants(m: str, i: int) -> list[dict[str, Any]]:
    tuner = {**XGBOOST, **TRAINING_DATA, "job_output_location": f"bench/{m}/tuning-output",
             "algo_hyperparamaters": HYPERPARAMETERS,
             "tuner_configs": {"objective_metric_name": "validation:auc", "objective_type": "Maximize",
                               "strategy": "Bayesian", "max_jobs": 4, "max_parallel_jobs": 2},
             "hyperparamaters_ranges": {"eta": ["continuous", [0.1, 0.5]], "max_depth": ["integer", [3, 10]],
                                        "optimizer": ["categorical", ["sgd", "Adam"]]}}
    return [{**tuner, "model_package_group_name": m, "model_approval": "automatic"}, tuner]


def autopilot_variants(m: str, i: int) -> list[dict[str, Any]]:
    autopilot = {"training_data": "churn/autopilot/train.csv", "target_attribute": "churn",
                 "job_output_location": f"bench/{m}/autopilot-output", "problem_type": "BinaryClassification",
                 "job_objective": "F1", "job_max_candidates": "3", "max_runtime_per_job": "3600",
                 "total_max_runtime": "7200", "generate_definition_only": "False", "encrypt_inner_traffic": "True"}
    return [{**autopilot, "model_package_group_name": m, "approval_threshold": {"metric": "objective", "min": 0.5}},
            autopilot]


VARIANTS = {
    "byom_realtime_builtin": realtime_variants,
    "byom_realtime_custom": realtime_custom_variants,
    "byom_batch_builtin": batch_variants,
    "byom_batch_custom": batch_custom_variants,
    "byom_image_builder": image_builder_variants,
    "byom_data_quality_monitor": data_quality_variants,
    "byom_model_quality_monitor": model_quality_variants,
    "byom_model_bias_monitor": model_bias_variants,
    "byom_model_explainability_monitor": model_explainability_variants,
    "model_training_builtin": training_variants,
    "model_tuner_builtin": tuner_variants,
    "model_autopilot_training": autopilot_variants,
}


def mixed_spec(i: int, only: str | None = None) -> tuple[str, int]:
    """(pipeline type, variant index) of the i-th config of the mixed folder (or of ``only``'s folder)."""
    if only is not None:
        return only, i % len(VARIANTS[only](f"m-{i}", i))
    pipeline_type = TYPES[i % len(TYPES)]
    return pipeline_type, (i // (2 * len(TYPES))) % len(VARIANTS[pipeline_type](f"m-{i}", i))


# Keys of a payload template shared by every pipeline type (MWO ignored those of other types).
TEMPLATE = {
    "tuner_configs": {"objective_metric_name": "validation:auc", "max_jobs": 10, "max_parallel_jobs": 2},
    "hyperparamaters_ranges": {"eta": ["continuous", [0.1, 0.5]], "max_depth": ["integer", [1, 15]]},
    "target_attribute": "churn",
    "baseline_inference_attribute": "prediction",
    "bias_config": {"label_values_or_threshold": [1], "facet_name": "age"},
    "batch_job_output_location": "bench-assets/batch-output",
}


def template_keys(pipeline_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The template's keys that ``pipeline_type`` does not read (each becomes a warning)."""
    from mlops_orchestrator.config.mwo_fields import MWO_FIELDS  # only this mode needs the package

    return {k: v for k, v in TEMPLATE.items() if k not in MWO_FIELDS[pipeline_type] and k not in fields}


def mixed_config_text(i: int, only: str | None = None, template: bool = False) -> tuple[str, str]:
    """The i-th config of the mixed folder; the format alternates within each type (YAML, JSON)."""
    pipeline_type, variant = mixed_spec(i, only)
    m = f"m{i}-{pipeline_type.split('_')[1]}"
    fields = {"pipeline_type": pipeline_type,
              **({} if pipeline_type == "byom_image_builder" else {"model_name": m}),
              **VARIANTS[pipeline_type](m, i)[variant]}
    if template:
        fields |= template_keys(pipeline_type, fields)
    return file_text(i, fields, as_json=bool((i + i // len(TYPES)) % 2))


def make_mixed_folder(root: Path, n: int, only: str | None = None, template: bool = False) -> Path:
    """N configs of all 12 types (or of ``only``), one shared defaults.yaml and our loader file."""
    folder = root / f"mixed-{only or 'all'}-{n}{'-template' if template else ''}"
    (folder / "pipelines").mkdir(parents=True)
    (folder / "mlops_pipelines.py").write_text(LOADER)
    (folder / "defaults.yaml").write_text(DEFAULTS)
    for i in range(n):
        name, text = mixed_config_text(i, only, template)
        (folder / "pipelines" / name).write_text(text)
    return folder


def heaviest_dag_id(n: int) -> str:
    """The DAG id of a training config with registry, threshold and an endpoint (nearest to N/2)."""
    candidates = [i for i in range(n) if mixed_spec(i) == ("model_training_builtin", 0)]
    return f"pipeline_{min(candidates, key=lambda i: abs(i - n // 2)):05d}"


# ------------------------------------------------------------------------------------------------
# measuring
# ------------------------------------------------------------------------------------------------


#: Multi-account (``--mix stages``): three stages through self-managed StackSets, gates automatic.
STAGES_DEFAULTS = DEFAULTS + """stages:
  dev: {account_id: "111111111111"}
  staging: {account_id: "222222222222", approval: automatic}
  prod: {account_id: "333333333333", approval: automatic}
multi_account: {method: stackset, permission_model: self_managed}
"""


def make_folders(root: Path, n: int, defaults: str = DEFAULTS, name: str = "configs") -> tuple[Path, Path]:
    ours = root / f"{name}-{n}"
    hand = root / f"hand-{name}-{n}"
    (ours / "pipelines").mkdir(parents=True)
    hand.mkdir()
    (ours / "mlops_pipelines.py").write_text(LOADER)
    (ours / "defaults.yaml").write_text(defaults)
    for i in range(n):
        name, text = config_text(i)
        (ours / "pipelines" / name).write_text(text)
    body = HAND_WRITTEN_HEAD + "".join(
        f"dag_{i:05d} = make({i}, {KINDS[i % len(KINDS)]!r})\n" for i in range(n)
    )
    (hand / "hand_written_dags.py").write_text(body)
    return ours, hand


def make_empty_folder(root: Path, folder: Path, env: dict[str, str]) -> Path:
    """A folder of EmptyOperator DAGs shaped like ``folder``'s (same DAGs, tasks and edges)."""
    out = subprocess.run([sys.executable, "-c", SHAPES, str(folder)], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"reading the DAG shapes of {folder} failed:\n{out.stderr[-3000:]}")
    shapes = json.loads(out.stdout.strip().splitlines()[-1])
    empty = root / f"empty-{folder.name}"
    empty.mkdir()
    (empty / "empty_dags.py").write_text(EMPTY_DAGS.format(shapes=shapes))
    return empty


def run_script(script: str, arg: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", script, arg], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"measuring {arg} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(folder: Path, env: dict[str, str], repeat: int) -> dict:
    run_script(MEASURE, str(folder), env)  # warm-up, untimed (see measure_together)
    runs = [run_script(MEASURE, str(folder), env) for _ in range(repeat)]
    return {
        **runs[0],
        "median": statistics.median(r["seconds"] for r in runs),
        "serialize_only": statistics.median(r["serialize"] for r in runs),
        "with_serialize": statistics.median(r["seconds"] + r["serialize"] for r in runs),
    }


def check(label: str, result: dict, dags: int, types: int | None = None) -> None:
    """Fail loudly unless the folder gave ``dags`` DAGs, no import error, no invalid-config DAG."""
    bad = []
    if result["dags"] != dags:
        bad.append(f"{result['dags']} DAGs instead of {dags}")
    if result["errors"]:
        bad.append(f"{result['errors']} import error(s)")
    if result["invalid"]:
        bad.append(f"{result['invalid']} invalid-config DAG(s)")
    if types is not None and len(result["types"]) != types:
        bad.append(f"pipeline types {sorted(result['types'])} instead of {types} types")
    if bad:
        details = "\n  ".join(result["problems"])
        raise SystemExit(f"{label}: {', '.join(bad)}\n  {details}")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def measure_together(folders: list[tuple[Path, dict[str, str]]], repeat: int) -> list[dict]:
    """``measure`` of several folders, run in rotation so that each sees the same machine load.

    Each folder is parsed once untimed first: a running deployment parses every 30 s, with its
    bytecode compiled and the parse state of the parse before (see ``run``) in place.
    """
    for folder, env in folders:
        run_script(MEASURE, str(folder), env)
    runs: list[list[dict]] = [[] for _ in folders]
    for _ in range(repeat):
        for i, (folder, env) in enumerate(folders):
            runs[i].append(run_script(MEASURE, str(folder), env))
    return [
        {
            **r[0],
            "median": statistics.median(x["seconds"] for x in r),
            "serialize_only": statistics.median(x["serialize"] for x in r),
            "with_serialize": statistics.median(x["seconds"] + x["serialize"] for x in r),
        }
        for r in runs
    ]


def run_realtime(root: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    print(
        "| N configs | tasks | ours: DagBag (s) | EmptyOperator DAGs: DagBag (s) | ratio "
        "| hand-written: DagBag (s) | ratio | ours: DagBag + serialize (s) "
        "| EmptyOperator DAGs: DagBag + serialize (s) | ratio | ours: one task's parse (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        ours, hand = make_folders(root, n)
        empty = make_empty_folder(root, ours, env)
        one_env = task_env(env, f"pipeline_{n // 2:05d}")
        full, bare, baseline, one = measure_together(
            [(ours, env), (empty, env), (hand, env), (ours, one_env)], args.repeat
        )
        check(f"realtime configs, N={n}", full, n)
        check(f"EmptyOperator DAGs, N={n}", bare, n)
        check(f"hand-written, N={n}", baseline, n)
        check(f"realtime configs, one task, N={n}", one, 1)
        if bare["tasks"] != full["tasks"]:
            raise SystemExit(f"EmptyOperator DAGs have {bare['tasks']} tasks, ours {full['tasks']}")
        print(
            f"| {n} | {full['tasks']} | {full['median']:.3f} | {bare['median']:.3f} "
            f"| {ratio(full['median'], bare['median'])} | {baseline['median']:.3f} "
            f"| {ratio(full['median'], baseline['median'])} | {full['with_serialize']:.3f} "
            f"| {bare['with_serialize']:.3f} | {ratio(full['with_serialize'], bare['with_serialize'])} "
            f"| {one['median']:.3f} |",
            flush=True,
        )


def run_stages(root: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    """The realtime configs with three stages in defaults.yaml vs EmptyOperator DAGs and single-account."""
    print(
        "| N configs | tasks: 3 stages / 1 account | 3 stages: DagBag (s) | EmptyOperator DAGs: DagBag (s) "
        "| ratio | 1 account: DagBag (s) | ratio | 3 stages: DagBag + serialize (s) "
        "| EmptyOperator DAGs: DagBag + serialize (s) | ratio | 3 stages: one task's parse (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        staged, _ = make_folders(root, n, STAGES_DEFAULTS, name="stages")
        single, _ = make_folders(root, n)
        empty = make_empty_folder(root, staged, env)
        one_env = task_env(env, f"pipeline_{n // 2:05d}")
        full, bare, base, one = measure_together(
            [(staged, env), (empty, env), (single, env), (staged, one_env)], args.repeat
        )
        for label, result, dags in (("3 stages", full, n), ("EmptyOperator DAGs", bare, n),
                                    ("1 account", base, n), ("3 stages, one task", one, 1)):
            check(f"{label}, N={n}", result, dags)
        print(
            f"| {n} | {full['tasks']} / {base['tasks']} | {full['median']:.3f} | {bare['median']:.3f} "
            f"| {ratio(full['median'], bare['median'])} | {base['median']:.3f} "
            f"| {ratio(full['median'], base['median'])} | {full['with_serialize']:.3f} "
            f"| {bare['with_serialize']:.3f} | {ratio(full['with_serialize'], bare['with_serialize'])} "
            f"| {one['median']:.3f} |",
            flush=True,
        )


def run_shards(root: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    """N realtime configs over ``--shards`` loader files: each file's DagBag and serialization alone."""
    from mlops_orchestrator.factory.shards import shard_of, write_loader_files

    count = args.shards
    print(
        "| N configs | loader files | DAGs per file (min-max) | slowest file: DagBag (s) | slowest file: "
        "DagBag + serialize (s) | median file: DagBag + serialize (s) | all files: DagBag + serialize, "
        "sum (s) | one task's parse (s) |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        folder, _ = make_folders(root, n)
        (folder / "mlops_pipelines.py").unlink()
        files = write_loader_files(folder, count)
        target = f"pipeline_{n // 2:05d}"
        one_file = files[shard_of(target, count)]
        results = measure_together(
            [(f, env) for f in files] + [(one_file, task_env(env, target))], args.repeat
        )
        per_file, one = results[:-1], results[-1]
        for f, result in zip(files, per_file, strict=True):
            check(f"{f.name}, N={n}", result, result["dags"])
        check(f"one task, N={n}", one, 1)
        if sum(r["dags"] for r in per_file) != n:
            raise SystemExit(f"the {count} files built {sum(r['dags'] for r in per_file)} DAGs, not {n}")
        sizes = [r["dags"] for r in per_file]
        slowest = max(per_file, key=lambda r: r["with_serialize"])
        print(
            f"| {n} | {count} | {min(sizes)}-{max(sizes)} | {max(r['median'] for r in per_file):.3f} "
            f"| {slowest['with_serialize']:.3f} | {statistics.median(r['with_serialize'] for r in per_file):.3f} "
            f"| {sum(r['with_serialize'] for r in per_file):.3f} | {one['median']:.3f} |",
            flush=True,
        )


def run_mixed(root: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    print(
        "| N configs | tasks: all types / realtime | all types: DagBag (s) | realtime: DagBag (s) | ratio "
        "| all types: DagBag + serialize (s) | realtime: DagBag + serialize (s) | ratio "
        "| all types: one task's parse (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        mixed = make_mixed_folder(root, n)
        realtime, _ = make_folders(root, n)
        # Interleaved, so both folders see the same machine load.
        full = measure(mixed, env, args.repeat)
        baseline = measure(realtime, env, args.repeat)
        one = measure(mixed, task_env(env, heaviest_dag_id(n)), args.repeat)
        check(f"all types, N={n}", full, n, types=min(n, len(TYPES)))
        check(f"realtime configs, N={n}", baseline, n)
        check(f"all types, one task, N={n}", one, 1)
        print(
            f"| {n} | {full['tasks']} / {baseline['tasks']} | {full['median']:.3f} | {baseline['median']:.3f} "
            f"| {ratio(full['median'], baseline['median'])} | {full['with_serialize']:.3f} "
            f"| {baseline['with_serialize']:.3f} | {ratio(full['with_serialize'], baseline['with_serialize'])} "
            f"| {one['median']:.3f} |",
            flush=True,
        )
    if args.profile:
        out = subprocess.run([sys.executable, "-c", PROFILE, str(mixed)], capture_output=True, text=True, env=env)
        print(out.stdout if not out.returncode else out.stderr[-3000:])


def run_template(root: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    """Every config carrying other types' keys (warnings) vs the same configs without them."""
    print(
        "| N configs | with template keys: first parse (s) | with template keys: DagBag (s) "
        "| without: DagBag (s) | ratio | with: DagBag + serialize (s) | without: DagBag + serialize (s) | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        warned = make_mixed_folder(root, n, template=True)
        plain = make_mixed_folder(root, n)
        first = run_script(MEASURE, str(warned), env)  # logs the warnings, writes the markers
        full = measure(warned, env, args.repeat)
        baseline = measure(plain, env, args.repeat)
        check(f"template keys, N={n}", full, n, types=min(n, len(TYPES)))
        check(f"all types, N={n}", baseline, n, types=min(n, len(TYPES)))
        print(
            f"| {n} | {first['seconds']:.3f} | {full['median']:.3f} | {baseline['median']:.3f} "
            f"| {ratio(full['median'], baseline['median'])} | {full['with_serialize']:.3f} "
            f"| {baseline['with_serialize']:.3f} | {ratio(full['with_serialize'], baseline['with_serialize'])} |",
            flush=True,
        )


BUILDER_MODULES = ("realtime", "batch", "image_builder", "monitors", "training")


def run_breakdown(root: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    """Per type: DagBag of N configs of that type only, next to the realtime builtin folder's."""
    n = args.breakdown
    print(f"Per pipeline type, {n} configs of that type only (medians of {args.repeat}):\n")
    print("| pipeline_type | tasks per DAG | DagBag (s) | serialize (s) | DagBag: ms per DAG | ms per task |")
    print("|---|---:|---:|---:|---:|---:|")
    for pipeline_type in TYPES:
        result = measure(make_mixed_folder(root, n, only=pipeline_type), env, args.repeat)
        check(f"{pipeline_type} only, N={n}", result, n, types=1)
        print(
            f"| {pipeline_type} | {result['tasks'] / n:.1f} | {result['median']:.3f} "
            f"| {result['serialize_only']:.3f} | {1000 * result['median'] / n:.2f} "
            f"| {1000 * result['median'] / result['tasks']:.2f} |",
            flush=True,
        )
    print("\nImport of each builder module after `import mlops_orchestrator.factory`, fresh process each "
          f"(medians of {args.repeat}):\n")
    print("| module | import (s) |")
    print("|---|---:|")
    loader = []
    for name in BUILDER_MODULES:
        runs = [run_script(IMPORT_TIME, f"mlops_orchestrator.factory.{name}", env) for _ in range(args.repeat)]
        loader += [r["loader"] for r in runs]
        print(f"| factory.{name} | {statistics.median(r['seconds'] for r in runs):.3f} |", flush=True)
    print(f"| (mlops_orchestrator.factory itself) | {statistics.median(loader):.3f} |")


def task_env(env: dict[str, str], dag_id: str) -> dict[str, str]:
    """The environment of a running task: Airflow's parsing context names its DAG."""
    return {**env, "_AIRFLOW_PARSING_CONTEXT_DAG_ID": dag_id, "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "deploy_stack"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mix", choices=["realtime", "all", "stages", "template"], default="realtime",
                        help="realtime: realtime configs vs EmptyOperator DAGs of the same shape and a "
                        "hand-written file (default); all: every pipeline type vs the realtime configs; "
                        "stages: realtime configs with three stages (multi-account) vs EmptyOperator DAGs; "
                        "template: every type with other types' keys (warnings) vs without them")
    parser.add_argument("--breakdown", type=int, metavar="N",
                        help="instead: per pipeline type (N configs each) and per builder module import")
    parser.add_argument("--shards", type=int, metavar="COUNT",
                        help="instead: realtime configs over COUNT loader files, each file measured alone")
    parser.add_argument("--profile", action="store_true", help="with --mix all: cProfile the largest size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-parse-bench-") as tmp:
        run(Path(tmp), args)
    return 0


def run(root: Path, args: argparse.Namespace) -> None:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(root / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        "MLOPS_ORCHESTRATOR_STATE_DIR": str(root / "state"),
        # An installed package has its bytecode compiled (pip does it); an editable install under
        # PYTHONDONTWRITEBYTECODE would compile every module of ours at every parse. The warm-up
        # parse writes it here, for every module, without touching the source tree.
        "PYTHONPYCACHEPREFIX": str(root / "pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("_AIRFLOW_PARSING_CONTEXT_DAG_ID", None)
    env.pop("_AIRFLOW_PARSING_CONTEXT_TASK_ID", None)
    print(f"cores: {os.cpu_count()}, repeat: {args.repeat} (median), python {sys.version.split()[0]}")
    if args.breakdown:
        run_breakdown(root, env, args)
    elif args.shards:
        run_shards(root, env, args)
    elif args.mix == "all":
        run_mixed(root, env, args)
    elif args.mix == "stages":
        run_stages(root, env, args)
    elif args.mix == "template":
        run_template(root, env, args)
    else:
        run_realtime(root, env, args)


if __name__ == "__main__":
    sys.exit(main())
