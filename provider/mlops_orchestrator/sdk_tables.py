"""
Build the SageMaker image table (``data/sagemaker_images.json``) from the SageMaker SDK.

Amazon MWAA's pins leave no ``sagemaker-core`` release installable (see the README), so the
package does not depend on the SDK at run time. What the DAGs took from it, the image URI of a
built-in algorithm, framework, Model Monitor or Clarify for a region and instance type, is the SDK's
own answer recorded here for every input our operators can pass it: each framework the SDK knows,
the scope (none, ``inference``, ``training``), each version and alias (and none: the latest), and
each instance family in botocore's SageMaker instance-type lists (and none). A lookup at run time
is then a dictionary read (``mlops_orchestrator.images``); CI regenerates the table from the pinned
SDK and checks lookups against ``image_uris.retrieve`` (tests/unit/test_sagemaker_sdk_parity.py).

Run ``make sdk-tables`` (``python -m mlops_orchestrator.sdk_tables``) after updating the
``sagemaker-core`` pin in constraints.txt. Needs the ``dev`` extra; never imported by a DAG.
"""

from __future__ import annotations

import json
import logging
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).parent / "data" / "sagemaker_images.json"

#: the image scopes our operators pass: none (Model Monitor, Clarify), inference, training
SCOPES = ("", "inference", "training")
#: botocore's SageMaker shapes that list instance types
INSTANCE_TYPE_SHAPES = (
    "ProductionVariantInstanceType",
    "TransformInstanceType",
    "TrainingInstanceType",
    "ProcessingInstanceType",
)
#: a family group that answers for every instance type (the image does not depend on it); as a
#: version key, the answer for a version string the config does not list
ANY_FAMILY = "*"
#: the key of "no version given" (the SDK then takes the latest) and of "no instance type"
NONE = ""
#: an instance type the SDK cannot parse a family from: images that ignore the type still answer
UNPARSED = "?"
UNPARSED_EXAMPLE = "m5.large"
#: a version no config lists; what the SDK answers for it is stored under ANY
UNLISTED_VERSION = "(unlisted)"


def instance_families() -> dict[str, str]:
    """Every SageMaker instance family botocore knows, with one instance type of it."""
    import botocore.session

    from mlops_orchestrator.images import instance_family

    model = botocore.session.get_session().get_service_model("sagemaker")
    families: dict[str, str] = {}
    for shape in INSTANCE_TYPE_SHAPES:
        for instance_type in sorted(model.shape_for(shape).enum):
            family = instance_family(instance_type)
            if family:
                families.setdefault(family, instance_type)
    return dict(sorted(families.items()))


def _version_inputs(image_uris: Any, framework: str) -> list[str]:
    """
    The version strings worth asking for: none, every version and alias in the framework's
    configs (and in its Neuron variants, which the SDK switches to on inf/trn instances), and an
    unlisted one (a config with one version answers any string but an alias with that version).
    """
    found: dict[str, None] = {}

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("versions", "version_aliases"):
                if isinstance(node.get(key), dict):
                    found.update(dict.fromkeys(node[key]))
            for value in node.values():
                collect(value)

    for name in (framework, f"{framework}-neuron", f"{framework}-neuronx"):
        try:
            collect(image_uris.config_for_framework(name))
        except OSError:
            continue
    return [NONE, *found, UNLISTED_VERSION]


class _Recorder:
    """Calls ``image_uris.retrieve`` and notes the registry map it chose (one call per input)."""

    def __init__(self) -> None:
        from sagemaker.core import common_utils, image_uris

        self.image_uris = image_uris
        self.common_utils = common_utils
        self.last_registries: dict[str, str] | None = None
        original_registry = image_uris._registry_from_region
        original_config = image_uris.config_for_framework

        def registry_from_region(region: str, registry_dict: dict[str, str]) -> str:
            self.last_registries = dict(registry_dict)
            return original_registry(region, registry_dict)

        self._patches = {
            "_registry_from_region": registry_from_region,
            # the SDK parses the framework's JSON on every call; the table asks ~100k questions
            "config_for_framework": lru_cache(maxsize=None)(original_config),
        }
        self._originals = {"_registry_from_region": original_registry, "config_for_framework": original_config}
        self._original_resolver = common_utils._botocore_resolver

    def __enter__(self) -> _Recorder:
        for name, value in self._patches.items():
            setattr(self.image_uris, name, value)
        # and it loads botocore's endpoints.json on every call, to find ECR's host name
        self.common_utils._botocore_resolver = lru_cache(maxsize=None)(self._original_resolver)
        logging.getLogger("sagemaker").setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc: object) -> None:
        for name, value in self._originals.items():
            setattr(self.image_uris, name, value)
        self.common_utils._botocore_resolver = self._original_resolver

    def ask(self, framework: str, scope: str, version: str, instance_type: str | None, region: str):
        """``(uri, registry map)``, or None where the SDK raises."""
        self.last_registries = None
        try:
            uri = self.image_uris.retrieve(
                framework=framework,
                region=region,
                version=version or None,
                instance_type=instance_type,
                image_scope=scope or None,
            )
        except Exception:  # the SDK says no with ValueError, KeyError, NotImplementedError...
            return None
        return uri, self.last_registries

    def ask_anywhere(self, framework: str, scope: str, version: str, instance_type: str | None, region: str):
        """As ``ask``, but an image that is not in ``region`` is asked for in a region it is in."""
        answer = self.ask(framework, scope, version, instance_type, region)
        registries = self.last_registries
        if answer is None and registries and region not in registries:
            answer = self.ask(framework, scope, version, instance_type, sorted(registries)[0])
        return answer


