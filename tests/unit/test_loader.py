"""The dags/ loader through Airflow's own DagBag: good configs load, bad ones are visible, alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOADER = (REPO / "dags" / "mlops_pipelines.py").read_text()

GOOD = textwrap.dedent(
    """\
    pipeline_type: byom_realtime_builtin
    model_name: churn
    model_framework: xgboost
    model_framework_version: "1.7-1"
    model_artifact_location: models/churn.tar.gz
    data_capture_location: assets/capture/churn
    inference_instance: ml.m5.large
    schedule: "0 3 * * *"
    tags: [churn, team-a]
    owner: data-science
    retries: 3
    retry_delay_seconds: 120
    params:
      note: hello
      threshold: {default: 0.5, type: number, description: cut-off}
    """
)


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    (folder / "team").mkdir(parents=True)
    (folder / "mlops_pipelines.py").write_text(LOADER)
    (folder / "defaults.yaml").write_text("assets_bucket: assets\nregion_name: us-east-1\n")
    (folder / "team" / "churn.yaml").write_text(GOOD)
    (folder / "team" / "custom.json").write_text(
        json.dumps(
            {
                "pipeline_type": "byom_realtime_custom",
                "model_name": "fraud",
                "custom_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud:1",
                "model_artifact_location": "models/fraud.tar.gz",
                "data_capture_location": "assets/capture/fraud",
                "inference_instance": "ml.c5.xlarge",
                "dag_id": "fraud_endpoint",
            }
        )
    )
    (folder / "typo.yaml").write_text(GOOD.replace("model_name:", "model_nmae:"))
    (folder / "broken.yaml").write_text("pipeline_type: byom_realtime_builtin\nmodel_name: churn: x\n")
    (folder / "empty.yml").write_text("")
    (folder / "unknown_type.yaml").write_text(GOOD.replace("byom_realtime_builtin", "byom_realtime_bultin"))
    (folder / "training.yaml").write_text(
        "pipeline_type: model_training_builtin\nmodel_name: m\ntraining_data: data/train.csv\n"
        "job_output_location: out\nmodel_framework: xgboost\nmodel_framework_version: '1.7-1'\n"
        "algo_hyperparamaters: {num_round: '10'}\n"
    )
    return folder


def _bag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), safe_mode=True)


def _error_text(dag) -> str:
    task = dag.get_task("config_error")
    return task.op_kwargs["message"]


def test_good_configs_load_and_bad_ones_become_visible_error_dags(dags_folder):
    bag = _bag(dags_folder)
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"churn", "fraud_endpoint", "typo", "broken", "empty", "unknown_type", "training"}

    churn = bag.dags["churn"]
    assert set(churn.task_ids) == {"deploy_stack", "deployed", "delete_stack"}
    assert "invalid-config" not in churn.tags

    def error_of(dag_id: str) -> str:
        dag = bag.dags[dag_id]
        assert "invalid-config" in dag.tags
        assert dag.description.startswith("INVALID CONFIG: ")
        return _error_text(dag)

    # Files are shown relative to the config folder, as users know them.
    assert error_of("typo").startswith("typo.yaml: model_nmae: unknown field; did you mean 'model_name'?")
    assert error_of("broken").startswith("broken.yaml:2: ")
    assert error_of("empty") == "empty.yml: file is empty"
    unknown = error_of("unknown_type")
    assert unknown.startswith("unknown_type.yaml: pipeline_type: ")
    assert "byom_realtime_builtin" in unknown  # the suggestion
    training = bag.dags["training"]
    assert "invalid-config" not in training.tags
    assert "train" in training.task_ids


def test_a_valid_type_without_a_builder_becomes_an_error_dag_that_says_so(dags_folder, monkeypatch):
    """Every MWO type has a builder now; a type added to the config models first must not look runnable."""
    from mlops_orchestrator.factory import loader, registry

    monkeypatch.delitem(registry.BUILDERS, "model_training_builtin")
    monkeypatch.setitem(registry.PLANNED, "model_training_builtin", "a later release")
    monkeypatch.setattr(registry, "_loaded", {})
    dags = loader.load_dags(str(dags_folder))
    training = dags["training"]
    assert "invalid-config" in training.tags
    message = _error_text(training)
    assert "pipeline_type 'model_training_builtin' is valid, but this version" in message
    assert "no DAG builder for it yet. It is planned with a later release." in message


def test_dag_settings_come_from_the_config(dags_folder):
    churn = _bag(dags_folder).dags["churn"]
    assert churn.schedule == "0 3 * * *" or str(churn.timetable.summary) == "0 3 * * *"
    assert {"churn", "team-a", "mlops-orchestrator", "byom_realtime_builtin"} <= set(churn.tags)
    task = churn.get_task("deploy_stack")
    assert task.owner == "data-science"
    assert task.retries == 3
    assert task.retry_delay.total_seconds() == 120
    assert churn.params["action"] == "deploy"
    assert churn.params["note"] == "hello"
    assert churn.params["threshold"] == 0.5
    assert churn.max_active_runs == 1
    assert churn.get_task("deploy_stack").stack_name == "mlops-pipeline-churn-byompipelinerealtimebuiltin"


def test_tasks_carry_no_copy_of_the_dag_params_and_still_run_with_them(dags_folder):
    """The DAG's params are set aside while its tasks are made (Airflow would deep-copy them into
    every task, the largest cost of a big folder's parse); a running task still gets them."""
    from airflow.sdk.definitions.param import process_params

    churn = _bag(dags_folder).dags["churn"]
    assert set(churn.params) == {"action", "note", "threshold"}
    assert all(not task.params for task in churn.tasks), {t.task_id: dict(t.params) for t in churn.tasks}
    task = churn.get_task("deploy_stack")
    params = process_params(churn, task, {"action": "deprovision"}, suppress_exception=False)
    assert params == {"action": "deprovision", "note": "hello", "threshold": 0.5}
    with pytest.raises(Exception, match="deprovision"):  # the trigger form's enum still applies
        process_params(churn, task, {"action": "remove"}, suppress_exception=False)


