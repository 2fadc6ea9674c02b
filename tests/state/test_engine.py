"""SQLite setup (WAL, foreign keys, owner-only files) and URL handling."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from connector.errors import StateError, System
from connector.settings import Settings
from connector.state import Provenance, StateStore
from connector.state._engine import normalise_url

from .conftest import FrozenClock, person


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_directory_and_files_are_owner_only(tmp_path: Path, clock: FrozenClock) -> None:
    old_umask = os.umask(0o022)
    try:
        database = tmp_path / "work" / ".crmsync" / "state.db"
        with StateStore.open(f"sqlite:///{database}", clock=clock) as store:
            store.people.upsert(person("p1", "ada@example.com"))
            assert _mode(database.parent) == 0o700
            assert _mode(database) == 0o600
            wal = database.with_name("state.db-wal")
            assert wal.exists()
            assert _mode(wal) == 0o600
    finally:
        os.umask(old_umask)


def test_the_default_url_creates_dot_crmsync_in_the_working_directory(
    clean_env: Path, clock: FrozenClock
) -> None:
    settings = Settings()
    with StateStore.from_settings(settings, clock=clock):
        assert _mode(clean_env / ".crmsync") == 0o700
        assert _mode(clean_env / ".crmsync" / "state.db") == 0o600


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(sqlite_url: str) -> None:
    with StateStore.open(sqlite_url) as store, store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_foreign_keys_are_enforced(store: StateStore) -> None:
    orphan = Provenance(person_id="nobody", field="stage", system=System.HUBSPOT)
    with pytest.raises(StateError, match="IntegrityError") as caught:
        store.provenance.put_many([orphan])
    assert "nobody" not in str(caught.value)  # parameters (personal data) stay out of messages


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u@db/crm").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@db/crm").drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@db/crm", "unsupported state store backend 'mysql'"),
        ("postgresql+asyncpg://u@db/crm", "unsupported PostgreSQL driver"),
        ("not a url", "not a database URL"),
    ],
)
def test_unsupported_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StateError, match=message):
        normalise_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://crm:hunter2@127.0.0.1:1/crm",
        "postgresql://crm@127.0.0.1:1/crm?password=hunter2",
    ],
)
def test_an_unreachable_server_is_a_state_error_without_the_password(url: str) -> None:
    with pytest.raises(StateError, match="cannot open the state store") as caught:
        StateStore.open(url, busy_timeout=1)
    assert "hunter2" not in str(caught.value)


def test_in_memory_sqlite_works_for_throwaway_stores(clock: FrozenClock) -> None:
    with StateStore.open("sqlite://", clock=clock) as store:
        store.people.upsert(person("p1", "ada@example.com"))
        assert store.people.get("p1") is not None
