"""The run lock for a connection pair, held for a whole run, and taken over from a dead run.

A lease expires on its own, so a crashed run blocks the next one only until its expiry. A run
that was killed on this very machine need not be waited for: its holder name carries the host
and process id (see :func:`~connector.state.locks.default_holder`), and when that process no
longer exists the next run takes the lock over at once instead of failing for the lease's
remaining minutes.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from connector.errors import RunLockedError
from connector.state import StateStore
from connector.state.locks import default_holder

__all__ = ["Lease", "abandoned"]

log = logging.getLogger(__name__)


def abandoned(holder: str) -> bool:
    """Is ``holder`` a run of another process on this host that no longer exists?"""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


class Lease:
    """The run lock for the connection pair, held for the whole run."""

    def __init__(self, store: StateStore, pair: str, run_id: str, ttl: timedelta) -> None:
        self._store, self._pair, self._ttl = store, pair, ttl
        self._holder = default_holder(run_id)

    def __enter__(self) -> Lease:
        try:
            self._lease = self._store.locks.acquire(self._pair, self._holder, self._ttl)
        except RunLockedError as locked:
            if not abandoned(locked.holder):
                raise
            log.warning("taking over the run lock of a run that died (%s)", locked.holder)
            # Re-entering as the dead holder and releasing is atomic per statement: of two runs
            # doing this at once, only one then acquires; the other is refused as usual.
            self._store.locks.release(
                self._store.locks.acquire(self._pair, locked.holder, self._ttl)
            )
            self._lease = self._store.locks.acquire(self._pair, self._holder, self._ttl)
        return self

    def renew(self) -> None:
        """Extend the lease between chunks (never inside a transaction)."""
        self._lease = self._store.locks.renew(self._lease, self._ttl)

    def __exit__(self, *exc: object) -> None:
        self._store.locks.release(self._lease)