def test_the_error_dag_fails_at_once_with_the_problems(dags_folder):
    from airflow.providers.common.compat.sdk import AirflowFailException

    task = _bag(dags_folder).dags["typo"].get_task("config_error")
    assert task.retries == 0
    with pytest.raises(AirflowFailException, match="model_nmae: unknown field"):
        task.python_callable(**task.op_kwargs)


def test_a_task_running_when_its_config_turned_bad_fails_with_the_problems(dags_folder, monkeypatch):
    """The config (or its defaults) broke while a run was active: the running task's parse finds a
    stand-in that fails with the problems, not Airflow's "task not found"."""
    from airflow.providers.common.compat.sdk import AirflowFailException
    from mlops_orchestrator.factory import load_dags

    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "typo")
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "deploy_stack")
    with pytest.warns(UserWarning):
        dags = load_dags(dags_folder)
    assert set(dags) == {"typo"}
    assert set(dags["typo"].task_ids) == {"config_error", "deploy_stack"}
    task = dags["typo"].get_task("deploy_stack")
    with pytest.raises(AirflowFailException, match="typo.yaml: model_nmae: unknown field"):
        task.python_callable(**task.op_kwargs)
    # a deferred task that resumes on the stand-in fails with the problems too (not retried)
    with pytest.raises(AirflowFailException, match="typo.yaml: model_nmae: unknown field"):
        task.resume_execution("execute_complete", {"event": {}}, {})


