"""
What the package answers without the SageMaker SDK is what the SDK answers (the pinned sagemaker-core).

The SDK cannot be installed under Amazon MWAA's pins, so it is a development dependency only: the
image URIs come from data/sagemaker_images.json and the Clarify analysis configs from
operators/clarify_analysis.py. These tests hold both to the real SDK: the table must be exactly what
the SDK gives today, every lookup must equal ``image_uris.retrieve`` (or fail where it fails), and
every Clarify document must equal the one the SDK's classes build from the same fields.
"""

from __future__ import annotations

import itertools
import json

import pytest
from mlops_orchestrator import sdk_tables
from mlops_orchestrator.images import ImageNotFound, image_table, sagemaker_image_uri
from mlops_orchestrator.operators.clarify_analysis import baseline_analysis_config, monitoring_analysis_config

pytest.importorskip("sagemaker.core", reason="the parity tests need the dev extra (sagemaker-core)")

HEADERS = ["label", "account_length", "gender", "day_mins", "intl_plan"]


def test_the_image_table_is_what_the_pinned_sdk_answers():
    committed = image_table()
    fresh = json.loads(sdk_tables.render(sdk_tables.build_table()))
    stale = "data/sagemaker_images.json is stale for the installed SDK: run `make sdk-tables`"
    assert (committed["sagemaker_core"], committed["botocore"]) == (fresh["sagemaker_core"], fresh["botocore"]), stale
    assert committed == fresh, stale


def test_every_lookup_equals_image_uris_retrieve():
    """Every framework, scope, version (and none, and an unknown one), instance family and region."""
    families = sdk_tables.instance_families()
    regions = sorted(image_table()["hostnames"]) + ["xx-nowhere-1"]
    instance_types = [None, *families.values(), "m5.large", "ml_m5"]
    region_cycle = itertools.cycle(regions)
    checked = mismatches = 0
    examples: list[str] = []
    with sdk_tables._Recorder() as sdk:
        for framework in sdk.image_uris.list_frameworks():
            for scope in sdk_tables.SCOPES:
                versions = sdk_tables._version_inputs(sdk.image_uris, framework)
                for version in [v for v in versions if v != sdk_tables.UNLISTED_VERSION] + ["0.0-unknown"]:
                    for instance_type in instance_types:
                        region = next(region_cycle)
                        expected = sdk.ask(framework, scope, version, instance_type, region)
                        try:
                            got = sagemaker_image_uri(framework, region, version or None, instance_type, scope or None)
                        except ImageNotFound:
                            got = None
                        checked += 1
                        if (expected and expected[0]) != got:
                            mismatches += 1
                            if len(examples) < 5:
                                examples.append(f"{framework} {scope} {version} {instance_type} {region}: {expected} != {got}")
    assert checked > 100_000, checked
    assert mismatches == 0, examples


def test_the_monitor_images_per_region():
    from sagemaker.core import image_uris

    for region in ("us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1"):
        assert sagemaker_image_uri("model-monitor", region) == image_uris.retrieve("model-monitor", region)
        assert sagemaker_image_uri("clarify", region) == image_uris.retrieve("clarify", region)


def test_an_instance_family_newer_than_the_table_says_so():
    with pytest.raises(ImageNotFound, match=r"instance type 'ml\.zz9\.large' is newer than the image table"):
        sagemaker_image_uri("xgboost", "us-east-1", "1.7-1", "ml.zz9.large", "inference")


# ---------------------------------------------------------------------------------------------
# Clarify: the SDK's own builders, as suggest_baseline and the job definitions call them
# ---------------------------------------------------------------------------------------------


