"""Evaluation metric files (Clarify, Model Monitor, the model card schema) as model card metric groups.

MWO's ``evaluation_details[].metric_file_s3_url`` with a ``metric_type`` had the SageMaker SDK read
the JSON file and turn it into ``metric_groups``; the SDK cannot be installed under MWAA's pins, so
the same formats are read here:

- ``model_card_metric_schema``: the file already is ``{"metric_groups": [...]}``;
- ``clarify_bias``: Clarify's ``analysis.json`` (``pre_training_bias_metrics`` /
  ``post_training_bias_metrics`` with ``facets``): one group per facet value;
- ``clarify_explainability``: its ``explanations.kernel_shap`` global SHAP values (one group per
  label) and partial dependence plots (``pdp``, one group);
- ``regression``, ``binary_classification``, ``multiclass_classification``: Model Monitor's model
  quality ``statistics.json`` (``{kind}_metrics``): each metric's value and standard deviation,
  the confusion matrix as a matrix, ROC and precision-recall curves as linear graphs.
"""

from __future__ import annotations

from typing import Any

METRIC_FILE_TYPES = (
    "model_card_metric_schema",
    "clarify_bias",
    "clarify_explainability",
    "regression",
    "binary_classification",
    "multiclass_classification",
)


class MetricFileError(ValueError):
    """The file is not of the format its ``metric_type`` says."""


def _number_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "linear_graph"
    return "string"


def metric_groups(document: Any, metric_type: str) -> list[dict[str, Any]]:
    """The ``metric_groups`` of a model card evaluation job, from a metric file's JSON."""
    if not isinstance(document, dict):
        raise MetricFileError(f"expected a JSON object, got {type(document).__name__}")
    parser = _PARSERS.get(metric_type)
    if parser is None:
        raise MetricFileError(f"unknown metric_type {metric_type!r}; expected one of {', '.join(METRIC_FILE_TYPES)}")
    groups = parser(document)
    if not groups:
        raise MetricFileError(f"no metrics of type {metric_type} found in the file")
    return groups


def _card_schema(document: dict[str, Any]) -> list[dict[str, Any]]:
    groups = document.get("metric_groups")
    if not isinstance(groups, list):
        raise MetricFileError('expected {"metric_groups": [...]} (the model card metric schema)')
    return groups


def _clarify_bias(document: dict[str, Any]) -> list[dict[str, Any]]:
    groups = []
    for stage, report in document.items():
        if not isinstance(report, dict):
            continue
        if "facets" not in report:
            raise MetricFileError(f"{stage}: no 'facets' (not a Clarify bias report)")
        label = f"label {report.get('label')} = {report.get('label_value_or_threshold')}"
        for facet, values in report["facets"].items():
            for item in values:
                metrics = [
                    {"name": metric["name"], "type": "number", "value": metric["value"]}
                    for metric in item.get("metrics", [])
                    if isinstance(metric.get("value"), int | float) and not isinstance(metric.get("value"), bool)
                ]
                if metrics:
                    name = f"{stage} - {label} and facet {facet}={item.get('value_or_threshold')}"
                    groups.append({"name": name, "metric_data": metrics})
    return groups


def _clarify_explainability(document: dict[str, Any]) -> list[dict[str, Any]]:
    explanations = document.get("explanations")
    if not isinstance(explanations, dict):
        raise MetricFileError("no 'explanations' object (not a Clarify explainability report)")
    groups = []
    for label, shap in (explanations.get("kernel_shap") or {}).items():
        values = (shap or {}).get("global_shap_values") or {}
        if values:
            groups.append(
                {
                    "name": f"explanations - global_shap_values, label={label}",
                    "metric_data": [
                        {"name": feature, "type": _number_type(value), "value": value}
                        for feature, value in values.items()
                    ],
                }
            )
    pdp_metrics = []
    for feature in explanations.get("pdp") or []:
        name = feature.get("feature_name")
        numerical = feature.get("data_type") == "numerical"
        values = feature.get("feature_values") or []
        kind = "linear_graph" if numerical else "bar_chart"
        distribution = feature.get("data_distribution") or []
        pdp_metrics.append(
            {
                "name": f"data_distribution - feature={name}",
                "type": kind,
                "value": [list(pair) for pair in zip(values, distribution, strict=False)] if numerical else distribution,
                "x_axis_name": name if numerical else values,
                "y_axis_name": "Data distribution",
            }
        )
        for index, header in enumerate(feature.get("label_headers") or []):
            predictions = (feature.get("model_predictions") or [])[index]
            pdp_metrics.append(
                {
                    "name": f"model_predictions - feature={name}, label={header}",
                    "type": kind,
                    "value": [list(pair) for pair in zip(values, predictions, strict=False)] if numerical else predictions,
                    "x_axis_name": name if numerical else values,
                    "y_axis_name": header,
                }
            )
    if pdp_metrics:
        groups.append({"name": "explanations - pdp", "metric_data": pdp_metrics})
    return groups


def _basic(name: str, data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("value"), int | float):
        return []
    metrics = [{"name": name, "type": "number", "value": data["value"]}]
    deviation = data.get("standard_deviation")
    if isinstance(deviation, int | float) and not isinstance(deviation, bool):
        metrics.append({"name": f"{name} - standard_deviation", "type": "number", "value": deviation})
    return metrics


def _confusion_matrix(data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    actual = list(data)
    predicted = list(dict.fromkeys(p for row in data.values() for p in row))
    return {
        "name": "confusion_matrix",
        "type": "matrix",
        "value": [[data[a].get(p, 0) for p in predicted] for a in actual],
        "x_axis_name": actual,
        "y_axis_name": predicted,
    }


def _curve(name: str, data: dict[str, Any], x: str, y: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "linear_graph",
        "value": [list(pair) for pair in zip(data.get(x) or [], data.get(y) or [], strict=False)],
        "x_axis_name": x,
        "y_axis_name": y,
    }


def _model_quality(kind: str):
    key = f"{kind}_metrics"

    def parse(document: dict[str, Any]) -> list[dict[str, Any]]:
        section = document.get(key)
        if not isinstance(section, dict):
            raise MetricFileError(f"no '{key}' (not Model Monitor model quality statistics of a {kind} problem)")
        metrics: list[dict[str, Any]] = []
        for name, data in section.items():
            if name == "confusion_matrix" and isinstance(data, dict):
                metrics.append(_confusion_matrix(data))
            elif name == "receiver_operating_characteristic_curve" and isinstance(data, dict):
                metrics.append(_curve(name, data, "false_positive_rates", "true_positive_rates"))
            elif name == "precision_recall_curve" and isinstance(data, dict):
                metrics.append(_curve(name, data, "recalls", "precisions"))
            else:
                metrics.extend(_basic(name, data))
        return [{"name": key, "metric_data": metrics}] if metrics else []

    return parse


_PARSERS = {
    "model_card_metric_schema": _card_schema,
    "clarify_bias": _clarify_bias,
    "clarify_explainability": _clarify_explainability,
    "regression": _model_quality("regression"),
    "binary_classification": _model_quality("binary_classification"),
    "multiclass_classification": _model_quality("multiclass_classification"),
}
