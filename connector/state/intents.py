"""Write intents: what a run is about to send, journalled before it goes out.

The engine writes a chunk's intents in the same transaction that records its decisions, then
sends the chunk; recording the answers removes them. A run killed in between (``kill -9``, a
lost machine) leaves its intents behind. The next run, once it has pulled, confirms each one
against the record as the CRM now holds it: a record that holds every intended value and
changed after the intent was written received the write. Confirmed writes are recorded as
crmsync's own (so their echo is never taken for a user's edit, or a stage set by hand) and
counted to the dead run; the rest did not land and are simply planned again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row

from connector.errors import System
from connector.funnel import SourceRef
from connector.state._db import Db, execute_rows, keyed_in
from connector.state._types import JsonValue
from connector.state.models import frozen_mapping
from connector.state.schema import write_intents

__all__ = ["IntentStore", "WriteIntent"]


@dataclass(frozen=True, slots=True)
class WriteIntent:
    """One record's write about to go out: ``intended`` maps each field mapping to the
    canonical value it will hold. For a create, ``ref.record_id`` is the person id."""

    run_id: str
    ref: SourceRef
    kind: str
    person_id: str
    intended: Mapping[str, JsonValue]
    sent_at: datetime


def _intent(row: Row[Any]) -> WriteIntent:
    return WriteIntent(
        run_id=row.run_id,
        ref=SourceRef(
            system=System(row.system), object_type=row.object_type, record_id=row.record_id
        ),
        kind=row.kind,
        person_id=row.person_id,
        intended=frozen_mapping(row.intended),
        sent_at=row.sent_at,
    )


class IntentStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def put_many(self, intents: Iterable[WriteIntent]) -> int:
        rows = {
            (i.run_id, i.ref.system.value, i.ref.object_type, i.ref.record_id): {
                "run_id": i.run_id,
                "system": i.ref.system.value,
                "object_type": i.ref.object_type,
                "record_id": i.ref.record_id,
                "kind": i.kind,
                "person_id": i.person_id,
                "intended": dict(i.intended),
                "sent_at": i.sent_at,
            }
            for i in intents
        }
        if not rows:
            return 0
        with self._db.write() as connection:
            # A record planned twice in one run (a catch-up round) keeps one intent.
            self._drop(connection, rows)
            execute_rows(connection, write_intents.insert(), list(rows.values()))
        return len(rows)

    def drop(self, run_id: str, refs: Iterable[SourceRef]) -> int:
        """The answers for these records are recorded: their intents are done."""
        keys = {(run_id, r.system.value, r.object_type, r.record_id) for r in refs}
        with self._db.write() as connection:
            return self._drop(connection, keys)

    def _drop(self, connection: Any, keys: Iterable[tuple[str, str, str, str]]) -> int:
        key = (
            write_intents.c.run_id,
            write_intents.c.system,
            write_intents.c.object_type,
            write_intents.c.record_id,
        )
        dropped = 0
        for matching in keyed_in(key, set(keys)):
            dropped += connection.execute(delete(write_intents).where(matching)).rowcount
        return dropped

    def left_by_other_runs(self, run_id: str) -> list[WriteIntent]:
        """Intents of runs other than ``run_id``: runs that died with writes in flight (call
        it holding the run lock, so no other run is live)."""
        query = (
            select(write_intents)
            .where(write_intents.c.run_id != run_id)
            .order_by(write_intents.c.run_id, write_intents.c.sent_at)
        )
        with self._db.read() as connection:
            return [_intent(row) for row in connection.execute(query)]

    def clear_runs(self, run_ids: Iterable[str]) -> int:
        with self._db.write() as connection:
            return connection.execute(
                delete(write_intents).where(write_intents.c.run_id.in_(list(set(run_ids))))
            ).rowcount