def _sdk_documents(spec: dict, headers: list[str]) -> tuple[dict, dict]:
    from sagemaker.core import clarify
    from sagemaker.core.model_monitor import clarify_model_monitoring as monitoring

    model = clarify.ModelConfig(endpoint_name=spec["endpoint_name"], content_type="text/csv", accept_type="text/csv")
    data = clarify.DataConfig(
        s3_data_input_path="s3://b/base.csv", s3_output_path="s3://b/o", label=headers[0], headers=headers,
        dataset_type="text/csv",
    )
    generator = clarify._AnalysisConfigGenerator
    if spec["pipeline_type"] == "byom_model_bias_monitor":
        options = dict(spec["bias_config"])
        facets = options.pop("facet_name")
        bias = clarify.BiasConfig(facet_name=facets[0] if len(facets) == 1 else facets, **options)
        label = spec.get("model_predicted_label_config")
        label_config = clarify.ModelPredictedLabelConfig(**label) if label else None
        baseline = generator.bias(data, bias, model, label_config)
        watched = monitoring.BiasAnalysisConfig(bias, headers=headers, label=headers[0])._to_dict()
        return baseline, watched
    options = dict(spec["shap_config"])
    if options.get("text_config"):
        options["text_config"] = clarify.TextConfig(**options["text_config"])
    if options.get("image_config"):
        options["image_config"] = clarify.ImageConfig(**options["image_config"])
    shap = clarify.SHAPConfig(**options)
    baseline = generator.explainability(data, model, spec.get("model_scores"), shap)
    watched = monitoring.ExplainabilityAnalysisConfig(shap, model, headers=headers[1:])._to_dict()
    return baseline, watched


def _ours(spec: dict, headers: list[str]) -> tuple[dict, dict]:
    baseline = baseline_analysis_config(spec, headers=headers, dataset_uri="s3://b/base.csv", output_uri="s3://b/o")
    return baseline, monitoring_analysis_config(spec, headers=headers)


BIAS_CONFIGS = [
    {"label_values_or_threshold": [1], "facet_name": ["gender"]},
    {"label_values_or_threshold": [1], "facet_name": ["gender"], "facet_values_or_threshold": [0]},
    {"label_values_or_threshold": [0.5], "facet_name": [2], "facet_values_or_threshold": [40], "group_name": "intl_plan"},
    {"label_values_or_threshold": ["yes", "maybe"], "facet_name": ["gender", "intl_plan"]},
    {"label_values_or_threshold": [1], "facet_name": ["gender", "day_mins"], "facet_values_or_threshold": [[1], [100]]},
]
LABEL_CONFIGS = [
    None,
    {"label": 0},
    {"probability": 0, "probability_threshold": 0.6},
    {"label": "predicted_label", "probability": "score", "label_headers": ["no", "yes"]},
]
SHAP_CONFIGS = [
    {"baseline": "s3://b/shap.csv"},
    {"baseline": [[1, 2.5, 0, 3]], "num_samples": 100, "agg_method": "mean_abs", "use_logit": True},
    {"num_clusters": 3, "save_local_shap_values": False, "seed": 7, "agg_method": "median"},
    {"baseline": "s3://b/shap.csv", "features_to_explain": ["day_mins", 2], "agg_method": "mean_sq"},
    {"baseline": "s3://b/shap.csv", "text_config": {"granularity": "token", "language": "english"}},
]


@pytest.mark.parametrize(("bias", "label"), list(itertools.product(BIAS_CONFIGS, LABEL_CONFIGS)))
def test_bias_documents_equal_the_sdks(bias, label):
    spec = {
        "pipeline_type": "byom_model_bias_monitor",
        "problem_type": "BinaryClassification",
        "endpoint_name": "churn",
        "bias_config": bias,
        "model_predicted_label_config": label,
    }
    assert _ours(spec, HEADERS) == _sdk_documents(spec, HEADERS)


@pytest.mark.parametrize(("shap", "scores"), list(itertools.product(SHAP_CONFIGS, [None, 0, "score"])))
def test_explainability_documents_equal_the_sdks(shap, scores):
    spec = {
        "pipeline_type": "byom_model_explainability_monitor",
        "problem_type": "Regression",
        "endpoint_name": "churn",
        "shap_config": {"use_logit": False, "save_local_shap_values": True, **shap},
        "model_scores": scores,
    }
    assert _ours(spec, HEADERS) == _sdk_documents(spec, HEADERS)


def test_facet_values_that_do_not_match_the_facets_fail_as_in_the_sdk():
    spec = {
        "pipeline_type": "byom_model_bias_monitor",
        "endpoint_name": "churn",
        "bias_config": {"label_values_or_threshold": [1], "facet_name": ["gender", "intl_plan"],
                        "facet_values_or_threshold": [1]},
    }
    with pytest.raises(ValueError, match="doesn't match"):
        _sdk_documents(spec, HEADERS)
    with pytest.raises(ValueError, match=r"bias_config: 2 facet_name\(s\) but 1 facet_values_or_threshold"):
        _ours(spec, HEADERS)
