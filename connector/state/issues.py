"""Identity issues: duplicates and merges crmsync will not resolve on its own, kept as state.

Whichever command first sees an issue (sync, plan, reconcile, the demo's drift step) records
it; later sightings count it again. It stays open until the data changes (the duplicate is
merged, deleted or re-addressed in the CRM and resolves cleanly) or an admin records a
decision (``crmsync identity resolve``). A decision holds: the same records seen again do not
reopen it. Rows hold record ids and person ids only, never names or addresses.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Row

from connector.errors import StateError
from connector.state._db import Db, chunks
from connector.state.schema import identity_issues

__all__ = ["DATA_CHANGED", "IdentityIssueStore", "IssueSeen", "StoredIssue"]

DATA_CHANGED = "data_changed"
"""The resolution recorded when the records involved now resolve cleanly by themselves."""


@dataclass(frozen=True, slots=True)
class IssueSeen:
    """An issue as a command found it. ``record`` and ``other`` are ``system:object:id``."""

    kind: str
    record: str
    detail: str
    other: str | None = None
    people: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return ":".join((self.kind, self.record, self.other or ""))


@dataclass(frozen=True, slots=True)
class StoredIssue:
    id: int
    kind: str
    record: str
    other: str | None
    people: tuple[str, ...]
    detail: str
    first_seen_at: datetime
    last_seen_at: datetime
    first_run_id: str | None
    times_seen: int
    resolved_at: datetime | None
    resolution: str | None
    note: str | None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


def _issue(row: Row[Any]) -> StoredIssue:
    return StoredIssue(
        id=row.id,
        kind=row.kind,
        record=row.record,
        other=row.other,
        people=tuple(row.people or ()),
        detail=row.detail,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        first_run_id=row.first_run_id,
        times_seen=row.times_seen,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
        note=row.note,
    )


class IdentityIssueStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def seen(self, found: Iterable[IssueSeen], *, run_id: str | None = None) -> int:
        """Record issues a command saw; returns how many were new. An issue resolved because
        the data changed opens again when it is seen again; a decision holds."""
        wanted = {issue.key: issue for issue in found}
        if not wanted:
            return 0
        now = self._db.now()
        new = 0
        with self._db.transaction(), self._db.write() as connection:
            existing: dict[str, Row[Any]] = {}
            for batch in chunks(wanted):
                query = select(identity_issues).where(identity_issues.c.key.in_(batch))
                existing.update({row.key: row for row in connection.execute(query)})
            for key, issue in wanted.items():
                row = existing.get(key)
                if row is None:
                    connection.execute(
                        identity_issues.insert().values(
                            kind=issue.kind,
                            key=key,
                            record=issue.record,
                            other=issue.other,
                            people=list(issue.people),
                            detail=issue.detail[:500],
                            first_seen_at=now,
                            last_seen_at=now,
                            first_run_id=run_id,
                            times_seen=1,
                        )
                    )
                    new += 1
                    continue
                reopen = row.resolved_at is not None and row.resolution == DATA_CHANGED
                values: dict[str, Any] = {
                    "last_seen_at": now,
                    "times_seen": row.times_seen + 1,
                    "detail": issue.detail[:500],
                    "people": list(issue.people) or row.people,
                }
                if reopen:
                    values.update(resolved_at=None, resolution=None)
                connection.execute(
                    identity_issues.update().where(identity_issues.c.id == row.id).values(values)
                )
        return new

    def list(
        self, *, include_resolved: bool = False, limit: int | None = None
    ) -> list[StoredIssue]:
        query = select(identity_issues).order_by(identity_issues.c.id)
        if not include_resolved:
            query = query.where(identity_issues.c.resolved_at.is_(None))
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as connection:
            return [_issue(row) for row in connection.execute(query)]

    def get(self, issue_id: int) -> StoredIssue | None:
        query = select(identity_issues).where(identity_issues.c.id == issue_id)
        with self._db.read() as connection:
            row = connection.execute(query).first()
        return _issue(row) if row is not None else None

    def resolve(self, issue_id: int, resolution: str, note: str | None = None) -> StoredIssue:
        """Record a decision (or that the data changed) for one issue."""
        with self._db.write() as connection:
            result = connection.execute(
                identity_issues.update()
                .where(identity_issues.c.id == issue_id)
                .values(resolved_at=self._db.now(), resolution=resolution, note=note)
            )
        if result.rowcount != 1:
            raise StateError(f"no identity issue {issue_id}")
        found = self.get(issue_id)
        assert found is not None
        return found

    def open_for_records(self, records: Iterable[str]) -> builtins.list[StoredIssue]:
        """Open issues naming any of these records (as ``record`` or ``other``)."""
        found: dict[int, StoredIssue] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(records)):
                query = select(identity_issues).where(
                    identity_issues.c.resolved_at.is_(None),
                    or_(identity_issues.c.record.in_(batch), identity_issues.c.other.in_(batch)),
                )
                found.update({row.id: _issue(row) for row in connection.execute(query)})
        return sorted(found.values(), key=lambda issue: issue.id)

    def decided(self, records: Sequence[str], kind: str) -> dict[str, StoredIssue]:
        """Issues of ``kind`` about these records that an admin decided (not the data)."""
        found: dict[str, StoredIssue] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(records)):
                query = select(identity_issues).where(
                    identity_issues.c.kind == kind,
                    identity_issues.c.record.in_(batch),
                    identity_issues.c.resolved_at.is_not(None),
                    identity_issues.c.resolution != DATA_CHANGED,
                )
                found.update({row.record: _issue(row) for row in connection.execute(query)})
        return found

    def resolved_by_data(self, issue_ids: Iterable[int]) -> int:
        ids = list(dict.fromkeys(issue_ids))
        changed = 0
        with self._db.write() as connection:
            for batch in chunks(ids):
                changed += connection.execute(
                    identity_issues.update()
                    .where(identity_issues.c.id.in_(batch), identity_issues.c.resolved_at.is_(None))
                    .values(resolved_at=self._db.now(), resolution=DATA_CHANGED)
                ).rowcount
        return changed

    def counts(self) -> Counter[str]:
        """Open issues by kind."""
        query = (
            select(identity_issues.c.kind, func.count())
            .where(identity_issues.c.resolved_at.is_(None))
            .group_by(identity_issues.c.kind)
        )
        with self._db.read() as connection:
            return Counter({kind: count for kind, count in connection.execute(query)})
