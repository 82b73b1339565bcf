"""Statuses that change over time, evaluated lazily, and the rules that make operations fail.

Real endpoints, jobs and stacks move through statuses over minutes; moto makes each resource final
at once, so waiters, deferral, retries and failure paths never run against it. A ``Lifecycle``
holds one resource's status and at most one running ``Phase`` (the status shown while it runs,
how long it lasts, what happens when it ends). Reading the status *settles* every phase whose
deadline has passed, calling its ``finish`` with the deadline as the logical time, so what any
client sees depends only on timestamps: no threads, no sleeps, and the same answer whichever
process or thread asks first. A ``finish`` may chain another phase (rollback, cleanup) that starts
at that deadline.

Whether an operation fails is decided when it starts, by the ``FailureRules`` the user set
(``kind`` + a substring ``match`` of the resource's names), and revealed when it ends.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlops_orchestrator.local.settings import LocalAwsSettings

#: moto's backends are not thread-safe and its server runs one thread per request; everything
#: that starts, advances or reads a lifecycle holds this (re-entrant) lock.
LOCK = threading.RLock()


def now() -> float:
    """Wall-clock seconds: lifecycles of one process may be read from many (via the server)."""
    return time.time()


def to_datetime(at: float) -> datetime:
    """A logical time as moto stores times: a naive UTC datetime."""
    return datetime.fromtimestamp(at, UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Done:
    """How a lifecycle settles: its final status and, when the operation failed, why."""

    status: str
    failure_reason: str | None = None


#: Called once with the phase's deadline; returns the next phase or how the lifecycle settles.
Finish = Callable[[float], "Phase | Done"]


@dataclass(frozen=True)
class Phase:
    """A status shown for ``seconds``; then ``finish`` runs at the deadline."""

    status: str
    seconds: float
    finish: Finish


class Lifecycle:
    """One resource's status, advanced lazily by ``settle`` from the phases started on it."""

    def __init__(self, status: str, at: float | None = None) -> None:
        self.status = status
        #: Why the last operation failed (None when it succeeded or is still running).
        self.failure_reason: str | None = None
        self.settled_at = now() if at is None else at
        self._phase: Phase | None = None
        self._deadline = self.settled_at

    @property
    def busy(self) -> bool:
        return self._phase is not None

    @property
    def ready_at(self) -> float:
        """When the current phase ends, or when the lifecycle last settled."""
        return self._deadline if self._phase is not None else self.settled_at

    def start(self, phase: Phase, at: float | None = None) -> Lifecycle:
        """Begin ``phase`` at ``at`` (now by default), replacing any phase still running."""
        at = now() if at is None else at
        self._phase = phase
        self._deadline = at + max(0.0, float(phase.seconds))
        self.status = phase.status
        self.failure_reason = None
        return self

    def run(
        self,
        running: str,
        seconds: float,
        done: str,
        *,
        failed: str = "Failed",
        failure_reason: str | None = None,
        on_done: Callable[[float], None] | None = None,
        on_failed: Callable[[float], None] | None = None,
        at: float | None = None,
    ) -> Lifecycle:
        """Start one timed operation whose outcome is already decided (the usual job shape).

        Shows ``running`` for ``seconds``, then settles ``done`` (calling ``on_done``), or
        ``failed`` with ``failure_reason`` (calling ``on_failed``) when a reason is given.
        """

        def finish(at_deadline: float) -> Done:
            if failure_reason is None:
                if on_done is not None:
                    on_done(at_deadline)
                return Done(done)
            if on_failed is not None:
                on_failed(at_deadline)
            return Done(failed, failure_reason)

        return self.start(Phase(running, seconds, finish), at)

    def cancel(self, at: float | None = None) -> None:
        """Drop the running phase without finishing it (its resource is being deleted)."""
        if self._phase is not None:
            self._phase = None
            self.settled_at = now() if at is None else at

    def settle(self, at: float | None = None) -> str:
        """Finish every phase whose deadline is at or before ``at`` (now); return the status."""
        at = now() if at is None else at
        while self._phase is not None and self._deadline <= at:
            phase, deadline = self._phase, self._deadline
            self._phase = None
            outcome = phase.finish(deadline)
            if isinstance(outcome, Phase):
                self.start(outcome, at=deadline)
            else:
                self.status = outcome.status
                self.failure_reason = outcome.failure_reason
                self.settled_at = deadline
        return self.status


