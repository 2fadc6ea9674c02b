from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.errors import StateError, System
from connector.state import LinkReason, StateStore
from connector.state._db import keyed_in
from connector.state.schema import activities, dead_letters, links, observations

from .conftest import START, FrozenClock, StatementLog, contact, hubspot, lead, person


@pytest.fixture
def people(store: StateStore) -> StateStore:
    store.people.upsert_many([person("p1"), person("p2")])
    return store


def test_add_links_a_record_and_is_idempotent(people: StateStore) -> None:
    first = people.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    again = people.links.add(lead("00Q1"), "p1", LinkReason.EMAIL_MATCH)
    assert again == first
    assert first.active
    assert first.valid_from == START
    assert first.valid_to is None
    assert first.reason is LinkReason.CREATED


def test_add_refuses_a_record_linked_to_someone_else(people: StateStore) -> None:
    people.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    with pytest.raises(StateError, match="already linked to another person"):
        people.links.add(lead("00Q1"), "p2", LinkReason.EMAIL_MATCH)


def test_add_many_links_a_page_and_skips_existing_links(people: StateStore) -> None:
    people.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    created = people.links.add_many(
        [
            (lead("00Q1"), "p1", LinkReason.CREATED),
            (hubspot("7"), "p1", LinkReason.EMAIL_MATCH),
            (hubspot("8"), "p2", LinkReason.STORED),
        ]
    )
    assert created == 2
    assert [link.ref for link in people.links.for_person("p1")] == [lead("00Q1"), hubspot("7")]


def test_add_many_refuses_one_record_for_two_people(people: StateStore) -> None:
    with pytest.raises(StateError, match="given twice"):
        people.links.add_many(
            [(hubspot("7"), "p1", LinkReason.CREATED), (hubspot("7"), "p2", LinkReason.CREATED)]
        )
    assert people.links.active(hubspot("7")) is None


def test_conversion_keeps_the_lead_history_and_links_the_contact(
    people: StateStore, clock: FrozenClock
) -> None:
    people.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    people.links.add(contact("003X"), "p2", LinkReason.CREATED)
    converted_at = clock.advance(days=1)

    moved = people.links.move(contact("003X"), "p1", LinkReason.CONVERSION)

    assert moved.person_id == "p1"
    assert moved.reason is LinkReason.CONVERSION
    assert moved.valid_from == converted_at
    history = people.links.history(contact("003X"))
    assert [(link.person_id, link.active, link.valid_to) for link in history] == [
        ("p2", False, converted_at),
        ("p1", True, None),
    ]
    assert people.links.for_person("p2") == []
    assert len(people.links.for_person("p2", include_history=True)) == 1


def test_move_to_the_same_person_changes_nothing(people: StateStore) -> None:
    link = people.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    assert people.links.move(lead("00Q1"), "p1", LinkReason.MERGE) == link
    assert len(people.links.history(lead("00Q1"))) == 1


def test_move_of_an_unlinked_record_links_it(people: StateStore) -> None:
    link = people.links.move(hubspot("9"), "p2", LinkReason.MERGE)
    assert link.person_id == "p2"
    assert link.reason is LinkReason.MERGE


def test_move_person_moves_every_active_link(people: StateStore) -> None:
    people.links.add_many(
        [(lead("00Q1"), "p1", LinkReason.CREATED), (hubspot("7"), "p1", LinkReason.CREATED)]
    )
    assert people.links.move_person("p1", "p2", LinkReason.MERGE) == 2
    assert people.links.for_person("p1") == []
    assert {link.ref for link in people.links.for_person("p2")} == {lead("00Q1"), hubspot("7")}


def test_close_ends_a_link_and_relinking_starts_a_new_one(
    people: StateStore, clock: FrozenClock
) -> None:
    people.links.add(hubspot("7"), "p1", LinkReason.CREATED)
    clock.advance(hours=1)
    assert people.links.close(hubspot("7"))
    assert not people.links.close(hubspot("7"))
    assert people.links.active(hubspot("7")) is None
    people.links.add(hubspot("7"), "p2", LinkReason.STORED)
    assert [link.person_id for link in people.links.history(hubspot("7"))] == ["p1", "p2"]