class _Interner:
    """Stores equal lists or dicts once and refers to them by index (the table stays small)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: Any) -> int:
        key = json.dumps(value, sort_keys=True)
        if key not in self._index:
            self._index[key] = len(self.items)
            self.items.append(value)
        return self._index[key]


def build_table(probe_region: str = "us-east-1") -> dict[str, Any]:
    """The whole table, as ``mlops_orchestrator.images`` reads it."""
    from importlib.metadata import version as dist_version

    from sagemaker.core import common_utils

    families = instance_families()
    registries = _Interner()
    family_groups = _Interner()
    hostnames: dict[str, str] = {}
    images: dict[str, Any] = {}
    with _Recorder() as recorder:
        for framework in recorder.image_uris.list_frameworks():
            by_scope: dict[str, Any] = {}
            for scope in SCOPES:
                versions = _version_inputs(recorder.image_uris, framework)
                by_version: dict[str, Any] = {}
                for version in versions:
                    answers: dict[tuple[str, int], list[str]] = {}
                    for family, instance_type in [(NONE, None), (UNPARSED, UNPARSED_EXAMPLE), *families.items()]:
                        answer = recorder.ask_anywhere(framework, scope, version, instance_type, probe_region)
                        if answer is None or answer[1] is None:
                            continue
                        uri, registry_map = answer
                        repository = uri.split("/", 1)[1]
                        answers.setdefault((repository, registries(registry_map)), []).append(family)
                        for region in registry_map:
                            if region not in hostnames:
                                hostnames[region] = _ecr_hostname(common_utils, region)
                    if not answers:
                        continue
                    all_families = {NONE, UNPARSED, *families}
                    by_version[ANY_FAMILY if version == UNLISTED_VERSION else version] = [
                        [repository, registry_index,
                         family_groups([ANY_FAMILY] if set(found) == all_families else found)]
                        for (repository, registry_index), found in sorted(answers.items())
                    ]
                if by_version:
                    by_scope[scope] = by_version
            if by_scope:
                images[framework] = by_scope
    return {
        "generated_by": "python -m mlops_orchestrator.sdk_tables (make sdk-tables)",
        "sagemaker_core": dist_version("sagemaker-core"),
        "botocore": dist_version("botocore"),
        "instance_families": sorted(families),
        "hostnames": dict(sorted(hostnames.items())),
        "registries": registries.items,
        "family_groups": family_groups.items,
        "images": images,
    }


def _ecr_hostname(common_utils: Any, region: str) -> str:
    """ECR's host name in ``region``, as ``image_uris.retrieve`` builds it."""
    endpoint = common_utils._botocore_resolver().construct_endpoint("ecr", region)
    if region == "il-central-1" and not endpoint:
        return f"ecr.{region}.amazonaws.com"
    return endpoint["hostname"]


def render(table: dict[str, Any]) -> str:
    """The file's text: one framework per line, so a regenerated table diffs readably."""
    head = {key: value for key, value in table.items() if key != "images"}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)},")
    lines.append('  "images": {')
    frameworks = list(table["images"].items())
    for position, (framework, value) in enumerate(frameworks):
        comma = "," if position < len(frameworks) - 1 else ""
        lines.append(f"    {json.dumps(framework)}: {json.dumps(value, sort_keys=True)}{comma}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else TABLE_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    table = build_table()
    target.write_text(render(table))
    print(f"{target}: {len(table['images'])} frameworks from sagemaker-core {table['sagemaker_core']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
