"""The CloudFormation blueprints shipped in the wheel (cloudformation/ in the repo)."""

from __future__ import annotations

from importlib.resources import files


def blueprint_names() -> list[str]:
    """Every blueprint file name, e.g. ``realtime-endpoint.yaml``."""
    return sorted(p.name for p in files("mlops_orchestrator.blueprints").iterdir() if p.name.endswith(".yaml"))


def read_blueprint(name: str) -> str:
    """The template body of one blueprint; the error lists the ones that exist."""
    resource = files("mlops_orchestrator.blueprints").joinpath(name)
    if not resource.is_file():
        raise FileNotFoundError(f"No CloudFormation blueprint {name!r}; available: {', '.join(blueprint_names())}")
    return resource.read_text(encoding="utf-8")


def check_template_source(blueprint: str | None, body: str | None) -> None:
    """An operator deploys a shipped blueprint or a template body: exactly one of them."""
    if (blueprint is None) == (body is None):
        raise ValueError("Give exactly one of blueprint and template_body.")


def template_body(blueprint: str | None, body: str | None) -> str:
    """The template an operator deploys: the blueprint's body, or the body given as is."""
    check_template_source(blueprint, body)
    return body if body is not None else read_blueprint(blueprint)