def test_a_config_turned_bad_keeps_its_last_good_tasks_as_stand_ins_that_fail(dags_folder):
    """An active run's tasks must not vanish from the DAG (the scheduler would mark them removed
    and the run could succeed): the DAG processor's error DAG keeps the last good DAG's task ids,
    each failing with the problems."""
    from airflow.providers.common.compat.sdk import AirflowFailException
    from mlops_orchestrator.factory import load_dags

    good = load_dags(dags_folder)["churn"]
    assert len(good.task_ids) > 1
    config = dags_folder / "team" / "churn.yaml"
    config.write_text(GOOD.replace("model_name:", "model_nmae:"))
    with pytest.warns(UserWarning):
        broken = load_dags(dags_folder)["churn"]
    assert "invalid-config" in broken.tags
    assert set(broken.task_ids) == {"config_error", *good.task_ids}
    for task_id in good.task_ids:
        task, was = broken.get_task(task_id), good.get_task(task_id)
        # in the pipeline's order: a run made on this version may be run by workers that already
        # parse the fixed config, whose tasks must not start before their upstream tasks
        assert (task.upstream_task_ids, task.trigger_rule) == (was.upstream_task_ids, was.trigger_rule)
        assert task.retries == 0
        with pytest.raises(AirflowFailException, match="team/churn.yaml: model_nmae: unknown field"):
            task.python_callable(**task.op_kwargs)
    # Fixed again, the DAG is itself; a config never seen good has only config_error.
    config.write_text(GOOD)
    assert load_dags(dags_folder)["churn"].task_ids == good.task_ids
    with pytest.warns(UserWarning):
        assert load_dags(dags_folder)["typo"].task_ids == ["config_error"]


def test_the_last_good_tasks_follow_the_dag_and_survive_an_unwritable_state_folder(tmp_path, monkeypatch):
    from mlops_orchestrator.factory.last_tasks import last_tasks, remember_tasks

    monkeypatch.setenv("MLOPS_ORCHESTRATOR_STATE_DIR", str(tmp_path / "state"))
    assert last_tasks("churn") == {}
    shape = {"a": ([], "all_success"), "b": (["a"], "none_failed_min_one_success")}
    remember_tasks("churn", shape)
    remember_tasks("churn", shape)  # unchanged: nothing written
    remember_tasks("other", {"x": ([], "all_success")})
    assert (last_tasks("churn"), last_tasks("other")) == (shape, {"x": ([], "all_success")})
    changed = {"a": ([], "all_success"), "c": (["a"], "all_success")}
    remember_tasks("churn", changed)  # the DAG changed: only its newest shape is kept
    assert last_tasks("churn") == changed
    assert len(list((tmp_path / "state" / "task-ids").glob("*.json"))) == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_STATE_DIR", str(blocker))
    remember_tasks("churn", shape)  # no error: the parse goes on
    assert last_tasks("churn") == {}


def test_duplicate_dag_id_keeps_the_first_and_names_both_files(dags_folder):
    (dags_folder / "team" / "zz_copy.yaml").write_text(GOOD + "dag_id: churn\n")
    from mlops_orchestrator.factory import load_dags

    with pytest.warns(UserWarning, match="team/zz_copy.yaml: dag_id: 'churn' is already the DAG of team/churn.yaml"):
        dags = load_dags(dags_folder)
    assert "invalid-config" not in dags["churn"].tags


def test_a_running_task_builds_only_its_own_dag(dags_folder, monkeypatch):
    from mlops_orchestrator.factory import load_dags

    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "churn")
    assert list(load_dags(dags_folder)) == ["churn"]
    # A DAG id set inside the config (not the file's stem) is still found.
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "fraud_endpoint")
    assert list(load_dags(dags_folder)) == ["fraud_endpoint"]


