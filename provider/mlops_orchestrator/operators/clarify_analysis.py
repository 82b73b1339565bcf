"""
Clarify analysis configurations of the bias and explainability monitors, built with the SageMaker SDK.

Two documents per monitor, as the SDK's ``ModelBiasMonitor`` / ``ModelExplainabilityMonitor`` make
them: the baselining job's ``analysis_config.json`` (``suggest_baseline``) and the monitoring jobs'
one (the job definition's ``ConfigUri``). The SDK is imported only when these run (in a task, never
while the scheduler parses DAGs). ``spec`` is the JSON-safe part of the monitor's config that the
DAG carries (``clarify_spec``); the dataset's column names are read from its header at run time.
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


def _model_config(spec: dict[str, Any]):
    from sagemaker.core import clarify

    return clarify.ModelConfig(
        endpoint_name=spec["endpoint_name"], content_type=_CONTENT_TYPE, accept_type=_CONTENT_TYPE
    )


def _bias_config(spec: dict[str, Any]):
    from sagemaker.core import clarify

    bias = dict(spec["bias_config"])
    facets = bias.pop("facet_name")
    return clarify.BiasConfig(
        facet_name=facets[0] if len(facets) == 1 else facets,
        **bias,
    )


def _predicted_label_config(spec: dict[str, Any]):
    from sagemaker.core import clarify

    options = spec.get("model_predicted_label_config")
    return clarify.ModelPredictedLabelConfig(**options) if options else None


def _shap_config(spec: dict[str, Any]):
    from sagemaker.core import clarify

    return clarify.SHAPConfig(**spec["shap_config"])


def baseline_analysis_config(
    spec: dict[str, Any], *, headers: list[str], dataset_uri: str, output_uri: str
) -> dict[str, Any]:
    """
    The baselining job's analysis config: what ``suggest_baseline`` sends to Clarify.

    The baseline CSV has a header and the label (ground truth) first, as built-in algorithms
    expect, so ``headers[0]`` is the label and the rest are the endpoint's features.
    """
    from sagemaker.core import clarify

    if len(headers) < 2:
        raise ValueError(
            f"the baseline dataset {dataset_uri} needs a header row with the label column first and at "
            f"least one feature column; its first line gives {headers!r}"
        )
    data = clarify.DataConfig(
        s3_data_input_path=dataset_uri,
        s3_output_path=output_uri,
        label=headers[0],
        headers=headers,
        dataset_type=_CONTENT_TYPE,
    )
    generator = clarify._AnalysisConfigGenerator  # what SageMakerClarifyProcessor.run_* use
    if spec["pipeline_type"] == "byom_model_bias_monitor":
        return generator.bias(
            data, _bias_config(spec), _model_config(spec), _predicted_label_config(spec)
        )
    return generator.explainability(data, _model_config(spec), spec.get("model_scores"), _shap_config(spec))


def monitoring_analysis_config(spec: dict[str, Any], *, headers: list[str]) -> dict[str, Any]:
    """The monitoring jobs' analysis config (the job definition's ``ConfigUri``), as the SDK makes it."""
    from sagemaker.core.model_monitor import clarify_model_monitoring as monitoring

    if spec["pipeline_type"] == "byom_model_bias_monitor":
        return monitoring.BiasAnalysisConfig(_bias_config(spec), headers=headers, label=headers[0])._to_dict()
    return monitoring.ExplainabilityAnalysisConfig(
        _shap_config(spec), _model_config(spec), headers=headers[1:]
    )._to_dict()
