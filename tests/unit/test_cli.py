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
