"""Stored activity and deals, attached to CRM person records and read back per person.

Activity is kept so that engagement can decay over time and be re-scored without fetching it
again; reading it per person goes through the link history, so a converted Lead's calls keep
counting for the person who is now a Contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.engine import Row

from connector.errors import System
from connector.funnel import SourceRef
from connector.state._db import Db, chunks, execute_rows, keyed_in, upsert
from connector.state._types import JsonValue
from connector.state.models import frozen_mapping
from connector.state.schema import activities, links

__all__ = ["ActivityStore", "ScoringActivity", "StoredActivity"]


@dataclass(frozen=True, slots=True)
class StoredActivity:
    """One activity (``category="activity"``) or deal (``"deal"``) on one person record.

    ``kind``/``direction``/``outcome`` use the canonical vocabulary of
    :mod:`connector.funnel.activity`; deals put ``open``/``won``/``lost`` in ``outcome``.
    """

    system: System
    activity_id: str
    record: SourceRef
    category: str
    kind: str
    direction: str
    outcome: str
    occurred_at: datetime | None
    detail: Mapping[str, JsonValue] = field(default_factory=frozen_mapping)
    deleted: bool = False


class ScoringActivity(NamedTuple):
    """The fields of a stored activity the rules read (see ``ActivityStore.for_scoring``)."""

    category: str
    kind: str
    direction: str
    outcome: str
    occurred_at: datetime | None


def _activity(row: Row[Any]) -> StoredActivity:
    system = System(row.system)
    return StoredActivity(
        system=system,
        activity_id=row.activity_id,
        record=SourceRef(system=system, object_type=row.record_type, record_id=row.record_id),
        category=row.category,
        kind=row.kind,
        direction=row.direction,
        outcome=row.outcome,
        occurred_at=row.occurred_at,
        detail=frozen_mapping(row.detail),
        deleted=row.deleted,
    )


_COLUMNS = ("category", "kind", "direction", "outcome", "occurred_at", "detail", "deleted")


# Activity joined to every link (open or closed) of the record it was logged against: a
# person's activity across every record they ever had.
_THROUGH_LINKS = activities.join(
    links,
    and_(
        links.c.system == activities.c.system,
        links.c.object_type == activities.c.record_type,
        links.c.record_id == activities.c.record_id,
    ),
)


class ActivityStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def put_many(self, items: Iterable[StoredActivity]) -> set[SourceRef]:
        """Insert or replace activities; return the person records whose activity changed."""
        now = self._db.now()
        rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for item in items:
            key = (
                item.system.value,
                item.activity_id,
                item.record.object_type,
                item.record.record_id,
            )
            rows[key] = {
                "system": item.system.value,
                "activity_id": item.activity_id,
                "record_type": item.record.object_type,
                "record_id": item.record.record_id,
                "category": item.category,
                "kind": item.kind,
                "direction": item.direction,
                "outcome": item.outcome,
                "occurred_at": item.occurred_at,
                "detail": dict(item.detail),
                "deleted": item.deleted,
                "updated_at": now,
            }
        if not rows:
            return set()
        changed: set[SourceRef] = set()
        with self._db.write() as connection:
            # By (system, activity id), the primary key's first columns; rows of the same
            # activity on other records come too and are simply not asked about.
            existing: dict[tuple[str, str, str, str], tuple[Any, ...]] = {}
            ids = {key[:2] for key in rows}
            for matching in keyed_in((activities.c.system, activities.c.activity_id), ids):
                for row in connection.execute(select(activities).where(matching)):
                    existing[(row.system, row.activity_id, row.record_type, row.record_id)] = tuple(
                        getattr(row, name) for name in _COLUMNS
                    )
            fresh = [
                values
                for key, values in rows.items()
                if existing.get(key) != tuple(values[name] for name in _COLUMNS)
            ]
            for values in fresh:
                changed.add(
                    SourceRef(
                        system=System(values["system"]),
                        object_type=values["record_type"],
                        record_id=values["record_id"],
                    )
                )
            if fresh:
                statement = upsert(connection, activities)
                statement = statement.on_conflict_do_update(
                    index_elements=[
                        activities.c.system,
                        activities.c.activity_id,
                        activities.c.record_type,
                        activities.c.record_id,
                    ],
                    set_={name: statement.excluded[name] for name in (*_COLUMNS, "updated_at")},
                )
                execute_rows(connection, statement, fresh)
        return changed

    def for_scoring(self, person_ids: Iterable[str]) -> dict[str, list[ScoringActivity]]:
        """What the rules read of each person's activity (as :meth:`for_people`, each activity
        once, in the same order), without the detail, the record or a model per row: the
        decide step reads every dirty person's activity on every run."""
        found: dict[str, dict[tuple[str, str], ScoringActivity]] = {}
        columns = (
            links.c.person_id,
            activities.c.system,
            activities.c.activity_id,
            activities.c.category,
            activities.c.kind,
            activities.c.direction,
            activities.c.outcome,
            activities.c.occurred_at,
        )
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = (
                    select(*columns)
                    .select_from(_THROUGH_LINKS)
                    .where(links.c.person_id.in_(batch), activities.c.deleted.is_(False))
                )
                for person, system, activity_id, *facts in connection.execute(query):
                    per_person = found.setdefault(person, {})
                    per_person.setdefault((system, activity_id), ScoringActivity(*facts))
        return {
            person: [
                item
                for _, item in sorted(
                    items.items(),
                    key=lambda pair: (
                        pair[1].occurred_at is None,
                        pair[1].occurred_at or datetime.min,
                        pair[0][1],
                    ),
                )
            ]
            for person, items in found.items()
        }

    def for_people(self, person_ids: Iterable[str]) -> dict[str, list[StoredActivity]]:
        """Each person's activity (not deleted) across every record they ever had."""
        found: dict[str, dict[tuple[str, str], StoredActivity]] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = (
                    select(links.c.person_id, activities)
                    .select_from(_THROUGH_LINKS)
                    .where(links.c.person_id.in_(batch), activities.c.deleted.is_(False))
                )
                for row in connection.execute(query):
                    item = _activity(row)
                    per_person = found.setdefault(row.person_id, {})
                    # An activity on two records of one person (Lead and Contact) counts once.
                    per_person.setdefault((item.system.value, item.activity_id), item)
        return {
            person: sorted(
                items.values(),
                key=lambda a: (a.occurred_at is None, a.occurred_at or datetime.min, a.activity_id),
            )
            for person, items in found.items()
        }
