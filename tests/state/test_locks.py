from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from connector.errors import RunLockedError, StateError
from connector.state import Lease, StateStore, default_holder

from .conftest import START, FrozenClock

TTL = timedelta(minutes=10)


def test_acquire_gives_a_lease_and_blocks_other_holders(store: StateStore) -> None:
    lease = store.locks.acquire("sf-hs", "run-a", TTL)
    assert lease == Lease("sf-hs", "run-a", START, START + TTL)
    with pytest.raises(RunLockedError) as caught:
        store.locks.acquire("sf-hs", "run-b", TTL)
    assert caught.value.holder == "run-a"
    assert caught.value.expires_at == (START + TTL).isoformat()
    assert "run-a" in str(caught.value)
    assert store.locks.current("sf-hs") == lease


def test_pairs_are_locked_independently(store: StateStore) -> None:
    store.locks.acquire("pair-1", "run-a", TTL)
    assert store.locks.acquire("pair-2", "run-b", TTL).holder == "run-b"


def test_the_holder_may_acquire_again_to_extend(store: StateStore, clock: FrozenClock) -> None:
    store.locks.acquire("sf-hs", "run-a", TTL)
    now = clock.advance(minutes=5)
    assert store.locks.acquire("sf-hs", "run-a", TTL).expires_at == now + TTL


def test_renew_extends_the_lease(store: StateStore, clock: FrozenClock) -> None:
    lease = store.locks.acquire("sf-hs", "run-a", TTL)
    now = clock.advance(minutes=9)
    renewed = store.locks.renew(lease, TTL)
    assert renewed.expires_at == now + TTL
    clock.advance(minutes=9)
    with pytest.raises(RunLockedError):
        store.locks.acquire("sf-hs", "run-b", TTL)


def test_an_expired_lease_is_stolen_and_the_old_holder_learns_it(
    store: StateStore, clock: FrozenClock
) -> None:
    old = store.locks.acquire("sf-hs", "run-a", TTL)
    clock.advance(minutes=10)
    new = store.locks.acquire("sf-hs", "run-b", TTL)
    assert new.holder == "run-b"
    with pytest.raises(RunLockedError, match="run-b"):
        store.locks.renew(old, TTL)
    assert not store.locks.release(old)
    assert store.locks.current("sf-hs") == new


def test_release_frees_the_lock(store: StateStore) -> None:
    lease = store.locks.acquire("sf-hs", "run-a", TTL)
    assert store.locks.release(lease)
    assert store.locks.current("sf-hs") is None
    with pytest.raises(StateError, match="released"):
        store.locks.renew(lease, TTL)
    assert store.locks.acquire("sf-hs", "run-b", TTL).holder == "run-b"


def test_held_releases_even_when_the_block_fails(store: StateStore) -> None:
    with pytest.raises(RuntimeError), store.locks.held("sf-hs", "run-a", TTL):
        raise RuntimeError("sync failed")
    assert store.locks.current("sf-hs") is None


def test_lock_calls_are_refused_inside_a_transaction(store: StateStore) -> None:
    with store.transaction(), pytest.raises(StateError, match="inside a state transaction"):
        store.locks.acquire("sf-hs", "run-a", TTL)


def test_a_non_positive_ttl_is_refused(store: StateStore) -> None:
    with pytest.raises(StateError, match="positive"):
        store.locks.acquire("sf-hs", "run-a", timedelta(0))


def test_default_holder_names_host_process_and_run() -> None:
    holder = default_holder("r1")
    assert holder.endswith(":r1")
    assert holder.count(":") >= 2


def _race(stores: list[StateStore], pair: str) -> list[str]:
    """Every store tries to take ``pair`` at the same moment; returns each one's outcome."""
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []
    guard = threading.Lock()

    def contend(index: int) -> None:
        barrier.wait()
        try:
            stores[index].locks.acquire(pair, f"run-{index}", TTL)
            result = "won"
        except RunLockedError:
            result = "locked"
        with guard:
            outcomes.append(result)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_racing_threads_exactly_one_wins(state_url: str, clock: FrozenClock) -> None:
    """Every thread has its own store (its own connections), as separate processes would."""
    stores = [StateStore.open(state_url, clock=clock) for _ in range(4)]
    try:
        for round_number in range(5):
            assert _race(stores, f"pair-{round_number}") == ["locked", "locked", "locked", "won"]
    finally:
        for opened in stores:
            opened.close()


_CONTENDER = """
import sys
from datetime import timedelta
from connector.errors import RunLockedError
from connector.state import StateStore
store = StateStore.open(sys.argv[1])
try:
    store.locks.acquire("sf-hs", sys.argv[2], timedelta(minutes=10))
    print("won")
except RunLockedError as error:
    print("locked", error.holder)
"""


def test_racing_processes_exactly_one_wins(state_url: str) -> None:
    StateStore.open(state_url).close()  # migrate once, so the processes race on the lock only
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CONTENDER, state_url, f"proc-{index}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    outputs = [process.communicate(timeout=60)[0].split() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert sorted(output[0] for output in outputs) == ["locked", "won"]
    winner = next(f"proc-{i}" for i, output in enumerate(outputs) if output[0] == "won")
    assert next(output[1] for output in outputs if output[0] == "locked") == winner
