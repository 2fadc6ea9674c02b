from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.state import Cursor, StateStore

from .conftest import START, FrozenClock


def cursor(minutes: int, tie_break: str | None = None, stream: str = "hubspot/contacts") -> Cursor:
    return Cursor(
        stream=stream,
        watermark=START + timedelta(minutes=minutes),
        tie_break=tie_break,
        run_started_at=START + timedelta(hours=1),
    )


def test_an_unknown_stream_has_no_cursor(store: StateStore) -> None:
    assert store.cursors.get("salesforce/Lead") is None


def test_commit_stores_and_stamps_the_cursor(store: StateStore, clock: FrozenClock) -> None:
    now = clock.advance(hours=2)
    stored = store.cursors.commit(cursor(5, "101"))
    assert stored.updated_at == now
    assert store.cursors.get("hubspot/contacts") == stored
    assert stored.watermark == START + timedelta(minutes=5)
    assert stored.run_started_at == START + timedelta(hours=1)


def test_commit_advances_on_a_later_watermark_or_a_later_tie_break(store: StateStore) -> None:
    store.cursors.commit(cursor(5, "99"))
    assert store.cursors.commit(cursor(5, "100")).tie_break == "100"  # 100 > 99 as numbers
    assert store.cursors.commit(cursor(6, "1")).watermark == START + timedelta(minutes=6)


def test_commit_never_moves_backward(store: StateStore) -> None:
    ahead = store.cursors.commit(cursor(10, "500"))
    assert store.cursors.commit(cursor(9, "999")) == ahead
    assert store.cursors.commit(cursor(10, "499")) == ahead
    assert store.cursors.commit(cursor(10, "500")) == ahead
    assert store.cursors.commit(cursor(10, None)) == ahead
    assert store.cursors.get("hubspot/contacts") == ahead


def test_streams_are_independent_and_listed(store: StateStore) -> None:
    store.cursors.commit(cursor(10, stream="b"))
    store.cursors.commit(cursor(1, stream="a"))
    assert [c.stream for c in store.cursors.all()] == ["a", "b"]


def test_reset_forgets_a_stream(store: StateStore) -> None:
    store.cursors.commit(cursor(10))
    assert store.cursors.reset("hubspot/contacts")
    assert not store.cursors.reset("hubspot/contacts")
    assert store.cursors.commit(cursor(1)).watermark == START + timedelta(minutes=1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.one_of(st.none(), st.integers(0, 300).map(str))),
        min_size=1,
        max_size=12,
    )
)
def test_the_stored_cursor_is_always_the_furthest_committed(
    store: StateStore, commits: list[tuple[int, str | None]]
) -> None:
    stream = f"s-{uuid.uuid4().hex}"
    for minutes, tie in commits:
        store.cursors.commit(cursor(minutes, tie, stream=stream))
    furthest = max((cursor(m, t, stream=stream) for m, t in commits), key=Cursor.position)
    stored = store.cursors.get(stream)
    assert stored is not None
    assert stored.position() == furthest.position()
