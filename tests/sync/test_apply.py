from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.crm.types import UpsertRequest, WriteRequest, WriteResult, WriteStatus
from connector.errors import System
from connector.funnel import Person, SourceRef
from connector.state import StateStore
from connector.sync.apply import apply_records
from connector.sync.plan import FieldChange, RecordPlan, WriteKind

NOW = datetime(2026, 11, 1, tzinfo=UTC)


class ConflictingSink:
    """A strict fake HubSpot sink: every upsert answers HubSpot's duplicate-e-mail conflict."""

    system = System.HUBSPOT

    def __init__(self) -> None:
        self.upserts: list[UpsertRequest] = []

    def write(self, requests: Sequence[WriteRequest]) -> list[WriteResult]:
        raise AssertionError("no update was planned")

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
    assert outcome.linked_existing == 1
    assert sum(outcome.rejected.values()) == 0
    assert store.dead_letters.list() == []
    existing = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id="100102")
    link = store.links.active(existing)
    assert link is not None
    assert link.person_id == "p1"
    assert store.dirty.take(10) == ["p1"]
