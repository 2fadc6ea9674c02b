"""``forget`` erases a human completely: no table keeps a row that mentions them."""

from __future__ import annotations

import json

from sqlalchemy import select

from connector.errors import System
from connector.funnel import FunnelStage, SourceRef
from connector.state import (
    ForgetResult,
    LinkReason,
    NewDeadLetter,
    NewObservation,
    Provenance,
    StageChange,
    StateStore,
    StoredActivity,
)
from connector.state.schema import metadata

from .conftest import START, contact, hubspot, lead, person

TRACES = ("p-ada", "p-ada-old", "ada@example.com", "ada.old@example.com", "00QADA", "003ADA", "701")


def _rejected(ref: SourceRef, field: str, person_id: str | None) -> NewDeadLetter:
    return NewDeadLetter(
        ref=ref,
        fields=(field,),
        error_class="RecordRejectedError",
        message="invalid option",
        person_id=person_id,
        payload={field: "x"},
    )


def _seed(store: StateStore) -> None:
    store.people.upsert_many(
        [
            person("p-ada", "ada@example.com", first_name="Ada"),
            person("p-ada-old", "ada.old@example.com"),
            person("p-bob", "bob@example.com", first_name="Bob"),
        ]
    )
    store.links.add_many(
        [
            (lead("00QADA"), "p-ada", LinkReason.CREATED),
            (hubspot("701"), "p-ada-old", LinkReason.CREATED),
            (hubspot("800"), "p-bob", LinkReason.CREATED),
        ]
    )
    store.links.move(contact("003ADA"), "p-ada", LinkReason.CONVERSION)
    store.people.merge("p-ada-old", "p-ada")
    store.provenance.put_many(
        Provenance(pid, "stage", system, seen_value="lead", seen_modified_at=START)
        for pid in ("p-ada", "p-ada-old", "p-bob")
        for system in System
    )
    run = store.runs.start("sync", run_id="run-1")
    store.transitions.record_many(
        StageChange(pid, None, FunnelStage.LEAD, "v1", ("new",), run.id)
        for pid in ("p-ada", "p-bob")
    )
    store.dead_letters.add_many(
        [
            _rejected(hubspot("701"), "phone", "p-ada-old"),
            # No person recorded, but the record is one of Ada's.
            _rejected(lead("00QADA"), "Status", None),
            _rejected(hubspot("800"), "phone", "p-bob"),
        ]
    )
    store.locks.acquire("sf-hs", "host:1:run-1")
    store.observations.record(
        [
            NewObservation(contact("003ADA"), "p-ada", START, {"email": "ada@example.com"}),
            NewObservation(hubspot("800"), "p-bob", START, {"email": "bob@example.com"}),
        ]
    )
    store.dirty.mark(["p-ada", "p-bob"], "pulled")
    store.activities.put_many(
        StoredActivity(
            system=ref.system,
            activity_id=f"act-{ref.record_id}",
            record=ref,
            category="activity",
            kind="call",
            direction="outbound",
            outcome="connected",
            occurred_at=START,
        )
        for ref in (lead("00QADA"), hubspot("800"))
    )


def _dump(store: StateStore) -> dict[str, list[str]]:
    with store.engine.connect() as connection:
        return {
            table.name: [
                json.dumps(dict(row._mapping), default=str)
                for row in connection.execute(select(table))
            ]
            for table in metadata.sorted_tables
        }


def test_forget_leaves_no_row_about_the_person_in_any_table(store: StateStore) -> None:
    _seed(store)
    result = store.forget("  ADA@example.com ")

    assert result == ForgetResult(
        people=2,
        links=4,
        provenance=4,
        transitions=1,
        dead_letters=2,
        observations=1,
        activities=1,
    )
    assert result.total == 15
    for table, rows in _dump(store).items():
        for row in rows:
            assert not [trace for trace in TRACES if trace in row], (table, row)


def test_forget_keeps_everyone_else(store: StateStore) -> None:
    _seed(store)
    store.forget("ada@example.com")
    assert store.people.get("p-bob") is not None
    assert store.people.by_link(hubspot("800")) is not None
    assert len(store.provenance.for_person("p-bob")) == 2
    assert len(store.transitions.for_person("p-bob")) == 1
    assert [d.person_id for d in store.dead_letters.list()] == ["p-bob"]
    assert store.runs.get("run-1") is not None
    assert list(store.observations.for_people(["p-bob"])) == ["p-bob"]
    assert list(store.activities.for_people(["p-bob"])) == ["p-bob"]
    assert store.dirty.take(10) == ["p-bob"]


def test_forgetting_a_merged_away_address_erases_the_whole_human(store: StateStore) -> None:
    _seed(store)
    assert store.forget("ada.old@example.com").people == 2
    assert store.people.get("p-ada") is None


def test_forgetting_an_unknown_address_erases_nothing(store: StateStore) -> None:
    _seed(store)
    before = _dump(store)
    assert store.forget("nobody@example.com") == ForgetResult()
    assert _dump(store) == before
