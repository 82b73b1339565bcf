"""How long the emulator's resources take: settable in code, from the environment, and over HTTP.

Real endpoints and stacks take minutes; tests want a fraction of a second and demos a few seconds,
so every duration the emulator uses is one of these fields, never a constant in the code.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class LocalAwsSettings:
    """Durations (seconds) of the emulated operations.

    - ``endpoint_seconds``: a SageMaker endpoint's create, update or delete.
    - ``stack_seconds``: the least a CloudFormation create, update, rollback or delete takes (it
      also lasts until the stack's own resources, e.g. its endpoints, have settled).
    - ``job_seconds``: a SageMaker job (training, tuning, Autopilot, transform, processing...) or a
      CodeBuild build (spread over its phases).
    - ``schedule_seconds``: the emulated time between two executions of a monitoring schedule; the
      first starts when the schedule becomes ``Scheduled`` (real schedules run hourly or daily).
    """

    endpoint_seconds: float = 2.0
    stack_seconds: float = 2.0
    job_seconds: float = 3.0
    schedule_seconds: float = 60.0

    #: ``MLOPS_LOCAL_`` + the upper-cased field name, e.g. ``MLOPS_LOCAL_ENDPOINT_SECONDS``.
    ENV_PREFIX: ClassVar[str] = "MLOPS_LOCAL_"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, _seconds(field.name, getattr(self, field.name)))

    @classmethod
    def field_names(cls) -> list[str]:
        return [field.name for field in dataclasses.fields(cls)]

    @classmethod
    def env_var(cls, field_name: str) -> str:
        return cls.ENV_PREFIX + field_name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LocalAwsSettings:
        """Defaults overridden by ``MLOPS_LOCAL_*`` variables, so another process can set them."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.field_names():
            raw = environ.get(cls.env_var(name))
            if raw is not None and raw.strip() != "":
                values[name] = _seconds(cls.env_var(name), raw)
        return cls(**values)

    def with_changes(self, changes: Mapping[str, Any]) -> LocalAwsSettings:
        """A copy with some fields changed; unknown names and bad values raise ``ValueError``."""
        if not isinstance(changes, Mapping):
            raise ValueError(f"settings must be a JSON object, got {type(changes).__name__}")
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise ValueError(
                f"unknown setting {', '.join(map(repr, unknown))}; known settings: "
                + ", ".join(self.field_names())
            )
        return dataclasses.replace(self, **{k: _seconds(k, v) for k, v in changes.items()})

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.field_names()}


def _seconds(name: str, value: Any) -> float:
    """A finite, non-negative number of seconds (numbers or numeric strings)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return seconds