def test_a_page_of_links_takes_a_bounded_number_of_statements(
    people: StateStore, statements: StatementLog
) -> None:
    refs = [hubspot(str(n)) for n in range(2500)]
    people.links.add_many((ref, "p1", LinkReason.CREATED) for ref in refs)
    assert len(statements) <= 6  # three key lookups of 1,000, one insert, BEGIN on SQLite
    statements.clear()
    resolved = people.links.resolve([*refs, lead("00Qnone")])
    # Per object type, one look-up per 1,000 ids (index-served): 3 for the contacts, 1 for the
    # Lead, and BEGIN on SQLite.
    assert len(statements) <= 5
    assert len(resolved) == 2500
    assert lead("00Qnone") not in resolved


def test_linked_names_the_records_with_an_active_link_as_resolve_does(
    people: StateStore, statements: StatementLog
) -> None:
    people.links.add_many(
        [
            (hubspot("7"), "p1", LinkReason.CREATED),
            (hubspot("8"), "p2", LinkReason.EMAIL_MATCH),
            (lead("00Q1"), "p1", LinkReason.CREATED),
        ]
    )
    people.links.close(hubspot("8"))  # history only: not linked now
    people.links.add_many((hubspot(str(n)), "p2", LinkReason.CREATED) for n in range(100, 1600))
    asked = [hubspot("7"), hubspot("8"), lead("00Q1"), contact("003none"), hubspot("9")]
    asked += [hubspot(str(n)) for n in range(100, 1600)]
    statements.clear()
    found = people.links.linked(asked)
    assert len(statements) <= 5  # per object type, one index look-up per 1,000; BEGIN
    assert found == set(people.links.resolve(asked))
    assert {hubspot("7"), lead("00Q1")} <= found
    assert not {hubspot("8"), hubspot("9"), contact("003none")} & found
    assert people.links.linked([]) == set()


def test_systems_of_people(store: StateStore) -> None:
    store.people.upsert_many([person("p1", "a@example.com"), person("p2", "b@example.com")])
    store.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    store.links.add(hubspot("11"), "p1", LinkReason.EMAIL_MATCH)
    store.links.add(hubspot("12"), "p2", LinkReason.CREATED)
    store.links.close(hubspot("12"))
    found = store.links.systems_of(["p1", "p2"])
    assert found == {"p1": frozenset({System.SALESFORCE, System.HUBSPOT})}


def test_key_look_ups_are_served_by_an_index(sqlite_url: str) -> None:
    """A row-value IN list makes SQLite scan the table on every look-up; the key look-ups
    the engine makes per page must search an index instead (``EXPLAIN QUERY PLAN`` is
    SQLite's; PostgreSQL plans by statistics)."""
    cases = [
        (links, (links.c.system, links.c.object_type, links.c.record_id)),
        (
            observations,
            (observations.c.system, observations.c.object_type, observations.c.record_id),
        ),
        (activities, (activities.c.system, activities.c.record_type, activities.c.record_id)),
        (activities, (activities.c.system, activities.c.activity_id)),
        (
            dead_letters,
            (dead_letters.c.system, dead_letters.c.object_type, dead_letters.c.record_id),
        ),
    ]
    with StateStore.open(sqlite_url) as store, store._db.engine.connect() as connection:
        for table, columns in cases:
            keys = [("hubspot", *(["contacts"] * (len(columns) - 2)), str(n)) for n in range(3)]
            for matching in keyed_in(columns, keys):
                sql = (
                    select(table)
                    .where(matching)
                    .compile(connection, compile_kwargs={"literal_binds": True})
                )
                plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
                assert all(step.startswith("SEARCH") for step in plan), (table.name, plan)
