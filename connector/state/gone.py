"""CRM records that are gone (deleted, archived, merged away, missing), and tombstones.

A record crmsync has linked and then sees go never comes back through crmsync: the sync
engine does not re-create it (unless the delete policy is ``recreate``), and a late echo of it
(a lagging search index answering the record as it was before it went) is told from a real
restore by its time: only a version newer than the deletion resumes syncing, under its old
person. A person all of whose records are gone is a tombstone: the people row keeps its id
and nothing personal, so the ids alone still block a resurrection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Row

from connector.errors import System
from connector.funnel import SourceRef
from connector.state._db import Db, chunks, keyed_in, upsert
from connector.state.schema import gone_records, people

__all__ = ["GoneHow", "GoneRecord", "GoneStore"]


class GoneHow(StrEnum):
    """How a record left its CRM."""

    DELETED = "deleted"  # Salesforce recycle bin (queryAll ``IsDeleted``)
    PURGED = "purged"  # Salesforce getDeleted: gone from the recycle bin before a run saw it
    ARCHIVED = "archived"  # HubSpot archive
    MERGED = "merged"  # merged into another record (``survivor_id``)
    MISSING = "missing"  # the CRM answered "no such record" to a write or a read by id
    CONVERTED = "converted"  # a Lead converted into a Contact kept apart from its person
    NOT_CREATED = "not_created"  # an admin decided the person stays out of this CRM


@dataclass(frozen=True, slots=True)
class GoneRecord:
    ref: SourceRef
    person_id: str
    how: GoneHow
    gone_at: datetime
    seen_at: datetime | None = None
    survivor_id: str | None = None
    by_crmsync: bool = False


def _gone(row: Row[Any]) -> GoneRecord:
    return GoneRecord(
        ref=SourceRef(
            system=System(row.system), object_type=row.object_type, record_id=row.record_id
        ),
        person_id=row.person_id,
        how=GoneHow(row.how),
        gone_at=row.gone_at,
        seen_at=row.seen_at,
        survivor_id=row.survivor_id,
        by_crmsync=row.by_crmsync,
    )


def _key(ref: SourceRef) -> tuple[str, str, str]:
    return (ref.system.value, ref.object_type, ref.record_id)


_KEY = (gone_records.c.system, gone_records.c.object_type, gone_records.c.record_id)


class GoneStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, items: Iterable[GoneRecord]) -> int:
        """Remember records as gone (one statement). A record already remembered keeps its
        first person and time; returns how many were given."""
        rows = {
            _key(item.ref): {
                "system": item.ref.system.value,
                "object_type": item.ref.object_type,
                "record_id": item.ref.record_id,
                "person_id": item.person_id,
                "how": item.how.value,
                "gone_at": item.gone_at,
                "seen_at": item.seen_at or self._db.now(),
                "survivor_id": item.survivor_id,
                "by_crmsync": item.by_crmsync,
            }
            for item in items
        }
        if not rows:
            return 0
        with self._db.write() as connection:
            statement = upsert(connection, gone_records).on_conflict_do_nothing(
                index_elements=list(_KEY)
            )
            connection.execute(statement, list(rows.values()))
        return len(rows)

    def get_many(self, refs: Iterable[SourceRef]) -> dict[SourceRef, GoneRecord]:
        found: dict[SourceRef, GoneRecord] = {}
        with self._db.read() as connection:
            for matching in keyed_in(_KEY, {_key(ref) for ref in refs}):
                for row in connection.execute(select(gone_records).where(matching)):
                    item = _gone(row)
                    found[item.ref] = item
        return found

    def for_people(self, person_ids: Iterable[str]) -> dict[str, list[GoneRecord]]:
        """The gone records of many people (one query per thousand)."""
        found: dict[str, list[GoneRecord]] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = select(gone_records).where(gone_records.c.person_id.in_(batch))
                for row in connection.execute(query):
                    found.setdefault(row.person_id, []).append(_gone(row))
        return found

    def restore(self, refs: Iterable[SourceRef]) -> int:
        """Forget that these records were gone (they came back); returns how many were."""
        restored = 0
        with self._db.write() as connection:
            for matching in keyed_in(_KEY, {_key(ref) for ref in refs}):
                restored += connection.execute(delete(gone_records).where(matching)).rowcount
        return restored

    def counts(self) -> Counter[str]:
        """Gone records by ``system.how``, for ``status`` and the metrics."""
        query = select(gone_records.c.system, gone_records.c.how, func.count()).group_by(
            gone_records.c.system, gone_records.c.how
        )
        with self._db.read() as connection:
            return Counter({f"{s}.{h}": n for s, h, n in connection.execute(query)})

    def tombstones(self) -> int:
        """People all of whose records are gone."""
        query = select(func.count()).select_from(people).where(people.c.tombstoned_at.is_not(None))
        with self._db.read() as connection:
            return int(connection.execute(query).scalar_one())
