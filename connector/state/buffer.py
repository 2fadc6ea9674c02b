"""The sync engine's buffer: the last observed values of every CRM person record, and the set
of people whose records changed and still need merging.

``record`` stores a page of pulled records and answers which people changed, in a bounded
number of statements; the engine merges those people and ``settle`` records what each CRM
holds afterwards. A pulled record equal to what is stored (the echo of crmsync's own write)
changes nothing and dirties nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Row

from connector.errors import System
from connector.funnel import SourceRef
from connector.state._db import Db, chunks, execute_rows, keyed_in, upsert
from connector.state._types import JsonValue
from connector.state.models import frozen_mapping
from connector.state.schema import dirty_people, observations

__all__ = ["DirtyStore", "NewObservation", "ObservationStore", "Observed"]


@dataclass(frozen=True, slots=True)
class NewObservation:
    ref: SourceRef
    person_id: str
    modified_at: datetime
    values: Mapping[str, JsonValue]
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Observed:
    """A record as last pulled (``values``) and as last merged (``merged``; None: never)."""

    ref: SourceRef
    person_id: str
    modified_at: datetime
    values: Mapping[str, JsonValue]
    merged: Mapping[str, JsonValue] | None
    deleted: bool


def _observed(row: Row[Any]) -> Observed:
    return Observed(
        ref=SourceRef(
            system=System(row.system), object_type=row.object_type, record_id=row.record_id
        ),
        person_id=row.person_id,
        modified_at=row.modified_at,
        values=frozen_mapping(row.record_values),
        merged=None if row.merged_values is None else frozen_mapping(row.merged_values),
        deleted=row.deleted,
    )


def _key(ref: SourceRef) -> tuple[str, str, str]:
    return (ref.system.value, ref.object_type, ref.record_id)


class ObservationStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def get_many(self, refs: Iterable[SourceRef]) -> dict[SourceRef, Observed]:
        found: dict[SourceRef, Observed] = {}
        key = (observations.c.system, observations.c.object_type, observations.c.record_id)
        with self._db.read() as connection:
            for matching in keyed_in(key, {_key(ref) for ref in refs}):
                for row in connection.execute(select(observations).where(matching)):
                    value = _observed(row)
                    found[value.ref] = value
        return found

    def record(self, items: Iterable[NewObservation]) -> set[str]:
        """Store pulled records; return the people whose records are new or changed."""
        wanted = {item.ref: item for item in items}
        if not wanted:
            return set()
        stored = self.get_many(wanted)
        now = self._db.now()
        rows: list[dict[str, Any]] = []
        changed: set[str] = set()
        for ref, item in wanted.items():
            before = stored.get(ref)
            values = dict(item.values)
            if (
                before is not None
                and before.person_id == item.person_id
                and before.deleted == item.deleted
                and dict(before.values) == values
            ):
                continue
            if (
                before is not None
                and before.person_id == item.person_id
                and item.modified_at < before.modified_at
            ):
                # Older than the version already stored (a search index trailing the CRM's
                # writes answers records as they were): stale, never an edit.
                continue
            changed.add(item.person_id)
            rows.append(
                {
                    "system": ref.system.value,
                    "object_type": ref.object_type,
                    "record_id": ref.record_id,
                    "person_id": item.person_id,
                    "modified_at": item.modified_at,
                    "record_values": values,
                    "merged_values": None if before is None else dict(before.merged or {}) or None,
                    "deleted": item.deleted,
                    "updated_at": now,
                }
            )
        if rows:
            self._upsert(rows, keep_merged=True)
        return changed

    def _upsert(self, rows: list[dict[str, Any]], *, keep_merged: bool) -> None:
        with self._db.write() as connection:
            statement = upsert(connection, observations)
            columns = ["person_id", "modified_at", "record_values", "deleted", "updated_at"]
            if not keep_merged:
                columns.append("merged_values")
            statement = statement.on_conflict_do_update(
                index_elements=[
                    observations.c.system,
                    observations.c.object_type,
                    observations.c.record_id,
                ],
                set_={name: statement.excluded[name] for name in columns},
            )
            execute_rows(connection, statement, rows)

    def forget_baselines(self, person_id: str) -> int:
        """Forget what this person's records held when last merged: the next merge of their
        fields is a first sight (a value beats a blank, the latest change wins)."""
        with self._db.write() as connection:
            return connection.execute(
                observations.update()
                .where(observations.c.person_id == person_id)
                .values(merged_values=None)
            ).rowcount

    def for_people(self, person_ids: Iterable[str]) -> dict[str, list[Observed]]:
        """Every stored record of these people (deleted ones included), by person."""
        found: dict[str, list[Observed]] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = select(observations).where(observations.c.person_id.in_(batch))
                for row in connection.execute(query.order_by(observations.c.record_id)):
                    value = _observed(row)
                    found.setdefault(value.person_id, []).append(value)
        return found

    def settle(self, items: Iterable[tuple[Observed, Mapping[str, JsonValue]]]) -> int:
        """After a merge: each record now holds ``values`` (what it had plus what crmsync
        wrote), and that is the baseline for telling the next edit apart."""
        now = self._db.now()
        rows = [
            {
                "system": observed.ref.system.value,
                "object_type": observed.ref.object_type,
                "record_id": observed.ref.record_id,
                "person_id": observed.person_id,
                "modified_at": observed.modified_at,
                "record_values": dict(values),
                "merged_values": dict(values),
                "deleted": observed.deleted,
                "updated_at": now,
            }
            for observed, values in items
        ]
        if rows:
            self._upsert(rows, keep_merged=False)
        return len(rows)

    def count(self) -> int:
        with self._db.read() as connection:
            return int(
                connection.execute(select(func.count()).select_from(observations)).scalar_one()
            )


class DirtyStore:
    """People whose records or activity changed and who must be merged and evaluated."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def mark(self, person_ids: Iterable[str], reason: str) -> int:
        ids = list(dict.fromkeys(person_ids))
        if not ids:
            return 0
        now = self._db.now()
        with self._db.write() as connection:
            statement = upsert(connection, dirty_people).on_conflict_do_nothing(
                index_elements=[dirty_people.c.person_id]
            )
            connection.execute(
                statement, [{"person_id": pid, "reason": reason, "since": now} for pid in ids]
            )
        return len(ids)

    def take(self, limit: int, *, after: str = "") -> list[str]:
        """Up to ``limit`` dirty people with ids after ``after``, in id order (stable paging)."""
        query = (
            select(dirty_people.c.person_id)
            .where(dirty_people.c.person_id > after)
            .order_by(dirty_people.c.person_id)
            .limit(limit)
        )
        with self._db.read() as connection:
            return list(connection.execute(query).scalars())

    def clear(self, person_ids: Iterable[str]) -> int:
        total = 0
        with self._db.write() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                total += connection.execute(
                    delete(dirty_people).where(dirty_people.c.person_id.in_(batch))
                ).rowcount
        return total

    def count(self) -> int:
        with self._db.read() as connection:
            return int(
                connection.execute(select(func.count()).select_from(dirty_people)).scalar_one()
            )
