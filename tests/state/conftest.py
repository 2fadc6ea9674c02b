"""Fixtures for the state store: a frozen clock and a fresh store on SQLite and PostgreSQL.

PostgreSQL runs when ``CRMSYNC_TEST_POSTGRES_URL`` names a server; each test gets a schema of
its own (dropped afterwards), selected through the connection's ``search_path``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

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


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL state tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://...)")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections work in a fresh, empty schema."""
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    schema = f"crmsync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        options = quote(f"-csearch_path={schema}")
        yield admin_url.render_as_string(hide_password=False) + (
            f"{'&' if admin_url.query else '?'}options={options}"
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / '.crmsync' / 'state.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest) -> str:
    """A URL for an empty database, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


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
