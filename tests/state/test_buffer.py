"""The sync buffer: observations, dirty people and stored activity."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from connector.state import NewObservation, StateStore, StoredActivity
from connector.state.models import LinkReason

from .conftest import START, contact, hubspot, lead, person


def _people(store: StateStore, *ids: str) -> None:
    store.people.upsert_many(person(pid, f"{pid}@example.com") for pid in ids)


def test_recording_reports_only_new_or_changed_records(store: StateStore) -> None:
    _people(store, "p1", "p2")
    first = store.observations.record(
        [
            NewObservation(lead("00Q1"), "p1", START, {"title": "CTO"}),
            NewObservation(hubspot("11"), "p2", START, {"title": "VP"}),
        ]
    )
    assert first == {"p1", "p2"}
    # The same values again (crmsync's own write coming back) change nothing.
    later = START + timedelta(minutes=5)
    again = store.observations.record(
        [
            NewObservation(lead("00Q1"), "p1", later, {"title": "CTO"}),
            NewObservation(hubspot("11"), "p2", later, {"title": "CEO"}),
        ]
    )
    assert again == {"p2"}
    stored = store.observations.get_many([hubspot("11")])[hubspot("11")]
    assert stored.values == {"title": "CEO"}
    assert stored.merged is None


def test_settle_sets_the_merge_baseline_and_recording_keeps_it(store: StateStore) -> None:
    _people(store, "p1")
    store.observations.record([NewObservation(lead("00Q1"), "p1", START, {"title": "CTO"})])
    (observed,) = store.observations.for_people(["p1"])["p1"]
    store.observations.settle([(observed, {"title": "CTO", "stage": "lead"})])
    store.observations.record(
        [NewObservation(lead("00Q1"), "p1", START, {"title": "CEO", "stage": "lead"})]
    )
    (after,) = store.observations.for_people(["p1"])["p1"]
    assert after.values == {"title": "CEO", "stage": "lead"}
    assert after.merged == {"title": "CTO", "stage": "lead"}


def test_dirty_people_page_in_id_order_and_clear(store: StateStore) -> None:
    _people(store, "a", "b", "c")
    assert store.dirty.mark(["c", "a", "b", "a"], "pulled") == 3
    assert store.dirty.mark(["a"], "activity") == 1  # already dirty: stays once
    assert store.dirty.take(2) == ["a", "b"]
    assert store.dirty.take(2, after="b") == ["c"]
    assert store.dirty.clear(["a", "b"]) == 2
    assert store.dirty.count() == 1


def _call(record_id: str, ref_factory: object, occurred_minutes: int = 0) -> StoredActivity:
    ref = ref_factory(record_id)  # type: ignore[operator]
    return StoredActivity(
        system=ref.system,
        activity_id=f"t-{record_id}-{occurred_minutes}",
        record=ref,
        category="activity",
        kind="call",
        direction="outbound",
        outcome="connected",
        occurred_at=START + timedelta(minutes=occurred_minutes),
    )


def test_activity_follows_the_person_through_link_history(store: StateStore) -> None:
    _people(store, "p1")
    store.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    store.activities.put_many([_call("00Q1", lead, 1)])
    # The Lead converts: its link closes, the Contact carries on with new activity.
    store.links.add(contact("0031"), "p1", LinkReason.CONVERSION)
    store.links.close(lead("00Q1"))
    changed = store.activities.put_many([_call("0031", contact, 2)])
    assert changed == {contact("0031")}
    found = store.activities.for_people(["p1"])["p1"]
    assert [a.activity_id for a in found] == ["t-00Q1-1", "t-0031-2"]


def test_unchanged_activity_reports_nothing_and_deleted_is_hidden(store: StateStore) -> None:
    _people(store, "p1")
    store.links.add(hubspot("11"), "p1", LinkReason.CREATED)
    item = _call("11", hubspot)
    assert store.activities.put_many([item]) == {hubspot("11")}
    assert store.activities.put_many([item]) == set()
    store.activities.put_many([replace(item, deleted=True)])
    assert store.activities.for_people(["p1"]) == {}


def test_what_scoring_reads_is_what_for_people_holds(store: StateStore) -> None:
    """``for_scoring`` is the lean read of the decide step: the same activities, each once,
    in the same order, deleted ones hidden, across the link history."""
    _people(store, "p1", "p2")
    store.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    store.links.add(contact("0031"), "p1", LinkReason.CONVERSION)
    store.links.close(lead("00Q1"))
    store.links.add(hubspot("11"), "p2", LinkReason.CREATED)
    shared = _call("00Q1", lead, 7)
    items = [
        _call("00Q1", lead, 5),
        shared,
        replace(shared, record=contact("0031")),  # one activity on Lead and Contact: once
        _call("0031", contact, 1),
        replace(_call("0031", contact, 3), occurred_at=None),
        replace(_call("0031", contact, 9), deleted=True),
        replace(_call("11", hubspot, 2), category="deal", outcome="won"),
    ]
    store.activities.put_many(items)
    full = store.activities.for_people(["p1", "p2"])
    lean = store.activities.for_scoring(["p1", "p2"])
    assert set(lean) == set(full) == {"p1", "p2"}
    for person_id, stored in full.items():
        assert lean[person_id] == [
            (a.category, a.kind, a.direction, a.outcome, a.occurred_at) for a in stored
        ]
    assert len(lean["p1"]) == 4
