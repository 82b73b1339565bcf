"""The CloudFormation blueprints: clean under cfn-lint, and shipped inside the package."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cfnlint.api import lint_file
from mlops_orchestrator.blueprint_files import blueprint_names, read_blueprint

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((REPO / "cloudformation").glob("*.yaml"))


def test_every_template_in_the_repo_is_a_blueprint_of_the_package():
    assert [t.name for t in TEMPLATES] == blueprint_names()
    assert "realtime-endpoint.yaml" in blueprint_names()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_is_clean(template):
    matches = lint_file(template)
    assert [str(m) for m in matches] == []


def test_unknown_blueprint_lists_the_known_ones():
    with pytest.raises(FileNotFoundError, match="realtime-endpoint.yaml"):
        read_blueprint("nope.yaml")


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags (!Ref, !If...) as plain data."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_realtime_role_is_scoped_to_the_model():
    template = yaml.load(read_blueprint("realtime-endpoint.yaml"), Loader=_CfnLoader)
    statements = template["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    by_sid = {s["Sid"]: s for s in statements if isinstance(s, dict)}
    # Only the token and metric calls (which have no resource-level permissions) use "*".
    wildcards = {sid for sid, s in by_sid.items() if s.get("Resource") == "*"}
    assert wildcards == {"EcrToken", "EndpointMetrics"}
    assert "Condition" in by_sid["EndpointMetrics"]
    assert by_sid["ReadModelArtifact"]["Action"] == "s3:GetObject"
    assert by_sid["WriteDataCapture"]["Action"] == "s3:PutObject"


def test_cfn_lint_check_catches_a_broken_template(tmp_path):
    """The lint test above can fail: a wrong property is reported."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "Resources:\n  Endpoint:\n    Type: AWS::SageMaker::Endpoint\n"
        "    Properties:\n      EndpointConfigNme: x\n"
    )
    assert any("EndpointConfigNme" in str(m) for m in lint_file(broken))
