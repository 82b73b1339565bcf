"""The four monitor DAGs: their shape, stack parameters, job definition requests and Clarify analysis configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlops_orchestrator.blueprint_files import read_blueprint
from mlops_orchestrator.config import load_config
from mlops_orchestrator.factory.callables import choose_action
from mlops_orchestrator.factory.monitors import definition_arguments, endpoint_attributes, stack_parameters
from mlops_orchestrator.operators.clarify_analysis import (
    baseline_analysis_config,
    clarify_spec,
    monitoring_analysis_config,
)
from mlops_orchestrator.operators.sagemaker_monitoring import (
    job_definition_name,
    job_definition_request,
    schedule_config,
)

REPO = Path(__file__).resolve().parents[1].parent
DAGS = REPO / "dags"
EXAMPLES = DAGS / "examples"
KINDS = ("data_quality", "model_quality", "model_bias", "model_explainability")
HEADERS = ["label", "account_length", "gender", "day_mins", "intl_plan"]


def _example(kind: str):
    return load_config(EXAMPLES / f"realtime_builtin_xgboost_monitor_{kind}.yaml", root=DAGS)


def test_the_monitor_examples_become_dags_with_three_paths():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS), safe_mode=True)
    assert bag.import_errors == {}
    for kind in KINDS:
        dag = bag.dags[f"realtime_builtin_xgboost_monitor_{kind}"]
        assert "invalid-config" not in dag.tags
        assert dag.get_task("baseline").upstream_task_ids == {"deploy_stack"}
        assert dag.get_task("schedule_monitoring").upstream_task_ids == {"baseline"}
        assert dag.get_task("monitor_results").upstream_task_ids == {"choose_action", "schedule_monitoring"}
        assert dag.get_task("delete_stack").upstream_task_ids == {"delete_schedule"}
        assert dag.params["action"] == "deploy"
        schedule = dag.get_task("schedule_monitoring")
        assert schedule.schedule_name == f"churn-xgboost-{kind.replace('_', '-')}-schedule"
        assert schedule.schedule_expression == "cron(0 * ? * * *)"


def test_choose_action_keeps_the_results_task_on_deploy_and_offers_report():
    targets = {"deploy": ["deploy_stack", "monitor_results"], "deprovision": "delete_schedule", "report": "monitor_results"}
    assert choose_action(**targets, params={"action": "deploy"}) == ["deploy_stack", "monitor_results"]
    assert choose_action(**targets, params={"action": "report"}) == "monitor_results"
    assert choose_action(**targets, params={}) == ["deploy_stack", "monitor_results"]
    from airflow.providers.common.compat.sdk import AirflowFailException

    with pytest.raises(AirflowFailException, match="'deploy' or 'deprovision' or 'report', got 'nope'"):
        choose_action(**targets, params={"action": "nope"})
    with pytest.raises(AirflowFailException, match="'deploy' or 'deprovision', got 'report'"):
        choose_action(deploy="a", deprovision="b", params={"action": "report"})


def test_stack_parameters_scope_the_role_to_the_monitors_locations():
    quality = stack_parameters(_example("model_quality"), "dev")
    assert quality == {
        "ModelName": "churn-xgboost",
        "EndpointName": "churn-xgboost",
        "InvokeEndpoint": "false",
        "BaselineDataS3Path": "mlops-orchestrator-assets/baselines/churn-xgboost/model_quality.csv",
        "BaselineOutputS3Path": "mlops-orchestrator-assets/baselines/churn-xgboost/model-quality",
        "DataCaptureS3Path": "mlops-orchestrator-assets/datacapture/churn-xgboost",
        "MonitoringOutputS3Path": "mlops-orchestrator-assets/monitoring/churn-xgboost/model-quality",
        "GroundTruthS3Path": "mlops-orchestrator-assets/groundtruth/churn-xgboost",
        "KmsKeyArn": "",
        "SubnetIds": "",
    }
    bias = stack_parameters(_example("model_bias"), "dev")
    assert bias["InvokeEndpoint"] == "true"
    assert stack_parameters(_example("data_quality"), "dev")["GroundTruthS3Path"] == ""
    blueprint = read_blueprint("model-monitor.yaml")
    for name in quality:  # every parameter is declared by the blueprint
        assert f"\n  {name}:\n    Type: String" in blueprint


def test_endpoint_attributes_follow_the_monitor_type():
    assert endpoint_attributes(_example("data_quality")) == {}
    assert endpoint_attributes(_example("model_quality")) == {
        "ProbabilityAttribute": "0",
        "ProbabilityThresholdAttribute": 0.5,
    }
    assert endpoint_attributes(_example("model_explainability")) == {"ProbabilityAttribute": "0"}


@pytest.mark.parametrize("kind", KINDS)
def test_job_definition_requests_match_the_sagemaker_api(kind):
    import botocore.session

    config = _example(kind)
    prefix = {"data_quality": "DataQuality", "model_quality": "ModelQuality", "model_bias": "ModelBias",
              "model_explainability": "ModelExplainability"}[kind]
    baseline = {
        "job_name": "churn-xgboost-x-0123456789ab",
        "constraints_uri": "s3://b/base/constraints.json",
        "statistics_uri": "s3://b/base/statistics.json",
        "analysis_config_uri": "s3://b/base/monitoring/analysis_config.json",
    }
    request = job_definition_request(
        config.pipeline_type,
        role_arn="arn:aws:iam::123456789012:role/monitor",
        image_uri="image",
        baseline=baseline,
        tags={"owner": "mlops"},
        **definition_arguments(config, "dev"),
    )
    name = job_definition_name("churn-xgboost-schedule", request)
    # botocore's own model of the API validates the request: a wrong field fails here, not on AWS
    model = botocore.session.get_session().get_service_model("sagemaker")
    operation = model.operation_model(f"Create{prefix}JobDefinition")
    from botocore.validate import ParamValidator

    report = ParamValidator().validate({"JobDefinitionName": name, **request}, operation.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert request[f"{prefix}JobInput"]["EndpointInput"]["EndpointName"] == "churn-xgboost"
    assert request[f"{prefix}JobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"] == (
        f"s3://mlops-orchestrator-assets/monitoring/churn-xgboost/{kind.replace('_', '-')}"
    )
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert ("GroundTruthS3Input" in request[f"{prefix}JobInput"]) == (kind in ("model_quality", "model_bias"))
    assert len(name) <= 63
    assert name == job_definition_name("churn-xgboost-schedule", request)
    changed = {**request, "RoleArn": "arn:aws:iam::123456789012:role/other"}
    assert job_definition_name("churn-xgboost-schedule", changed) != name
    schedule_model = model.operation_model("CreateMonitoringSchedule")
    schedule = {"MonitoringScheduleName": "s", "MonitoringScheduleConfig": schedule_config(config.pipeline_type, name, "cron(0 * ? * * *)")}
    assert not ParamValidator().validate(schedule, schedule_model.input_shape).has_errors()


def test_kms_and_vpc_reach_the_job_definition(tmp_path):
    import yaml

    data = yaml.safe_load((EXAMPLES / "realtime_builtin_xgboost_monitor_data_quality.yaml").read_text())
    data |= {
        "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/abc",
        "subnet_ids": ["subnet-0123456789abcdef0"],
        "security_group_ids": ["sg-0123456789abcdef0"],
        "assets_bucket": "mlops-orchestrator-assets",
    }
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(data))
    config = load_config(path, root=tmp_path)
    request = job_definition_request(
        config.pipeline_type,
        role_arn="r",
        image_uri="i",
        baseline={"job_name": "j", "constraints_uri": "c", "statistics_uri": "s"},
        **definition_arguments(config, "dev"),
    )
    assert request["DataQualityJobOutputConfig"]["KmsKeyId"].endswith("key/abc")
    assert request["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"].endswith("key/abc")
    assert request["NetworkConfig"]["VpcConfig"] == {"Subnets": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    assert stack_parameters(config, "dev")["SubnetIds"] == "subnet-0123456789abcdef0"


def test_the_bias_analysis_configs_are_the_sdks():
    spec = clarify_spec(_example("model_bias"), "dev")
    baseline = baseline_analysis_config(
        spec, headers=HEADERS, dataset_uri="s3://b/base.csv", output_uri="s3://b/out"
    )
    assert baseline["label"] == "label"
    assert baseline["headers"] == HEADERS
    assert baseline["facet"] == [{"name_or_index": "gender", "value_or_threshold": [0]}]
    assert baseline["label_values_or_threshold"] == [1]
    assert set(baseline["methods"]) >= {"pre_training_bias", "post_training_bias"}
    assert baseline["predictor"]["endpoint_name"] == "churn-xgboost"
    assert baseline["probability_threshold"] == 0.5
    monitoring = monitoring_analysis_config(spec, headers=HEADERS)
    assert monitoring == {
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "gender", "value_or_threshold": [0]}],
        "headers": HEADERS,
        "label": "label",
    }


def test_the_explainability_analysis_configs_are_the_sdks():
    spec = clarify_spec(_example("model_explainability"), "dev")
    baseline = baseline_analysis_config(spec, headers=HEADERS, dataset_uri="s3://b/base.csv", output_uri="s3://b/o")
    assert baseline["methods"]["shap"]["baseline"] == [[120, 1, 180.5, 0]]
    assert baseline["methods"]["shap"]["num_samples"] == 50
    assert baseline["predictor"]["endpoint_name"] == "churn-xgboost"
    monitoring = monitoring_analysis_config(spec, headers=HEADERS)
    assert monitoring["headers"] == HEADERS[1:]  # the endpoint's features, without the label
    assert monitoring["methods"]["shap"]["agg_method"] == "mean_abs"


def test_a_baseline_without_a_usable_header_is_refused_with_its_uri():
    spec = clarify_spec(_example("model_bias"), "dev")
    with pytest.raises(ValueError, match=r"s3://b/base.csv needs a header row"):
        baseline_analysis_config(spec, headers=["0.1"], dataset_uri="s3://b/base.csv", output_uri="s3://b/o")
