from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from connector.errors import System
from connector.state import Provenance, ProvenanceKey, StateStore

from .conftest import START, StatementLog, person

FIELDS = ("stage", "score", "title", "phone", "country")


def test_put_and_get_round_trip_every_column(store: StateStore) -> None:
    store.people.upsert(person("p1"))
    value = Provenance(
        person_id="p1",
        field="stage",
        system=System.HUBSPOT,
        seen_value="marketingqualifiedlead",
        seen_modified_at=START,
        written_value={"nested": [1, 2.5, True, None]},
        written_at=START + timedelta(seconds=1),
        written_run_id="run-1",
    )
    assert store.provenance.put_many([value]) == 1
    assert store.provenance.get_many(["p1"]) == {
        ProvenanceKey("p1", "stage", System.HUBSPOT): value
    }


def test_put_replaces_by_person_field_and_system(store: StateStore) -> None:
    store.people.upsert(person("p1"))
    seen = Provenance("p1", "stage", System.SALESFORCE, seen_value="Open", seen_modified_at=START)
    other = Provenance("p1", "stage", System.HUBSPOT, seen_value="lead")
    store.provenance.put_many([seen, other])
    written = replace(seen, written_value="Working", written_at=START, written_run_id="r2")
    store.provenance.put_many([written])
    assert store.provenance.for_person("p1") == [other, written]


def test_blank_values_and_never_seen_are_distinct(store: StateStore) -> None:
    store.people.upsert(person("p1"))
    blank = Provenance("p1", "phone", System.HUBSPOT, seen_value=None, seen_modified_at=START)
    store.provenance.put_many([blank])
    stored = store.provenance.get_many(["p1"])[blank.key]
    assert stored.seen_value is None
    assert stored.seen_modified_at == START
    assert stored.written_at is None


def test_two_thousand_people_take_a_bounded_number_of_statements(
    store: StateStore, statements: StatementLog
) -> None:
    ids = [f"p{n:04d}" for n in range(2000)]
    store.people.upsert_many(person(person_id) for person_id in ids)
    values = [
        Provenance(pid, field, system, seen_value=f"{pid}-{field}", seen_modified_at=START)
        for pid in ids
        for field in FIELDS
        for system in System
    ]
    statements.clear()

    assert store.provenance.put_many(values) == 20_000
    written = len(statements)
    statements.clear()
    found = store.provenance.get_many(ids)
    read = len(statements)

    assert written <= 2  # one upsert (plus BEGIN on SQLite)
    assert read <= 4  # two IN lists of 1,000 (plus BEGIN on SQLite)
    assert len(found) == 20_000
    assert found[ProvenanceKey("p1999", "title", System.SALESFORCE)].seen_value == "p1999-title"


def test_people_pages_are_bounded_too(store: StateStore, statements: StatementLog) -> None:
    ids = [f"p{n:04d}" for n in range(2000)]
    store.people.upsert_many(person(pid, f"{pid}@example.com") for pid in ids)
    assert len(statements) <= 2
    statements.clear()
    assert len(store.people.get_many(ids)) == 2000
    assert len(store.people.by_emails(f"{pid}@example.com" for pid in ids)) == 2000
    assert len(statements) <= 8


def test_written_by_person_holds_only_writes_grouped_per_person(
    store: StateStore, statements: StatementLog
) -> None:
    ids = [f"p{n:04d}" for n in range(1500)]
    store.people.upsert_many(person(person_id) for person_id in ids)
    store.provenance.put_many(
        Provenance(pid, field, system, seen_value="seen", seen_modified_at=START)
        for pid in ids
        for field in FIELDS
        for system in System
    )
    store.provenance.put_many(
        [
            Provenance("p0001", "stage", System.HUBSPOT, "a", START, "lead", START, "r1"),
            Provenance("p0001", "title", System.SALESFORCE, None, None, None, START, "r1"),
            Provenance("p1499", "score", System.SALESFORCE, written_value=41, written_at=START),
            # A value without a write time was never written (a seen row carried over).
            Provenance("p0002", "phone", System.HUBSPOT, written_value="+1", written_at=None),
        ]
    )
    statements.clear()

    found = store.provenance.written_by_person([*ids, "nobody"])

    assert found == {
        "p0001": {("stage", System.HUBSPOT): "lead", ("title", System.SALESFORCE): None},
        "p1499": {("score", System.SALESFORCE): 41},
    }
    assert len(statements) <= 3  # two IN lists of 1,000 (plus BEGIN on SQLite)
