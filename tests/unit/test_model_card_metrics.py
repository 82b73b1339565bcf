"""Evaluation metric files as model card metric groups (the formats MWO's SDK read)."""

from __future__ import annotations

import pytest
from mlops_orchestrator.model_cards.metrics import MetricFileError, metric_groups
from mlops_orchestrator.model_cards.request import Metric


def assert_valid_metrics(groups: list[dict]) -> None:
    """Every metric fits the model card schema's type rules (what the request model enforces)."""
    for group in groups:
        for metric in group["metric_data"]:
            Metric.model_validate(metric)


def test_clarify_bias_gives_a_group_per_stage_and_facet_value() -> None:
    analysis = {
        "version": "1.0",
        "pre_training_bias_metrics": {
            "label": "churn",
            "label_value_or_threshold": "1",
            "facets": {"sex": [{"value_or_threshold": "F", "metrics": [{"name": "CI", "value": 0.2, "description": "x"}]}]},
        },
        "post_training_bias_metrics": {
            "label": "churn",
            "label_value_or_threshold": "1",
            "facets": {"sex": [{"value_or_threshold": "F", "metrics": [{"name": "DPPL", "value": -0.1}, {"name": "X", "value": None}]}]},
        },
    }
    groups = metric_groups(analysis, "clarify_bias")
    assert groups == [
        {
            "name": "pre_training_bias_metrics - label churn = 1 and facet sex=F",
            "metric_data": [{"name": "CI", "type": "number", "value": 0.2}],
        },
        {
            "name": "post_training_bias_metrics - label churn = 1 and facet sex=F",
            "metric_data": [{"name": "DPPL", "type": "number", "value": -0.1}],  # a metric with no value is left out
        },
    ]
    with pytest.raises(MetricFileError, match="no 'facets'"):
        metric_groups({"pre_training_bias_metrics": {"label": "churn"}}, "clarify_bias")


def test_clarify_explainability_gives_shap_values_per_label_and_pdp() -> None:
    analysis = {
        "explanations": {
            "kernel_shap": {"label0": {"global_shap_values": {"age": 0.3, "income": 0.1}, "expected_value": 0.5}},
            "pdp": [
                {
                    "feature_name": "age",
                    "data_type": "numerical",
                    "feature_values": [20, 40],
                    "data_distribution": [0.4, 0.6],
                    "label_headers": ["churn"],
                    "model_predictions": [[0.2, 0.7]],
                }
            ],
        }
    }
    groups = metric_groups(analysis, "clarify_explainability")
    assert groups[0] == {
        "name": "explanations - global_shap_values, label=label0",
        "metric_data": [
            {"name": "age", "type": "number", "value": 0.3},
            {"name": "income", "type": "number", "value": 0.1},
        ],
    }
    pdp = {metric["name"]: metric for metric in groups[1]["metric_data"]}
    assert pdp["data_distribution - feature=age"]["value"] == [[20, 0.4], [40, 0.6]]
    assert pdp["model_predictions - feature=age, label=churn"]["value"] == [[20, 0.2], [40, 0.7]]
    assert_valid_metrics(groups)
    with pytest.raises(MetricFileError, match="no 'explanations'"):
        metric_groups({"version": "1.0"}, "clarify_explainability")


def test_model_quality_statistics_give_values_deviations_matrix_and_curves() -> None:
    statistics = {
        "version": 0.0,
        "multiclass_classification_metrics": {
            "confusion_matrix": {"a": {"a": 1, "b": 1}, "b": {"b": 1}},
            "accuracy": {"value": 0.75, "standard_deviation": 0.01},
            "weighted_f1": {"value": 0.7, "standard_deviation": "NaN"},
        },
    }
    [group] = metric_groups(statistics, "multiclass_classification")
    assert group["name"] == "multiclass_classification_metrics"
    assert group["metric_data"] == [
        {"name": "confusion_matrix", "type": "matrix", "value": [[1, 1], [0, 1]], "x_axis_name": ["a", "b"], "y_axis_name": ["a", "b"]},
        {"name": "accuracy", "type": "number", "value": 0.75},
        {"name": "accuracy - standard_deviation", "type": "number", "value": 0.01},
        {"name": "weighted_f1", "type": "number", "value": 0.7},
    ]
    binary = {
        "binary_classification_metrics": {
            "receiver_operating_characteristic_curve": {"false_positive_rates": [0, 1], "true_positive_rates": [0, 1]},
            "precision_recall_curve": {"precisions": [1, 0.5], "recalls": [0, 1]},
        }
    }
    [group] = metric_groups(binary, "binary_classification")
    assert [m["value"] for m in group["metric_data"]] == [[[0, 0], [1, 1]], [[0, 1], [1, 0.5]]]
    assert_valid_metrics([group])
    with pytest.raises(MetricFileError, match="no 'regression_metrics'"):
        metric_groups(binary, "regression")


def test_the_model_card_schema_file_is_taken_as_it_is() -> None:
    document = {"metric_groups": [{"name": "g", "metric_data": [{"name": "m", "type": "string", "value": "ok"}]}]}
    assert metric_groups(document, "model_card_metric_schema") == document["metric_groups"]
    with pytest.raises(MetricFileError, match="model card metric schema"):
        metric_groups({"groups": []}, "model_card_metric_schema")
    with pytest.raises(MetricFileError, match="expected a JSON object"):
        metric_groups([1], "regression")
