from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, create_engine, inspect, table, update

from connector.errors import StateError
from connector.state import StateStore
from connector.state._engine import normalise_url
from connector.state._migrate import MIGRATIONS_DIR, head_revision
from connector.state.schema import VERSION_TABLE, metadata

from .conftest import FrozenClock


def test_open_migrates_an_empty_database_to_head(state_url: str, clock: FrozenClock) -> None:
    with StateStore.open(state_url, clock=clock) as store:
        assert store.schema_revision() == head_revision()
        tables = set(inspect(store.engine).get_table_names())
    assert tables == {table.name for table in metadata.sorted_tables} | {VERSION_TABLE}


def test_reopening_is_idempotent_and_keeps_data(state_url: str, clock: FrozenClock) -> None:
    with StateStore.open(state_url, clock=clock) as store:
        store.runs.start("sync", run_id="r1")
    with StateStore.open(state_url, clock=clock) as store:
        assert store.runs.get("r1") is not None
        assert store.schema_revision() == head_revision()


def test_migrated_schema_matches_the_table_definitions(store: StateStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_a_schema_newer_than_the_code_is_refused(state_url: str, clock: FrozenClock) -> None:
    with StateStore.open(state_url, clock=clock) as store, store.engine.begin() as connection:
        version = table(VERSION_TABLE, column("version_num"))
        connection.execute(update(version).values(version_num="f00dcafe9999"))
    for migrate in (True, False):
        with pytest.raises(StateError, match=r"f00dcafe9999.*does not know") as caught:
            StateStore.open(state_url, clock=clock, migrate=migrate)
        assert head_revision() in str(caught.value)


def test_without_migrate_an_unmigrated_database_is_refused(sqlite_url: str) -> None:
    with pytest.raises(StateError, match="revision none, older"):
        StateStore.open(sqlite_url, migrate=False)


def test_without_migrate_a_current_database_opens(state_url: str, clock: FrozenClock) -> None:
    StateStore.open(state_url, clock=clock).close()
    with StateStore.open(state_url, clock=clock, migrate=False) as store:
        assert store.schema_revision() == head_revision()


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    versions = sorted(path.name for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    assert versions[0].startswith("0001")
    assert MIGRATIONS_DIR.parent.name == "state"


def test_the_version_table_is_crmsync_specific(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    StateStore.open(url).close()
    engine = create_engine(normalise_url(url))
    try:
        names = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert VERSION_TABLE in names
    assert "alembic_version" not in names


def test_concurrent_first_opens_migrate_once(state_url: str, clock: FrozenClock) -> None:
    errors: list[BaseException] = []
    opened: list[StateStore] = []

    def open_store() -> None:
        try:
            opened.append(StateStore.open(state_url, clock=clock))
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in opened:
        store.close()
    assert errors == []
    assert len(opened) == 3
