from __future__ import annotations

import pytest

from connector.errors import StateError, System
from connector.funnel import FunnelStage
from connector.state import RunOutcome, StageChange, StateStore

from .conftest import START, FrozenClock, person


def test_a_run_starts_and_finishes_with_its_numbers(store: StateStore, clock: FrozenClock) -> None:
    started = store.runs.start("nightly-sync", run_id="r1")
    assert started.started_at == START
    assert started.outcome is None
    assert store.runs.get("r1") == started

    ended_at = clock.advance(minutes=3)
    finished = store.runs.finish(
        "r1",
        RunOutcome.FINISHED_WITH_REJECTIONS,
        counts={"pulled": 120, "written": 7},
        api_calls={System.SALESFORCE: 12, System.HUBSPOT: 9},
        report={"ambiguous": [["salesforce/Contact/003A", "salesforce/Contact/003B"]]},
    )
    assert finished.ended_at == ended_at
    assert finished.outcome is RunOutcome.FINISHED_WITH_REJECTIONS
    assert dict(finished.counts) == {"pulled": 120, "written": 7}
    assert dict(finished.api_calls) == {System.SALESFORCE: 12, System.HUBSPOT: 9}
    assert finished.report["ambiguous"] == [["salesforce/Contact/003A", "salesforce/Contact/003B"]]
    assert store.runs.get("r1") == finished


def test_run_values_cannot_be_mutated(store: StateStore) -> None:
    run = store.runs.finish(store.runs.start("sync").id, RunOutcome.SUCCEEDED, counts={"a": 1})
    with pytest.raises(TypeError):
        run.counts["a"] = 2  # type: ignore[index]


def test_finishing_an_unknown_run_is_an_error(store: StateStore) -> None:
    with pytest.raises(StateError, match="no run ghost"):
        store.runs.finish("ghost", RunOutcome.FAILED)


def test_recent_lists_newest_first_per_job(store: StateStore, clock: FrozenClock) -> None:
    for run_id, job in (("a", "sync"), ("b", "backtest"), ("c", "sync")):
        store.runs.start(job, run_id=run_id)
        clock.advance(minutes=1)
    assert [run.id for run in store.runs.recent()] == ["c", "b", "a"]
    assert [run.id for run in store.runs.recent(job="sync", limit=1)] == ["c"]


def test_stage_transitions_are_audited_with_run_and_reasons(
    store: StateStore, clock: FrozenClock
) -> None:
    store.people.upsert_many([person("p1"), person("p2")])
    store.runs.start("sync", run_id="r1")
    first = StageChange("p1", None, FunnelStage.LEAD, "v1", ("form fill",), "r1")
    assert (
        store.transitions.record_many([first, StageChange("p2", None, FunnelStage.LEAD, "v1")]) == 2
    )
    moved_at = clock.advance(days=2)
    second = StageChange(
        "p1", FunnelStage.LEAD, FunnelStage.PROSPECT, "v2", ("replied", "fit >= 50"), "r1"
    )
    store.transitions.record(second)

    history = store.transitions.for_person("p1")
    assert [record.change for record in history] == [first, second]
    assert [record.at for record in history] == [START, moved_at]
    assert [record.change.person_id for record in store.transitions.for_run("r1")] == ["p1", "p1"]


def test_a_transition_needs_a_stored_person(store: StateStore) -> None:
    with pytest.raises(StateError):
        store.transitions.record(StageChange("ghost", None, FunnelStage.LEAD, "v1"))


def test_unfinished_runs_of_a_job_can_be_marked_interrupted(
    store: StateStore, clock: FrozenClock
) -> None:
    store.runs.start("sync", run_id="crashed")
    store.runs.finish(store.runs.start("sync", run_id="done").id, RunOutcome.SUCCEEDED)
    store.runs.start("backtest", run_id="other-job")
    store.runs.start("sync", run_id="mine")
    now = clock.advance(hours=1)

    assert store.runs.interrupt_unfinished("sync", keep="mine") == 1

    crashed = store.runs.get("crashed")
    assert crashed is not None
    assert (crashed.outcome, crashed.ended_at) == (RunOutcome.INTERRUPTED, now)
    assert [store.runs.get(r).outcome for r in ("done", "other-job", "mine")] == [  # type: ignore[union-attr]
        RunOutcome.SUCCEEDED,
        None,
        None,
    ]
