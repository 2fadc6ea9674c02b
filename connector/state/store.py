"""``StateStore``: the one entry point to crmsync's persistent state.

::

    store = StateStore.open(settings.state_url)          # migrates to the newest schema
    with store.locks.held(pair, holder) as lease:
        run = store.runs.start("sync")
        for page in pages:
            with store.transaction():                    # a page commits atomically
                store.people.upsert_many(...)
                store.provenance.put_many(...)
                store.cursors.commit(...)
            lease = store.locks.renew(lease)
        store.runs.finish(run.id, RunOutcome.SUCCEEDED, counts=...)

Every part (``people``, ``links``, ``cursors``, ``provenance``, ``runs``, ``transitions``,
``dead_letters``, ``keys``) commits each call on its own, or joins the calling thread's
:meth:`StateStore.transaction`. The run lock always commits on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from connector.funnel import normalise_email
from connector.settings import Settings
from connector.state import _migrate
from connector.state._db import Db
from connector.state._engine import create_state_engine, normalise_url, store_name
from connector.state._failures import database_failure
from connector.state._forget import (
    erase_personal_data,
    forget_people,
    people_for_email,
    related_people,
)
from connector.state._types import Clock, system_clock
from connector.state.activities import ActivityStore
from connector.state.buffer import DirtyStore, ObservationStore
from connector.state.cursors import CursorStore
from connector.state.dead_letters import DeadLetterStore
from connector.state.gone import GoneStore
from connector.state.intents import IntentStore
from connector.state.issues import IdentityIssueStore
from connector.state.keys import KeyStore
from connector.state.links import LinkStore
from connector.state.locks import RunLocks
from connector.state.models import Backoff, ForgetResult
from connector.state.people import PeopleStore
from connector.state.provenance import ProvenanceStore
from connector.state.runs import RunStore, TransitionStore

__all__ = ["StateStore"]


class StateStore:
    """Canonical people, links, cursors, provenance, runs, audit, dead letters and run locks."""

    def __init__(self, engine: Engine, *, clock: Clock = system_clock, backoff: Backoff) -> None:
        """Use :meth:`open`; this constructor expects an engine at the current schema."""
        self._db = Db(engine, clock)
        self.people = PeopleStore(self._db)
        self.links = LinkStore(self._db)
        self.cursors = CursorStore(self._db)
        self.provenance = ProvenanceStore(self._db)
        self.runs = RunStore(self._db)
        self.transitions = TransitionStore(self._db)
        self.dead_letters = DeadLetterStore(self._db, backoff)
        self.locks = RunLocks(self._db)
        self.observations = ObservationStore(self._db)
        self.dirty = DirtyStore(self._db)
        self.activities = ActivityStore(self._db)
        self.gone = GoneStore(self._db)
        self.intents = IntentStore(self._db)
        self.issues = IdentityIssueStore(self._db)
        self.keys = KeyStore(self._db)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        clock: Clock = system_clock,
        migrate: bool = True,
        busy_timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> StateStore:
        """Open the store at ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

        With ``migrate`` (the default) the schema is upgraded to the newest revision; without
        it, a database not exactly at that revision is refused. A database whose schema is
        newer than this code is always refused with ``StateError``.
        """
        parsed = normalise_url(url)
        engine = create_state_engine(parsed, busy_timeout=busy_timeout)
        try:
            if migrate:
                _migrate.upgrade(engine)
            else:
                _migrate.verify(engine)
        except DBAPIError as exc:
            engine.dispose()
            raise database_failure(store_name(parsed), exc, opening=True) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock=clock, backoff=backoff or Backoff())

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = system_clock) -> StateStore:
        """Open the store ``settings.state_url`` names."""
        return cls.open(settings.state_url, clock=clock)

    @property
    def engine(self) -> Engine:
        return self._db.engine

    def schema_revision(self) -> str | None:
        with self._db.read() as connection:
            return _migrate.current_revision(connection)

    def transaction(self) -> AbstractContextManager[None]:
        """Make every store call in the block, on this thread, one atomic transaction.

        Nested blocks become savepoints. On SQLite the block holds the database's write lock,
        so keep it to one page of work.
        """
        return self._db.transaction()

    def tombstone(self, person_ids: Sequence[str]) -> int:
        """Keep these people (all of whose records are gone) as tombstones: the people row
        with its id, their links and gone records (ids), nothing personal. Returns how many."""
        if not person_ids:
            return 0
        with self._db.transaction(), self._db.write() as connection:
            erase_personal_data(connection, set(person_ids))
            return self.people.tombstone(person_ids)

    def forget(self, email: str) -> ForgetResult:
        """Erase the person (or people) with this email, and those merged with them, and every
        row about them: links, provenance, stage transitions, dead letters. Returns counts."""
        normalised = normalise_email(email)
        with self._db.transaction(), self._db.write() as connection:
            return forget_people(connection, people_for_email(connection, normalised))

    def forget_person(self, person_id: str) -> ForgetResult:
        """Erase one person by id (a tombstone has no e-mail left to find it by), those merged
        with them, and every row about them."""
        with self._db.transaction(), self._db.write() as connection:
            return forget_people(connection, related_people(connection, {person_id}))

    def close(self) -> None:
        self._db.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
