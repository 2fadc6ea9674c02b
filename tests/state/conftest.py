"""Fixtures for the state store: a frozen clock and a fresh store on SQLite and PostgreSQL.

PostgreSQL runs when ``CRMSYNC_TEST_POSTGRES_URL`` names a server; each test gets a schema of
its own (dropped afterwards), selected through the connection's ``search_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event

from connector.funnel import Person, SourceRef, System
from connector.state import StateStore

POSTGRES_ENV = "CRMSYNC_TEST_POSTGRES_URL"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def store(state_url: str, clock: FrozenClock) -> Iterator[StateStore]:
    opened = StateStore.open(state_url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@dataclass
class StatementLog:
    """Counts the statements an engine sends to the database driver."""

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def clear(self) -> None:
        self.statements.clear()


@pytest.fixture
def statements(store: StateStore) -> Iterator[StatementLog]:
    log = StatementLog()

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        log.statements.append(statement)

    engine: Engine = store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)


def lead(record_id: str) -> SourceRef:
    return SourceRef(system=System.SALESFORCE, object_type="Lead", record_id=record_id)


def contact(record_id: str) -> SourceRef:
    return SourceRef(system=System.SALESFORCE, object_type="Contact", record_id=record_id)


def hubspot(record_id: str) -> SourceRef:
    return SourceRef(system=System.HUBSPOT, object_type="contacts", record_id=record_id)


def person(person_id: str, email: str | None = None, **fields: object) -> Person:
    return Person.model_validate({"id": person_id, "email": email, **fields})
