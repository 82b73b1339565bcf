"""`mlops-orchestrator validate` and `schema`, run as the installed console command."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMMAND = shutil.which("mlops-orchestrator", path=str(REPO / ".venv" / "bin")) or "mlops-orchestrator"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, check=False)


def test_validate_the_shipped_dags_folder_is_clean():
    result = cli("validate", str(REPO / "dags"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_validate_prints_one_line_per_problem_and_exits_1(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "pipeline_type: byom_image_builder\ncustom_algorithm_docker: s3://assets/algo.zip\n"
        "ecr_repo_name: team/algo\nimage_tag: v1\n"
    )
    (tmp_path / "typo.yaml").write_text(good.read_text().replace("image_tag", "image_tga"))
    (tmp_path / "syntax.yml").write_text("pipeline_type: byom_image_builder\nimage_tag: [v1\necr: x: y\n")
    result = cli("validate", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{tmp_path / 'typo.yaml'}: image_tga: unknown field; did you mean 'image_tag'?" in lines
    assert f"{tmp_path / 'typo.yaml'}: image_tag: field required" in lines
    assert any(line.startswith(f"{tmp_path / 'syntax.yml'}:2: ") for line in lines), lines
    assert not any(str(good) in line for line in lines)

    assert cli("validate", str(good)).returncode == 0


def test_validate_a_missing_path():
    result = cli("validate", "/nonexistent/config.yaml")
    assert result.returncode == 1
    assert "/nonexistent/config.yaml: no such file or folder" in result.stdout


def test_schema_is_json_schema_of_all_12_types():
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    text = json.dumps(schema)
    for pipeline_type in (
        "byom_realtime_builtin", "byom_realtime_custom", "byom_batch_builtin", "byom_batch_custom",
        "byom_data_quality_monitor", "byom_model_quality_monitor", "byom_model_bias_monitor",
        "byom_model_explainability_monitor", "byom_image_builder", "model_training_builtin",
        "model_tuner_builtin", "model_autopilot_training",
    ):
        assert f'"{pipeline_type}"' in text


MWO_TRAINING = (
    "pipeline_type: model_training_builtin\nmodel_name: m\ntraining_data: data/train.csv\n"
    "job_output_location: out\nmodel_framework: xgboost\nmodel_framework_version: '1.7-1'\n"
    "algo_hyperparamaters: {num_round: '10'}\nassets_bucket: assets-bucket\n"
    "tuner_configs: {max_jobs: 10}\ntarget_attribute: churn\n"
)


def test_validate_prints_warnings_and_exits_0_on_warnings_only(tmp_path):
    config = tmp_path / "training.yaml"
    config.write_text(MWO_TRAINING)
    result = cli("validate", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{config}: tuner_configs: warning: ignored: used by model_tuner_builtin",
        f"{config}: target_attribute: warning: ignored: used by model_autopilot_training",
    ]


def test_validate_strict_fails_on_warnings(tmp_path):
    config = tmp_path / "training.yaml"
    config.write_text(MWO_TRAINING)
    result = cli("validate", "--strict", str(config))
    assert result.returncode == 1
    assert f"{config}: tuner_configs: warning: ignored: used by model_tuner_builtin" in result.stdout.splitlines()
    config.write_text(MWO_TRAINING.replace("tuner_configs: {max_jobs: 10}\ntarget_attribute: churn\n", ""))
    result = cli("validate", "--strict", str(config))
    assert (result.returncode, result.stdout) == (0, "")


def test_validate_an_invalid_config_prints_its_errors_then_its_warnings_and_exits_1(tmp_path):
    config = tmp_path / "training.yaml"
    config.write_text(MWO_TRAINING + "retries: 11\n")
    result = cli("validate", str(config))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{config}: retries: must be at most 10, got 11",
        f"{config}: tuner_configs: warning: ignored: used by model_tuner_builtin",
        f"{config}: target_attribute: warning: ignored: used by model_autopilot_training",
    ]
