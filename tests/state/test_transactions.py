from __future__ import annotations

import threading
from datetime import timedelta, timezone

import pytest

from connector.errors import System
from connector.state import Cursor, LinkReason, Provenance, StateStore

from .conftest import START, FrozenClock, hubspot, person


def _page(store: StateStore, person_id: str, minutes: int) -> None:
    store.people.upsert(person(person_id))
    store.links.add(hubspot(person_id), person_id, LinkReason.CREATED)
    store.provenance.put_many([Provenance(person_id, "stage", System.HUBSPOT, seen_value="lead")])
    store.cursors.commit(
        Cursor("hubspot/contacts", START + timedelta(minutes=minutes), person_id, START)
    )


def test_a_page_commits_atomically(store: StateStore) -> None:
    with store.transaction():
        _page(store, "1", 1)
    assert store.people.get("1") is not None
    assert store.cursors.get("hubspot/contacts") is not None


def _failing_page(store: StateStore, person_id: str, minutes: int) -> None:
    with store.transaction():
        _page(store, person_id, minutes)
        raise RuntimeError("crash between the writes and the commit")


def test_a_failed_page_leaves_nothing_behind(store: StateStore) -> None:
    with pytest.raises(RuntimeError):
        _failing_page(store, "1", 1)
    assert store.people.get("1") is None
    assert store.links.active(hubspot("1")) is None
    assert store.provenance.get_many(["1"]) == {}
    assert store.cursors.get("hubspot/contacts") is None


def test_a_nested_block_is_a_savepoint(store: StateStore) -> None:
    with store.transaction():
        _page(store, "1", 1)
        with pytest.raises(RuntimeError):
            _failing_page(store, "2", 2)
    assert store.people.get("1") is not None
    assert store.people.get("2") is None
    cursor = store.cursors.get("hubspot/contacts")
    assert cursor is not None
    assert cursor.tie_break == "1"


def test_reads_inside_a_transaction_see_its_writes(store: StateStore) -> None:
    with store.transaction():
        store.people.upsert(person("1", "ada@example.com"))
        assert [r.id for r in store.people.by_email("ada@example.com")] == ["1"]


def test_other_threads_do_not_join_this_threads_transaction(store: StateStore) -> None:
    # On SQLite too: WAL readers never wait for the writer.
    seen: list[object] = []
    with store.transaction():
        store.people.upsert(person("1"))
        thread = threading.Thread(target=lambda: seen.append(store.people.get("1")))
        thread.start()
        thread.join(timeout=30)
    assert seen == [None]
    assert store.people.get("1") is not None


def test_naive_clock_values_are_refused(state_url: str) -> None:
    clock = FrozenClock(START.replace(tzinfo=None))
    with StateStore.open(state_url, clock=clock) as store, pytest.raises(ValueError, match="naive"):
        store.runs.start("sync")


def test_times_come_back_in_utc(state_url: str) -> None:
    clock = FrozenClock(START.astimezone(timezone(timedelta(hours=-5))))
    with StateStore.open(state_url, clock=clock) as store:
        run = store.runs.start("sync")
        stored = store.runs.get(run.id)
    assert stored is not None
    assert stored.started_at == START
    assert stored.started_at.utcoffset() == timedelta(0)