def test_the_next_parse_takes_valid_configs_from_the_cache_and_builds_the_same_dags(dags_folder, monkeypatch):
    from airflow.serialization.serialized_objects import DagSerialization
    from mlops_orchestrator.config import load_config
    from mlops_orchestrator.factory import config_cache, load_dags

    def dag_fingerprint(dag):
        return DagSerialization.to_dict(dag)

    first = load_dags(dags_folder)
    validated: list[str] = []

    def counting(path, *args, **kwargs):
        validated.append(Path(path).name)
        return load_config(path, *args, **kwargs)

    monkeypatch.setattr(config_cache, "load_config", counting)
    second = load_dags(dags_folder)
    # the bad configs are read again, to report their problems; the good ones come from the cache
    assert sorted(validated) == ["broken.yaml", "empty.yml", "typo.yaml", "unknown_type.yaml"]
    assert {d: dag_fingerprint(dag) for d, dag in second.items()} == {d: dag_fingerprint(dag) for d, dag in first.items()}
    # a running task's parse and a parse of given files neither read nor write it
    cache_folder = Path(os.environ["MLOPS_ORCHESTRATOR_STATE_DIR"]) / "validated-configs"
    shutil.rmtree(cache_folder)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "churn")
    assert list(load_dags(dags_folder)) == ["churn"]
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID")
    assert list(load_dags(dags_folder, files=[dags_folder / "team" / "churn.yaml"])) == ["churn"]
    assert not cache_folder.exists()


def test_remembered_tasks_come_back_when_their_file_goes_while_the_config_is_cached(dags_folder):
    from mlops_orchestrator.factory import load_dags
    from mlops_orchestrator.factory.last_tasks import last_tasks, tasks_folder

    load_dags(dags_folder)
    load_dags(dags_folder)  # from the cache: the tasks file is only looked at
    assert set(last_tasks("churn")) == {"deploy_stack", "deployed", "delete_stack"}
    shutil.rmtree(tasks_folder())  # a cleaned temp folder
    assert last_tasks("churn") == {}
    load_dags(dags_folder)
    assert set(last_tasks("churn")) == {"deploy_stack", "deployed", "delete_stack"}


def test_the_garbage_collector_is_as_it_was_after_a_parse(dags_folder):
    import gc

    from mlops_orchestrator.factory import load_dags

    assert gc.isenabled()
    load_dags(dags_folder)
    assert gc.isenabled()
    gc.disable()
    try:
        load_dags(dags_folder)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_airflowignore_is_honoured(dags_folder):
    (dags_folder / ".airflowignore").write_text("typo\\.yaml\n")
    assert "typo" not in _bag(dags_folder).dag_ids


def test_the_repository_dags_folder_loads_cleanly():
    bag = _bag(REPO / "dags")
    assert bag.import_errors == {}
    assert bag.dag_ids, "dags/ has example configs"
    invalid = [d for d in bag.dag_ids if "invalid-config" in bag.dags[d].tags]
    assert invalid == []


PARSE_PROBE = r"""
import sys
import botocore.session
def forbidden(*args, **kwargs):
    raise AssertionError("an AWS client was created at parse time")
botocore.session.Session.create_client = forbidden
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=True)
assert not bag.import_errors, bag.import_errors
assert len(bag.dag_ids) >= 2, bag.dag_ids
heavy = sorted(m for m in ("sagemaker", "sagemaker.core", "pandas") if m in sys.modules)
print("HEAVY", heavy)
"""


def test_parsing_creates_no_aws_client_and_imports_no_sagemaker_sdk(dags_folder):
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(dags_folder)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "HEAVY []" in result.stdout


FIXTURES = REPO / "tests" / "fixtures" / "configs" / "valid"
ALL_TYPES = sorted(p.stem for p in FIXTURES.iterdir() if p.stem != "defaults")


@pytest.mark.parametrize("pipeline_type", ALL_TYPES)
def test_a_bad_config_of_any_type_leaves_the_others_loaded(pipeline_type, dags_folder):
    from mlops_orchestrator.config import read_config_file

    source = next(FIXTURES.glob(f"{pipeline_type}.*"))
    payload = read_config_file(source)
    payload["assets_bucket"] = "assets"
    payload["retries"] = "many"
    payload["unknown_setting"] = 1
    (dags_folder / f"bad_{pipeline_type}.json").write_text(json.dumps(payload))
    bag = _bag(dags_folder)
    assert bag.import_errors == {}
    assert "invalid-config" not in bag.dags["churn"].tags
    assert "invalid-config" not in bag.dags["fraud_endpoint"].tags
    bad = bag.dags[f"bad_{pipeline_type}"]
    assert "invalid-config" in bad.tags
    text = _error_text(bad)
    assert f"bad_{pipeline_type}.json: unknown_setting: unknown field" in text
    assert f"bad_{pipeline_type}.json: retries: " in text


