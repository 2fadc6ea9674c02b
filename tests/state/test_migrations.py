from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
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


def test_0003_recovers_pins_and_disqualification_dates_and_downgrade_removes_them(
    state_url: str, clock: FrozenClock
) -> None:
    """Before 0003 a pinned stage was not remembered, nor since when a person was
    disqualified. People whose latest transition was a pin, and who still stand on that
    stage, get the pin back; disqualified people get the time they last became so."""
    engine = create_state_engine(normalise_url(state_url), busy_timeout=5)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    old: dict[str, tuple[str, list[tuple[str, str]]]] = {
        # person: (stage now, transitions oldest first as (to_stage, first reason))
        "pinned": ("lead", [("prospect", "two-way + fit"), ("lead", PIN_IN_SF)]),
        "moved-on": ("customer", [("lead", PIN_IN_SF), ("customer", "closed-won")]),
        "stale-pin": ("prospect", [("lead", PIN_IN_SF)]),  # stage changed without a transition
        "evidence": ("prospect", [("prospect", "two-way + fit")]),
        "no-history": ("lead", []),
        "out": (
            "disqualified",
            [
                ("disqualified", "disqualified: x"),
                ("lead", "recycled"),
                ("disqualified", "disqualified: y"),
            ],
        ),
        "out-by-hand": ("disqualified", [("disqualified", PIN_IN_SF.replace("lead", "dq"))]),
        "back": ("lead", [("disqualified", "disqualified: x"), ("lead", "recycled")]),
    }
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), "0002")
            for person_id, (stage, history) in old.items():
                reason = "Not a fit" if stage == "disqualified" else None
                data = Person(
                    id=person_id, stage=FunnelStage(stage), disqualified_reason=reason
                ).model_dump(mode="json")
                del data["stage_pinned"], data["disqualified_at"]  # what 0002-era code stored
                connection.execute(
                    insert(people).values(
                        id=person_id, email=None, data=data, stage=stage, score=None,
                        rules_version="", created_at=day, updated_at=day, merged_into=None,
                    )
                )  # fmt: skip
                for index, (to_stage, first) in enumerate(history):
                    connection.execute(
                        insert(stage_transitions).values(
                            person_id=person_id, from_stage=None, to_stage=to_stage,
                            rules_version="r1", reasons=[first, "context"], run_id=None,
                            at=day + timedelta(days=index),
                        )
                    )  # fmt: skip
        with StateStore.open(state_url, clock=clock) as store:
            assert store.schema_revision() == head_revision()
            found = {k: v.person for k, v in store.people.get_many(list(old)).items()}
        assert {k for k, person in found.items() if person.stage_pinned} == {
            "pinned",
            "out-by-hand",
        }
        assert found["pinned"].stage is FunnelStage.LEAD
        since = {k: person.disqualified_at for k, person in found.items() if person.disqualified_at}
        assert since == {"out": day + timedelta(days=2), "out-by-hand": day}

        with engine.begin() as connection:
            command.downgrade(_config(connection), "0002")
            stored = dict(connection.execute(select(people.c.id, people.c.data)).all())
        assert all(
            "stage_pinned" not in data and "disqualified_at" not in data for data in stored.values()
        )
        assert stored["pinned"]["stage"] == "lead"
    finally:
        engine.dispose()
