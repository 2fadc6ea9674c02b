"""``execute_rows``: the bulk path that converts each distinct value once must store exactly
what SQLAlchemy's own per-row path stores, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from connector.state import StateStore
from connector.state._db import execute_rows, upsert
from connector.state.schema import field_provenance, people
from tests.state.conftest import StatementLog

_KEY = [field_provenance.c.person_id, field_provenance.c.field, field_provenance.c.system]
_SET = ("seen_value", "seen_modified_at", "written_value", "written_at", "written_run_id")

# Values that compare equal across types (True == 1 == 1.0) must keep their own encoding.
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 1.0, 0.0, "1", "true", "", "Ünïcode ✓"]),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_instants = st.sampled_from(
    [datetime(2026, 3, 1, 9, 0, tzinfo=UTC), datetime(2026, 3, 1, 9, 0, 0, 1, tzinfo=UTC)]
)
_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
_datetimes = st.one_of(
    st.none(), st.builds(lambda when, zone: when.astimezone(zone), _instants, _zones)
)
_rows = st.lists(
    st.fixed_dictionaries(
        {
            "person_id": st.sampled_from(["p1", "p2", "p3"]),
            "field": st.sampled_from(["stage", "score"]),
            "system": st.just("salesforce"),
            "seen_value": _json,
            "seen_modified_at": _datetimes,
            "written_value": _json,
            "written_at": _datetimes,
            "written_run_id": st.one_of(st.none(), st.just("run-1")),
        }
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda row: (row["person_id"], row["field"]),
)


@pytest.fixture(autouse=True)
def _people(store: StateStore) -> None:
    """The people the rows belong to (provenance rows reference them)."""
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(
            people.insert(),
            [
                {
                    "id": f"p{n}",
                    "data": {},
                    "stage": "lead",
                    "rules_version": "",
                    "created_at": when,
                    "updated_at": when,
                }
                for n in range(50)
            ],
        )


def _statement(store: StateStore) -> Any:
    with store.engine.connect() as connection:
        statement = upsert(connection, field_provenance)
    return statement.on_conflict_do_update(
        index_elements=_KEY, set_={name: statement.excluded[name] for name in _SET}
    )


def _stored(store: StateStore) -> list[Any]:
    with store.engine.connect() as connection:
        return list(connection.execute(select(field_provenance).order_by(*_KEY)).all())


def _clear(store: StateStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(delete(field_provenance))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_rows)
def test_bulk_path_stores_what_sqlalchemys_per_row_path_stores(
    store: StateStore, rows: list[dict[str, Any]]
) -> None:
    statement = _statement(store)
    _clear(store)
    with store.engine.begin() as connection:
        connection.execute(statement, rows)
    expected = _stored(store)
    _clear(store)
    with store.engine.begin() as connection:
        execute_rows(connection, statement, rows)
    assert _stored(store) == expected
    assert len(expected) == len(rows)


def test_equal_values_of_different_types_keep_their_own_encoding(store: StateStore) -> None:
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    # (1.0 is left out: SQLite's NUMERIC affinity stores the JSON text "1.0" as the integer
    # 1 on either path, which the equivalence test above covers.)
    # All hashable, so they share one memo; a list or dict in the column would send the
    # whole column down the convert-each path.
    values: list[Any] = [1, True, "1", 0, False, None, 1.5, "true"]
    rows = [
        {
            "person_id": f"p{n}",
            "field": "stage",
            "system": "salesforce",
            "seen_value": value,
            "seen_modified_at": when,
            "written_value": value,
            "written_at": when.astimezone(timezone(timedelta(hours=-8))),
            "written_run_id": "run-1",
        }
        for n, value in enumerate(values)
    ]
    with store.engine.begin() as connection:
        execute_rows(connection, _statement(store), rows)
    stored = _stored(store)
    assert [(type(row.written_value), row.written_value) for row in stored] == [
        (type(value), value) for value in values
    ]
    assert {row.written_at for row in stored} == {when}


def test_a_second_call_over_the_same_keys_updates_them(store: StateStore) -> None:
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    row = {
        "person_id": "p1",
        "field": "stage",
        "system": "salesforce",
        "seen_value": "lead",
        "seen_modified_at": when,
        "written_value": "lead",
        "written_at": when,
        "written_run_id": "run-1",
    }
    statement = _statement(store)
    with store.engine.begin() as connection:
        execute_rows(connection, statement, [row])
        execute_rows(
            connection, statement, [{**row, "written_value": 7, "written_run_id": "run-2"}]
        )
    [stored] = _stored(store)
    assert (stored.written_value, stored.written_run_id) == (7, "run-2")


def test_a_statement_with_parameters_the_rows_do_not_fill_is_refused(store: StateStore) -> None:
    row = {"person_id": "p1", "field": "stage", "system": "salesforce"}
    with store.engine.connect() as connection:
        statement = upsert(connection, field_provenance)
    # A bound literal in the SET clause: a driver call with only the rows' values would
    # leave it unfilled.
    statement = statement.on_conflict_do_update(index_elements=_KEY, set_={"written_run_id": "x"})
    with store.engine.begin() as connection, pytest.raises(ValueError, match="not the rows' keys"):
        execute_rows(connection, statement, [row])
    assert _stored(store) == []


def test_no_rows_sends_nothing(store: StateStore, statements: StatementLog) -> None:
    statement = _statement(store)
    with store.engine.begin() as connection:
        statements.clear()
        execute_rows(connection, statement, [])
    assert len(statements) == 0


def test_all_rows_go_in_one_driver_call(store: StateStore, statements: StatementLog) -> None:
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    rows = [
        {
            "person_id": f"p{n}",
            "field": "stage",
            "system": "salesforce",
            "seen_value": n,
            "seen_modified_at": when,
            "written_value": n,
            "written_at": when,
            "written_run_id": "run-1",
        }
        for n in range(50)
    ]
    statement = _statement(store)
    with store.engine.begin() as connection:
        statements.clear()
        execute_rows(connection, statement, rows)
    assert len(statements) == 1
    assert len(_stored(store)) == 50