# --------------------------------------------------------------------------------------------
# warnings: in the DAG's docs, and logged once per change of the file
# --------------------------------------------------------------------------------------------

MWO_TEMPLATE = GOOD + "tuner_configs: {max_jobs: 10}\nhyperparamaters_ranges: {eta: [continuous, [0.1, 0.5]]}\n"
WARNINGS = [
    "team/mwo.yaml: tuner_configs: warning: ignored: used by model_tuner_builtin",
    "team/mwo.yaml: hyperparamaters_ranges: warning: ignored: used by model_tuner_builtin",
]


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Pipeline config: ")]


def test_a_valid_dag_lists_its_warnings_in_its_docs(dags_folder, state_dir):
    (dags_folder / "team" / "mwo.yaml").write_text(MWO_TEMPLATE)
    bag = _bag(dags_folder)
    assert bag.import_errors == {}
    dag = bag.dags["mwo"]
    assert "invalid-config" not in dag.tags
    assert "#### Warnings" in dag.doc_md
    for line in WARNINGS:
        assert f"- `{line}`" in dag.doc_md
    assert "tuner_configs" not in dag.doc_md.split("```json", 1)[1]  # not part of the pipeline
    assert "#### Warnings" not in bag.dags["churn"].doc_md


def test_an_error_dag_lists_the_warnings_in_its_docs_but_fails_with_the_errors_only(dags_folder, state_dir):
    (dags_folder / "team" / "mwo.yaml").write_text(MWO_TEMPLATE.replace("retries: 3", "retries: 11"))
    dag = _bag(dags_folder).dags["mwo"]
    assert "invalid-config" in dag.tags
    assert _error_text(dag) == "team/mwo.yaml: retries: must be at most 10, got 11"
    assert dag.doc_md.endswith("#### Warnings\n\n" + "\n".join(f"- `{w}`" for w in WARNINGS))


def test_warnings_are_logged_once_per_change_of_the_file(dags_folder, state_dir, caplog):
    from mlops_orchestrator.factory import load_dags

    config = dags_folder / "team" / "mwo.yaml"
    config.write_text(MWO_TEMPLATE)
    caplog.set_level("WARNING", logger="mlops_orchestrator")
    load_dags(dags_folder)
    assert _logged(caplog) == [f"Pipeline config: {w}" for w in WARNINGS]
    caplog.clear()
    for _ in range(3):  # the DAG processor's next parses
        load_dags(dags_folder)
    assert _logged(caplog) == []
    config.write_text(MWO_TEMPLATE + "description: changed\n")  # the file changes: logged again, once
    load_dags(dags_folder)
    load_dags(dags_folder)
    assert _logged(caplog) == [f"Pipeline config: {w}" for w in WARNINGS]
    caplog.clear()
    config.write_text(GOOD)  # no warnings left: nothing logged
    load_dags(dags_folder)
    assert _logged(caplog) == []


def test_an_unwritable_state_folder_does_not_stop_the_parse(dags_folder, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MLOPS_ORCHESTRATOR_STATE_DIR", str(blocker))
    (dags_folder / "team" / "mwo.yaml").write_text(MWO_TEMPLATE)
    caplog.set_level("WARNING", logger="mlops_orchestrator")
    from mlops_orchestrator.factory import load_dags

    assert "invalid-config" not in load_dags(dags_folder)["mwo"].tags
    assert len(_logged(caplog)) == 2