def wait_for(status: str, lifecycles: Callable[[], Iterable[Lifecycle]], then: Finish) -> Finish:
    """A ``finish`` that keeps showing ``status`` until every lifecycle has settled, then ``then``.

    Used by operations made of other resources' operations (a stack waits for its endpoints).
    A lifecycle that another reader settled later than ``at`` counts as busy until it settled,
    so logical times (and the events stamped with them) stay in order.
    """

    def finish(at: float) -> Phase | Done:
        pending = []
        for lifecycle in lifecycles():
            lifecycle.settle(at)
            if lifecycle.ready_at > at:
                pending.append(lifecycle.ready_at)
        if pending:
            return Phase(status, max(pending) - at, finish)
        return then(at)

    return finish


# Lifecycles live beside moto's model objects, not on them: moto serialises models from their
# attributes, and a weak table forgets them when moto's reset drops the objects.
_LIFECYCLES: weakref.WeakKeyDictionary[Any, Lifecycle] = weakref.WeakKeyDictionary()


def attach(resource: Any, lifecycle: Lifecycle) -> Lifecycle:
    """Give a moto model object a lifecycle (replacing any previous one)."""
    _LIFECYCLES[resource] = lifecycle
    return lifecycle


def lifecycle_of(resource: Any) -> Lifecycle | None:
    try:
        return _LIFECYCLES.get(resource)
    except TypeError:  # not weak-referenceable: plain values never have a lifecycle
        return None


def lifecycle_or_attach(resource: Any, status_attribute: str) -> Lifecycle:
    """The resource's lifecycle; one made by moto before our extension ran keeps moto's status."""
    lifecycle = lifecycle_of(resource)
    if lifecycle is None:
        lifecycle = attach(resource, Lifecycle(getattr(resource, status_attribute)))
    return lifecycle


def settle_status(resource: Any, status_attribute: str) -> str:
    """
    Advance the resource's lifecycle to now and mirror its status and failure reason onto the
    moto attributes that moto serialises (and filters) from.
    """
    lifecycle = lifecycle_or_attach(resource, status_attribute)
    lifecycle.settle()
    setattr(resource, status_attribute, lifecycle.status)
    resource.failure_reason = lifecycle.failure_reason
    return lifecycle.status


# --- failure rules -------------------------------------------------------------------------

#: kind -> what its ``match`` is compared with; each extension registers the kinds it honours.
FAILURE_KINDS: dict[str, str] = {}
#: kind -> a check of a rule's ``reason`` (raises ValueError), for kinds whose reason is a value
_REASON_CHECKS: dict[str, Callable[[str], object]] = {}


def register_failure_kind(kind: str, matches: str, check_reason: Callable[[str], object] | None = None) -> None:
    FAILURE_KINDS[kind] = matches
    if check_reason is not None:
        _REASON_CHECKS[kind] = check_reason


