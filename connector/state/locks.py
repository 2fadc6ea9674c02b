"""The lease-based run lock: one run per connection pair at a time.

A lease expires on its own, so a crashed run blocks the next one only until ``expires_at``;
a live run renews its lease between pages. Acquisition is a single ``INSERT ... ON CONFLICT
DO UPDATE ... WHERE`` statement, atomic on SQLite and PostgreSQL alike: the row is taken when
it does not exist, when its lease has expired (stealing it), or when the caller already holds
it (re-entrant).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import or_, select

from connector.errors import RunLockedError, StateError
from connector.state._db import Db, upsert
from connector.state.models import Lease
from connector.state.schema import run_locks

__all__ = ["DEFAULT_TTL", "RunLocks", "default_holder"]

DEFAULT_TTL = timedelta(minutes=10)


def default_holder(run_id: str) -> str:
    """A holder name that tells a user which machine and process holds the lock."""
    return f"{socket.gethostname()}:{os.getpid()}:{run_id}"


class RunLocks:
    def __init__(self, db: Db) -> None:
        self._db = db

    def acquire(self, pair: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> Lease:
        """Take the lock for ``pair``, or raise ``RunLockedError`` naming holder and expiry."""
        if ttl <= timedelta(0):
            raise StateError("a run lock needs a positive time to live")
        now = self._db.now()
        values = {"pair": pair, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
        with self._db.isolated() as connection:
            statement = upsert(connection, run_locks)
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=[run_locks.c.pair],
                set_={
                    "holder": excluded.holder,
                    "acquired_at": excluded.acquired_at,
                    "expires_at": excluded.expires_at,
                },
                where=or_(run_locks.c.expires_at <= now, run_locks.c.holder == holder),
            ).returning(run_locks.c.holder)
            taken = connection.execute(statement, values).first()
            if taken is None:
                row = connection.execute(select(run_locks).where(run_locks.c.pair == pair)).one()
                raise RunLockedError(pair, row.holder, row.expires_at.isoformat())
        return Lease(pair=pair, holder=holder, acquired_at=now, expires_at=now + ttl)

    def renew(self, lease: Lease, ttl: timedelta = DEFAULT_TTL) -> Lease:
        """Extend a held lease from now. Raises ``RunLockedError`` if another run took it over
        (this run's lease expired and was stolen): the run must stop."""
        now = self._db.now()
        with self._db.isolated() as connection:
            result = connection.execute(
                run_locks.update()
                .where(run_locks.c.pair == lease.pair, run_locks.c.holder == lease.holder)
                .values(expires_at=now + ttl)
            )
            if result.rowcount != 1:
                row = connection.execute(
                    select(run_locks).where(run_locks.c.pair == lease.pair)
                ).first()
                if row is None:
                    raise StateError(f"the run lock for {lease.pair} was released by someone else")
                raise RunLockedError(lease.pair, row.holder, row.expires_at.isoformat())
        return Lease(
            pair=lease.pair,
            holder=lease.holder,
            acquired_at=lease.acquired_at,
            expires_at=now + ttl,
        )

    def release(self, lease: Lease) -> bool:
        """Give the lock back; ``False`` if this holder no longer had it."""
        with self._db.isolated() as connection:
            result = connection.execute(
                run_locks.delete().where(
                    run_locks.c.pair == lease.pair, run_locks.c.holder == lease.holder
                )
            )
        return result.rowcount == 1

    def current(self, pair: str) -> Lease | None:
        """Who holds (or last held, if expired) the lock for ``pair``."""
        with self._db.read() as connection:
            row = connection.execute(select(run_locks).where(run_locks.c.pair == pair)).first()
        if row is None:
            return None
        return Lease(
            pair=row.pair, holder=row.holder, acquired_at=row.acquired_at, expires_at=row.expires_at
        )

    @contextmanager
    def held(self, pair: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> Iterator[Lease]:
        """Acquire the lock for the block and release it afterwards, even on error."""
        lease = self.acquire(pair, holder, ttl)
        try:
            yield lease
        finally:
            self.release(lease)
