from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, create_engine, insert, inspect, select, table, update

from connector.errors import StateError
from connector.funnel import FunnelStage, Person
from connector.state import StateStore
from connector.state._engine import create_state_engine, normalise_url
from connector.state._migrate import MIGRATIONS_DIR, _config, head_revision
from connector.state.schema import VERSION_TABLE, metadata, people, stage_transitions

from .conftest import FrozenClock

PIN_IN_SF = "lead set by hand in salesforce (rule: pin)"


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


def test_0003_recovers_pins_from_the_stage_history_and_downgrade_removes_them(
    state_url: str, clock: FrozenClock
) -> None:
    """Before 0003 a pinned stage was not remembered. People whose latest transition was a
    pin, and who still stand on that stage, get the pin back; nobody else does."""
    engine = create_state_engine(normalise_url(state_url), busy_timeout=5)
    at = datetime(2026, 11, 20, tzinfo=UTC)
    old: dict[str, tuple[str, list[tuple[str, str]]]] = {
        # person: (stage now, transitions oldest first as (to_stage, first reason))
        "pinned": ("lead", [("prospect", "two-way + fit"), ("lead", PIN_IN_SF)]),
        "moved-on": ("customer", [("lead", PIN_IN_SF), ("customer", "closed-won")]),
        "pinned-then-won": ("customer", [("customer", PIN_IN_SF.replace("lead", "customer"))]),
        "stale-pin": ("prospect", [("lead", PIN_IN_SF)]),  # stage changed without a transition
        "evidence": ("prospect", [("prospect", "two-way + fit")]),
        "no-history": ("lead", []),
    }
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), "0002")
            for person_id, (stage, history) in old.items():
                data = Person(id=person_id, stage=FunnelStage(stage)).model_dump(mode="json")
                del data["stage_pinned"]  # what 0002-era code stored
                connection.execute(
                    insert(people).values(
                        id=person_id, email=None, data=data, stage=stage, score=None,
                        rules_version="", created_at=at, updated_at=at, merged_into=None,
                    )
                )  # fmt: skip
                for to_stage, reason in history:
                    connection.execute(
                        insert(stage_transitions).values(
                            person_id=person_id, from_stage=None, to_stage=to_stage,
                            rules_version="r1", reasons=[reason, "context"], run_id=None, at=at,
                        )
                    )  # fmt: skip
        with StateStore.open(state_url, clock=clock) as store:
            assert store.schema_revision() == head_revision()
            found = store.people.get_many(list(old))
        pinned = {person_id for person_id, record in found.items() if record.person.stage_pinned}
        assert pinned == {"pinned", "pinned-then-won"}
        assert found["pinned"].person.stage is FunnelStage.LEAD

        with engine.begin() as connection:
            command.downgrade(_config(connection), "0002")
            stored = dict(connection.execute(select(people.c.id, people.c.data)).all())
        assert all("stage_pinned" not in data for data in stored.values())
        assert stored["pinned"]["stage"] == "lead"
    finally:
        engine.dispose()
