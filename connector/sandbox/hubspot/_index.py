"""Search's view of the data: every record as it was ``lag`` ago (reference §1.5, §9).

HubSpot's CRM search reads an index that trails the database by seconds: a created or updated
record shows up in search (with its new ``lastmodifieddate``) only after the index catches up,
while reads by id and batch reads see the write at once (HubSpot/hubspot-api-php#59; the search
guide warns that new or updated records "can take a few moments" to appear). An archived record
likewise stays in search, as it was, until the index learns of the archive.

:class:`VersionIndex` reproduces that as versions: the store reports each write to a record
(``before`` it changes, with a way to copy its current state; ``after``, with the write's stamp
and the new state or ``None`` when the record left). Search then sees, per record, the newest
version at least ``lag`` old. Records with no pending write are read live, so with no lag
(unit tests) nothing is copied and search reads the live tables as before. Versions that every
search can see are dropped as soon as a newer one is old enough, so memory holds only the
writes of the last ``lag``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta

from connector.sandbox.hubspot._records import Record

__all__ = ["VersionIndex", "snapshot"]

# (stamp of the write, or None for "before the index started"; the record then, None if absent)
_Version = tuple[datetime | None, Record | None]


class VersionIndex:
    """Pending writes per object type and record id; callers hold the store lock."""

    def __init__(self) -> None:
        self.lag = timedelta(0)
        self.generation = 0
        """Moves whenever a pending write becomes visible: part of search's cache key."""
        self._versions: dict[str, dict[str, list[_Version]]] = {}
        self._pending: deque[tuple[datetime, str, str]] = deque()

    @property
    def active(self) -> bool:
        return self.lag > timedelta(0)

    def configure(self, lag: timedelta) -> None:
        """Set the lag; with none, forget every pending write (search reads live data)."""
        if lag < timedelta(0):
            raise ValueError("the search lag cannot be negative")
        self.lag = lag
        if not self.active:
            self._versions.clear()
            self._pending.clear()
            self.generation += 1

    def before(self, kind: str, record_id: str, current: Callable[[], Record | None]) -> None:
        """A write to ``record_id`` is about to happen: keep what search sees now, if no
        earlier pending write already did."""
        if self.active:
            self._versions.setdefault(kind, {}).setdefault(record_id, [(None, current())])

    def after(self, kind: str, record_id: str, stamp: datetime, state: Record | None) -> None:
        """The write stamped ``stamp`` left the record as ``state`` (``None``: not live)."""
        if not self.active:
            return
        versions = self._versions.setdefault(kind, {}).setdefault(record_id, [(None, None)])
        versions.append((stamp, state))
        self._pending.append((stamp, kind, record_id))
        self.settle(stamp)

    def settle(self, now: datetime) -> None:
        """Make visible every write at least ``lag`` old at ``now``."""
        cutoff = now - self.lag
        while self._pending and self._pending[0][0] <= cutoff:
            _, kind, record_id = self._pending.popleft()
            versions = self._versions.get(kind, {}).get(record_id)
            if versions is None:
                continue
            visible = max(
                i for i, (stamp, _) in enumerate(versions) if stamp is None or stamp <= cutoff
            )
            del versions[:visible]
            if len(versions) == 1:
                # Nothing pending: the live record is what the last write left.
                del self._versions[kind][record_id]
            self.generation += 1

    def visible(self, kind: str, live: Mapping[str, Record]) -> Iterator[Record]:
        """The records search sees (after :meth:`settle`): the live ones without a pending
        write, and for the others the version from before their pending writes."""
        versions = self._versions.get(kind, {})
        if not versions:
            yield from live.values()
            return
        for record_id, record in live.items():
            if record_id not in versions:
                yield record
        for entries in versions.values():
            state = entries[0][1]
            if state is not None:
                yield state


def snapshot(record: Record) -> Record:
    """A copy of ``record`` that later writes do not change (its history is not copied)."""
    return Record(
        record.id,
        record.num,
        dict(record.props),
        record.created_at,
        record.updated_at,
        record.archived_at,
    )