@dataclass
class FailureRule:
    """Make operations of ``kind`` whose resource names contain ``match`` fail with ``reason``.

    ``times`` limits how many operations fail (then the rule is dropped); None means all.
    """

    kind: str
    match: str
    reason: str
    times: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError("kind must be a non-empty string, e.g. 'endpoint'")
        if not isinstance(self.match, str) or not self.match:
            raise ValueError("match must be a non-empty string (a substring of a resource's names)")
        if not isinstance(self.reason, str) or not self.reason:
            raise ValueError("reason must be a non-empty string (the FailureReason to report)")
        if self.times is not None and (
            isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1
        ):
            raise ValueError(f"times must be a positive integer or null, got {self.times!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FailureRule:
        if not isinstance(data, Mapping):
            raise ValueError(f"a failure rule must be a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - {"kind", "match", "reason", "times"})
        if unknown:
            raise ValueError(
                f"unknown field {', '.join(map(repr, unknown))} in failure rule; "
                "fields: kind, match, reason, times"
            )
        missing = [name for name in ("kind", "match", "reason") if name not in data]
        if missing:
            raise ValueError(f"failure rule is missing {', '.join(missing)}")
        return cls(kind=data["kind"], match=data["match"], reason=data["reason"], times=data.get("times"))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "match": self.match, "reason": self.reason, "times": self.times}


class FailureRules:
    """The rules in force, oldest first; the first matching rule decides an operation's fate."""

    def __init__(self) -> None:
        self._rules: list[FailureRule] = []

    def add(self, rule: FailureRule) -> FailureRule:
        """Add a rule of a kind some installed extension honours (a typo would never fire)."""
        if rule.kind not in FAILURE_KINDS:
            known = ", ".join(sorted(FAILURE_KINDS)) or "(none installed)"
            raise ValueError(f"unknown failure kind {rule.kind!r}; known kinds: {known}")
        if rule.kind in _REASON_CHECKS:
            _REASON_CHECKS[rule.kind](rule.reason)
        with LOCK:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with LOCK:
            self._rules.clear()

    def list(self) -> list[FailureRule]:
        with LOCK:
            return list(self._rules)

    def take(self, kind: str, names: Iterable[str | None]) -> str | None:
        """The failure reason for an operation on a resource with these names, using up one turn."""
        candidates = [name for name in names if name]
        with LOCK:
            for rule in self._rules:
                if rule.kind == kind and any(rule.match in name for name in candidates):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule.reason
        return None


# --- the emulator's own state --------------------------------------------------------------


class EmulatorState:
    """Settings and failure rules of the emulator in this process.

    moto keeps its backends per process, so the extensions (and this state) are per process too:
    two ``LocalAws`` servers in one process would share both.
    """

    def __init__(self) -> None:
        self._initial = LocalAwsSettings()
        self.settings = self._initial
        self.failures = FailureRules()
        from mlops_orchestrator.local.traffic import RequestCounter

        #: AWS calls per API (see traffic.py)
        self.requests = RequestCounter()
        self._reset_hooks: list[Callable[[], None]] = []

    def configure(self, settings: LocalAwsSettings) -> None:
        """The settings a server starts with (and that ``reset`` returns to)."""
        with LOCK:
            self._initial = self.settings = settings

    def update_settings(self, changes: Mapping[str, Any]) -> LocalAwsSettings:
        with LOCK:
            self.settings = self.settings.with_changes(changes)
            return self.settings

    def on_reset(self, hook: Callable[[], None]) -> None:
        if hook not in self._reset_hooks:
            self._reset_hooks.append(hook)

    def reset(self) -> None:
        """Forget failure rules, lifecycles and extension state; settings go back to the start."""
        with LOCK:
            self.failures.clear()
            self.requests.reset()
            self.settings = self._initial
            _LIFECYCLES.clear()
            for hook in self._reset_hooks:
                hook()


STATE = EmulatorState()


# --- moto's describe and list calls, settled first -------------------------------------------


def settle_before_describe(
    original: Callable[..., Any], store: str, settle: Callable[[Any], object]
) -> Callable[..., Any]:
    """
    moto's Describe call of one resource, after settling that resource (found by name in the
    backend's ``store``, e.g. "training_jobs") under the lock; a missing one is moto's to report.
    """

    def describe(backend: Any, *args: Any, **kwargs: Any) -> Any:
        # moto passes the name positionally or by keyword (e.g. hyper_parameter_tuning_job_name=)
        name = args[0] if args else next((v for k, v in kwargs.items() if k.endswith("_name")), None)
        with LOCK:
            resource = getattr(backend, store).get(name)
            if resource is not None:
                settle(resource)
            return original(backend, *args, **kwargs)

    return describe


def settle_before_list(original: Callable[..., Any], store: str, settle: Callable[[Any], object]) -> Callable[..., Any]:
    """moto's List call, after settling every resource of the backend's ``store`` under the lock."""

    def list_resources(backend: Any, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            for resource in list(getattr(backend, store).values()):
                settle(resource)
            return original(backend, *args, **kwargs)

    return list_resources
