"""Taking over the run lock of a run that died on this machine, and only then."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from connector.errors import RunLockedError
from connector.state import StateStore
from connector.sync._lease import Lease, abandoned


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_a_dead_process_on_this_host_has_abandoned_its_lock() -> None:
    host = socket.gethostname()
    assert abandoned(f"{host}:{dead_pid()}:run")
    assert not abandoned(f"{host}:{os.getpid()}:run")  # this very process
    assert not abandoned(f"{host}:{os.getppid()}:run")  # alive
    assert not abandoned(f"another-{host}:{dead_pid()}:run")  # cannot tell: wait for expiry
    assert not abandoned("old-style-holder:run")


def test_a_lease_left_by_a_dead_run_is_taken_over_a_live_one_is_not(sqlite_url: str) -> None:
    ttl = timedelta(minutes=10)
    with StateStore.open(sqlite_url) as store:
        store.locks.acquire("pair:default", f"{socket.gethostname()}:{dead_pid()}:killed", ttl)
        with Lease(store, "pair:default", "next", ttl):
            current = store.locks.current("pair:default")
            assert current is not None
            assert current.holder.endswith(f":{os.getpid()}:next")
            with pytest.raises(RunLockedError, match="holds the lock"):
                Lease(store, "pair:default", "third", ttl).__enter__()
        assert store.locks.current("pair:default") is None
