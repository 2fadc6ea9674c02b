from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.crm.types import (
    DeleteRequest,
    UpsertRequest,
    WriteRequest,
    WriteResult,
    WriteStatus,
)
from connector.errors import QuotaExhaustedError, System
from connector.funnel import Person, SourceRef
from connector.state import StateStore
from connector.sync.apply import ApplyOutcome, WriteBehind, apply_records
from connector.sync.plan import FieldChange, RecordPlan, WriteKind

NOW = datetime(2026, 11, 1, tzinfo=UTC)


class ConflictingSink:
    """A strict fake HubSpot sink: every upsert answers HubSpot's duplicate-e-mail conflict."""

    system = System.HUBSPOT

    def __init__(self) -> None:
        self.upserts: list[UpsertRequest] = []

    def write(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        raise AssertionError("no update was planned")

    def delete(self, requests: Sequence[DeleteRequest]) -> list[WriteResult]:
        raise AssertionError("applying a plan never deletes")

    def upsert(self, requests: Sequence[UpsertRequest]) -> list[WriteResult]:
        self.upserts.extend(requests)
        return [
            WriteResult(
                object_type="contacts",
                requested_id=request.external_id,
                status=WriteStatus.REJECTED,
                code="CONFLICT",
                message="Contact already exists. Existing ID: 100102",
            )
            for request in requests
        ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(f"sqlite:///{tmp_path}/state.db") as opened:
        yield opened


def test_a_create_refused_as_a_duplicate_links_the_existing_contact(store: StateStore) -> None:
    store.people.upsert(Person(id="p1", email="ada@example.com"))
    create = RecordPlan(
        system=System.HUBSPOT,
        object_type="contacts",
        record_id="p1",
        person_id="p1",
        kind=WriteKind.CREATE,
        changes=(
            FieldChange(
                field="email",
                mapping="email",
                old=None,
                new="ada@example.com",
                value="ada@example.com",
                reason="missing in hubspot",
            ),
        ),
    )
    sink = ConflictingSink()
    outcome = apply_records(
        [create], {System.HUBSPOT: sink}, store, run_id="r1", now=NOW, observed={}
    )
    assert len(sink.upserts) == 1
    assert len(outcome.linked_existing) == 1
    assert sum(outcome.rejected.values()) == 0
    assert store.dead_letters.list() == []
    existing = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id="100102")
    link = store.links.active(existing)
    assert link is not None
    assert link.person_id == "p1"
    assert store.dirty.take(10) == ["p1"]


class RecordingSink:
    """A fake sink that writes every update, or raises ``error`` instead."""

    def __init__(self, system: System, error: Exception | None = None) -> None:
        self.system = system
        self.error = error
        self.writes: list[WriteRequest] = []

    def write(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        if self.error is not None:
            raise self.error
        self.writes.extend(requests)
        return [
            WriteResult(
                object_type=r.object_type,
                requested_id=r.record_id,
                record_id=r.record_id,
                status=WriteStatus.WRITTEN,
            )
            for r in requests
        ]

    def upsert(self, requests: Sequence[UpsertRequest]) -> list[WriteResult]:
        raise AssertionError("no create was planned")

    def delete(self, requests: Sequence[DeleteRequest]) -> list[WriteResult]:
        raise AssertionError("applying a plan never deletes")


def _update(system: System, object_type: str, record_id: str, person: str) -> RecordPlan:
    return RecordPlan(
        system=system,
        object_type=object_type,
        record_id=record_id,
        person_id=person,
        changes=(
            FieldChange(
                field="Title" if system is System.SALESFORCE else "jobtitle",
                mapping="title",
                old="Intern",
                new="CEO",
                value="CEO",
                reason="changed in the other system",
            ),
        ),
    )


def _written(store: StateStore, person: str) -> dict[System, object]:
    return {p.system: p.written_value for p in store.provenance.for_person(person)}


def test_a_quota_stop_in_one_system_is_raised_after_the_others_writes_are_recorded(
    store: StateStore,
) -> None:
    store.people.upsert(Person(id="p1", email="ada@example.com"))
    salesforce = RecordingSink(System.SALESFORCE)
    hubspot = RecordingSink(System.HUBSPOT, QuotaExhaustedError(System.HUBSPOT, "daily limit"))
    records = [
        _update(System.SALESFORCE, "Lead", "00Q000000000001", "p1"),
        _update(System.HUBSPOT, "contacts", "101", "p1"),
    ]
    with pytest.raises(QuotaExhaustedError):
        apply_records(
            records,
            {System.SALESFORCE: salesforce, System.HUBSPOT: hubspot},
            store,
            run_id="r1",
            now=NOW,
            observed={},
        )
    assert len(salesforce.writes) == 1
    # Salesforce's write went out: it is recorded, so its echo is never taken for an edit.
    assert _written(store, "p1") == {System.SALESFORCE: "CEO"}


def test_write_behind_records_the_chunk_in_flight_when_the_next_chunk_fails(
    store: StateStore,
) -> None:
    store.people.upsert(Person(id="p1", email="ada@example.com"))
    store.dirty.mark(["p1"], "pulled")
    sink = RecordingSink(System.HUBSPOT)
    finished: list[Sequence[str]] = []

    def done(_: ApplyOutcome, people: Sequence[str]) -> None:
        finished.append(people)
        store.dirty.clear(people)

    def run() -> None:
        with WriteBehind({System.HUBSPOT: sink}, store, run_id="r1", done=done) as writer:
            writer.submit(
                ["p1"], [_update(System.HUBSPOT, "contacts", "101", "p1")], now=NOW, observed={}
            )
            raise RuntimeError("deciding the next chunk failed")

    with pytest.raises(RuntimeError, match="deciding the next chunk failed"):
        run()
    assert len(sink.writes) == 1
    assert finished == [["p1"]]
    assert _written(store, "p1") == {System.HUBSPOT: "CEO"}
    assert store.dirty.count() == 0


def test_write_behind_keeps_a_failed_chunk_dirty(store: StateStore) -> None:
    store.people.upsert(Person(id="p1", email="ada@example.com"))
    store.dirty.mark(["p1"], "pulled")
    sink = RecordingSink(System.HUBSPOT, QuotaExhaustedError(System.HUBSPOT, "daily limit"))
    finished: list[Sequence[str]] = []

    def run() -> None:
        done = lambda _, people: finished.append(people)  # noqa: E731
        with WriteBehind({System.HUBSPOT: sink}, store, run_id="r1", done=done) as writer:
            writer.submit(
                ["p1"], [_update(System.HUBSPOT, "contacts", "101", "p1")], now=NOW, observed={}
            )

    with pytest.raises(QuotaExhaustedError):
        run()
    assert finished == []
    assert store.dirty.take(10) == ["p1"]  # planned again by the next run


def test_write_behind_sends_the_next_chunk_while_it_records_the_one_before(
    store: StateStore,
) -> None:
    store.people.upsert_many(Person(id=p, email=f"{p}@example.com") for p in ("p1", "p2"))
    sending_second = threading.Event()

    class SignallingSink(RecordingSink):
        def write(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
            if any(r.record_id == "102" for r in requests):
                sending_second.set()
            return super().write(requests)

    sink = SignallingSink(System.HUBSPOT)
    overlapped: list[bool] = []

    def done(_: ApplyOutcome, people: Sequence[str]) -> None:
        if people == ["p1"]:
            # The second chunk is already going out while the first one is being recorded.
            overlapped.append(sending_second.wait(timeout=5))

    with WriteBehind({System.HUBSPOT: sink}, store, run_id="r1", done=done) as writer:
        for number, person in ((101, "p1"), (102, "p2")):
            update = _update(System.HUBSPOT, "contacts", str(number), person)
            writer.submit([person], [update], now=NOW, observed={})
    assert overlapped == [True]
    assert [w.record_id for w in sink.writes] == ["101", "102"]
    assert _written(store, "p1") == _written(store, "p2") == {System.HUBSPOT: "CEO"}


def test_write_behind_sends_nothing_more_after_a_chunk_stopped_on_quota(
    store: StateStore,
) -> None:
    store.people.upsert_many(Person(id=p, email=f"{p}@example.com") for p in ("p1", "p2"))
    sink = RecordingSink(System.HUBSPOT, QuotaExhaustedError(System.HUBSPOT, "daily limit"))
    calls: list[list[str]] = []
    original = sink.write

    def write(requests: Sequence[WriteRequest]) -> list[WriteResult]:
        calls.append([r.record_id for r in requests])
        return original(requests)

    sink.write = write  # type: ignore[method-assign]
    finished: list[Sequence[str]] = []

    def run() -> None:
        done = lambda _, people: finished.append(people)  # noqa: E731
        with WriteBehind({System.HUBSPOT: sink}, store, run_id="r1", done=done) as writer:
            for number, person in ((101, "p1"), (102, "p2")):
                update = _update(System.HUBSPOT, "contacts", str(number), person)
                writer.submit([person], [update], now=NOW, observed={})

    with pytest.raises(QuotaExhaustedError):
        run()
    assert calls == [["101"]]  # the second chunk never went out
    assert finished == []
