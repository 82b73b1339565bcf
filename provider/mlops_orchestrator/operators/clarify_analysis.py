"""
Clarify analysis configurations of the bias and explainability monitors, as the SageMaker SDK writes them.

Two documents per monitor, as the SDK's ``ModelBiasMonitor`` / ``ModelExplainabilityMonitor`` make
them: the baselining job's ``analysis_config.json`` (``suggest_baseline``) and the monitoring jobs'
one (the job definition's ``ConfigUri``). The SDK cannot be installed under Amazon MWAA's pins, so
the few dictionaries it builds from our fields are built here; CI builds the same documents with the
SDK for every field combination our configs allow and requires them equal
(tests/unit/test_sagemaker_sdk_parity.py). ``spec`` is the JSON-safe part of the monitor's config
that the DAG carries (``clarify_spec``); the dataset's column names are read from its header at run time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["baseline_analysis_config", "clarify_spec", "monitoring_analysis_config"]

#: what the monitored endpoint takes and returns (MWO's monitors were CSV only)
_CONTENT_TYPE = "text/csv"


def clarify_spec(config: Any, stage: str | None = None) -> dict[str, Any]:
    """What the Clarify documents need from a bias or explainability monitor config (JSON-safe)."""
    spec: dict[str, Any] = {
        "pipeline_type": config.pipeline_type,
        "problem_type": config.problem_type,
        "endpoint_name": config.for_stage("endpoint_name", stage),
    }
    if config.pipeline_type == "byom_model_bias_monitor":
        spec["bias_config"] = config.bias_config.model_dump(exclude_none=True)
        label_config = config.model_predicted_label_config
        spec["model_predicted_label_config"] = (
            label_config.model_dump(exclude_none=True) if label_config is not None else None
        )
    elif config.pipeline_type == "byom_model_explainability_monitor":
        shap = config.shap_config.model_dump(exclude_none=True)
        baseline = shap.get("baseline")
        if isinstance(baseline, str):  # a key in the assets bucket, as in MWO
            shap["baseline"] = config.s3_uri("shap_config.baseline", stage)
        spec["shap_config"] = shap
        spec["model_scores"] = config.model_scores
    else:
        raise ValueError(f"{config.pipeline_type} is not baselined by Clarify")
    return spec


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    """The SDK's rule: a field is written only when it has a value."""
    if value is not None:
        target[key] = value


def _predictor(spec: dict[str, Any]) -> dict[str, Any]:
    """``clarify.ModelConfig(endpoint_name=..., content_type, accept_type).get_predictor_config()``."""
    return {"endpoint_name": spec["endpoint_name"], "accept_type": _CONTENT_TYPE, "content_type": _CONTENT_TYPE}


def _bias(spec: dict[str, Any]) -> dict[str, Any]:
    """``clarify.BiasConfig(...).get_config()``: one facet per name, each with its value(s) if given."""
    bias = spec["bias_config"]
    names = bias["facet_name"]
    values = bias.get("facet_values_or_threshold")
    if len(names) == 1:  # the SDK takes a lone facet's values as that facet's list
        facets = [{"name_or_index": names[0]}]
        _set(facets[0], "value_or_threshold", values)
    elif values is None:
        facets = [{"name_or_index": name} for name in names]
    elif len(values) == len(names):
        facets = []
        for name, value in zip(names, values, strict=True):
            facet = {"name_or_index": name}
            _set(facet, "value_or_threshold", value)
            facets.append(facet)
    else:
        raise ValueError(
            f"bias_config: {len(names)} facet_name(s) but {len(values)} facet_values_or_threshold; "
            "give one value (or list of values) per facet"
        )
    config: dict[str, Any] = {"label_values_or_threshold": bias["label_values_or_threshold"], "facet": facets}
    _set(config, "group_variable", bias.get("group_name"))
    return config


def _shap(spec: dict[str, Any]) -> dict[str, Any]:
    """``clarify.SHAPConfig(...).get_explainability_config()["shap"]``."""
    options = spec["shap_config"]
    if options.get("agg_method") not in (None, "mean_abs", "median", "mean_sq"):
        raise ValueError(f"shap_config.agg_method: {options['agg_method']!r} is not mean_abs, median or mean_sq")
    if options.get("baseline") is not None and options.get("num_clusters") is not None:
        raise ValueError("shap_config: give baseline or num_clusters, not both")
    if options.get("features_to_explain") is not None and (options.get("text_config") or options.get("image_config")):
        raise ValueError("shap_config.features_to_explain is not supported with text_config or image_config")
    shap: dict[str, Any] = {
        "use_logit": options.get("use_logit", False),
        "save_local_shap_values": options.get("save_local_shap_values", True),
    }
    for key in ("baseline", "num_samples", "agg_method", "seed", "num_clusters"):
        _set(shap, key, options.get(key))
    for key in ("text_config", "image_config"):  # Clarify's JSON, as TextConfig/ImageConfig write it
        if options.get(key):
            shap[key] = dict(options[key])
    _set(shap, "features_to_explain", options.get("features_to_explain"))
    return shap


def _methods(**analyses: Any) -> dict[str, Any]:
    """The ``methods`` section: the report, then each analysis asked for."""
    return {"report": {"name": "report", "title": "Analysis Report"}, **analyses}


def baseline_analysis_config(
    spec: dict[str, Any], *, headers: list[str], dataset_uri: str, output_uri: str
) -> dict[str, Any]:
    """
    The baselining job's analysis config: what ``suggest_baseline`` sends to Clarify
    (the SDK's ``_AnalysisConfigGenerator.bias`` / ``.explainability``).

    The baseline CSV has a header and the label (ground truth) first, as built-in algorithms
    expect, so ``headers[0]`` is the label and the rest are the endpoint's features.
    """
    if len(headers) < 2:
        raise ValueError(
            f"the baseline dataset {dataset_uri} needs a header row with the label column first and at "
            f"least one feature column; its first line gives {headers!r}"
        )
    config: dict[str, Any] = {"dataset_type": _CONTENT_TYPE, "headers": list(headers), "label": headers[0]}
    predictor = _predictor(spec)
    if spec["pipeline_type"] == "byom_model_bias_monitor":
        config.update(_bias(spec))
        config["methods"] = _methods(
            pre_training_bias={"methods": "all"}, post_training_bias={"methods": "all"}
        )
        label_config = spec.get("model_predicted_label_config") or {}
        for key in ("label", "probability", "label_headers"):
            _set(predictor, key, label_config.get(key))
        config["predictor"] = predictor
        _set(config, "probability_threshold", label_config.get("probability_threshold"))
        return config
    _set(predictor, "label", spec.get("model_scores"))
    config["predictor"] = predictor
    config["methods"] = _methods(shap=_shap(spec))
    return config


def monitoring_analysis_config(spec: dict[str, Any], *, headers: list[str]) -> dict[str, Any]:
    """
    The monitoring jobs' analysis config (the job definition's ``ConfigUri``), as the SDK's
    ``BiasAnalysisConfig`` / ``ExplainabilityAnalysisConfig`` make it.
    """
    if spec["pipeline_type"] == "byom_model_bias_monitor":
        return {**_bias(spec), "headers": list(headers), "label": headers[0]}
    return {"methods": {"shap": _shap(spec)}, "predictor": _predictor(spec), "headers": list(headers[1:])}
