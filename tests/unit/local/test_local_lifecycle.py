"""The lazy lifecycle machinery on its own, with explicit logical times (no clock, no server)."""

from __future__ import annotations

import pytest
from mlops_orchestrator.local import lifecycle as lifecycle_module
from mlops_orchestrator.local.lifecycle import (
    Done,
    FailureRule,
    FailureRules,
    Lifecycle,
    Phase,
    wait_for,
)


def test_a_timed_operation_settles_at_its_deadline() -> None:
    finished: list[float] = []
    lifecycle = Lifecycle("Pending", at=0).run("InProgress", 5, "Completed", on_done=finished.append, at=10)

    assert lifecycle.settle(14.9) == "InProgress"
    assert lifecycle.busy
    assert lifecycle.settle(15) == "Completed"
    assert (finished, lifecycle.settled_at, lifecycle.failure_reason) == ([15], 15, None)


def test_a_failing_operation_reports_its_reason() -> None:
    failed: list[float] = []
    lifecycle = Lifecycle("Pending", at=0)
    lifecycle.run(
        "InProgress", 2, "Completed", failure_reason="AlgorithmError: OOM", on_failed=failed.append, at=0
    )

    assert lifecycle.settle(100) == "Failed"
    assert (lifecycle.failure_reason, lifecycle.settled_at, failed) == ("AlgorithmError: OOM", 2, [2])


def test_phases_chain_from_their_deadlines_whenever_they_are_read() -> None:
    seen: list[tuple[str, float]] = []

    def rolled_back(at: float) -> Phase:
        seen.append(("rolled back", at))
        return Phase("CLEANUP", 1, lambda t: seen.append(("cleaned", t)) or Done("ROLLED_BACK"))

    lifecycle = Lifecycle("NEW", at=0).start(
        Phase("WORKING", 3, lambda t: Phase("ROLLING_BACK", 2, rolled_back)), at=0
    )

    assert lifecycle.settle(100) == "ROLLED_BACK"  # read once, long after: every step at its own time
    assert seen == [("rolled back", 5), ("cleaned", 6)]
    assert lifecycle.settled_at == 6


def test_wait_for_lasts_until_the_slowest_lifecycle_settled() -> None:
    endpoint = Lifecycle("Creating", at=0).run("Creating", 7, "InService", at=0)
    stack = Lifecycle("CREATE_IN_PROGRESS", at=0)
    stack.start(
        Phase("CREATE_IN_PROGRESS", 2, wait_for("CREATE_IN_PROGRESS", lambda: [endpoint], _finish)), at=0
    )

    assert stack.settle(6.9) == "CREATE_IN_PROGRESS"
    assert stack.settle(7) == "CREATE_COMPLETE"
    assert stack.settled_at == 7


def test_wait_for_keeps_logical_time_when_a_lifecycle_was_read_later() -> None:
    endpoint = Lifecycle("Creating", at=0).run("Creating", 4, "InService", at=0)
    stack = Lifecycle("CREATE_IN_PROGRESS", at=0)
    stack.start(
        Phase("CREATE_IN_PROGRESS", 2, wait_for("CREATE_IN_PROGRESS", lambda: [endpoint], _finish)), at=0
    )

    endpoint.settle(50)  # someone described the endpoint first

    assert stack.settle(50) == "CREATE_COMPLETE"
    assert stack.settled_at == 4


def test_cancel_drops_the_running_phase() -> None:
    lifecycle = Lifecycle("Creating", at=0).run("Creating", 5, "InService", at=0)

    lifecycle.cancel(at=1)

    assert (lifecycle.settle(10), lifecycle.busy) == ("Creating", False)


def test_failure_rules_match_substrings_and_use_up_their_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(lifecycle_module.FAILURE_KINDS, "test-job", "the job name")
    rules = FailureRules()
    rules.add(FailureRule("test-job", "churn", "first", times=2))
    rules.add(FailureRule("test-job", "churn-v2", "never reached while the first rule lasts"))

    assert rules.take("other-kind", ["churn-v2"]) is None
    assert rules.take("test-job", [None, "fraud"]) is None
    assert rules.take("test-job", ["churn-v2"]) == "first"
    assert rules.take("test-job", ["churn-v2"]) == "first"
    assert rules.take("test-job", ["churn-v2"]) == "never reached while the first rule lasts"
    assert [rule.match for rule in rules.list()] == ["churn-v2"]


def test_failure_rule_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown failure kind 'endpiont'; known kinds: "):
        FailureRules().add(FailureRule("endpiont", "x", "y"))


def _finish(at: float) -> Done:
    return Done("CREATE_COMPLETE")
