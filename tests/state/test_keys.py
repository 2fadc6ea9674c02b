from __future__ import annotations

import threading

from connector.state import StateStore

from .conftest import FrozenClock


def test_a_key_is_made_on_first_use_and_kept(state_url: str, clock: FrozenClock) -> None:
    with StateStore.open(state_url, clock=clock) as store:
        assert store.keys.get("plan") is None
        key = store.keys.get_or_create("plan")
        assert len(key) == 32
        assert store.keys.get_or_create("plan") == key
        assert store.keys.get_or_create("other") != key
    with StateStore.open(state_url, clock=clock) as store:
        assert store.keys.get("plan") == key


def test_two_stores_make_different_keys(sqlite_url: str) -> None:
    with StateStore.open(sqlite_url) as first, StateStore.open(f"{sqlite_url}.2") as second:
        assert first.keys.get_or_create("plan") != second.keys.get_or_create("plan")


def test_processes_making_the_same_key_at_once_agree(state_url: str, clock: FrozenClock) -> None:
    with StateStore.open(state_url, clock=clock) as store:
        made: list[bytes] = []
        start = threading.Barrier(4)

        def make() -> None:
            start.wait()
            made.append(store.keys.get_or_create("plan"))

        threads = [threading.Thread(target=make) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(made) == 4
        assert set(made) == {store.keys.get("plan")}
