"""Records and per-type tables: ids, unique-value indexes, merges."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from connector.sandbox.hubspot._schema import PropertyDef

__all__ = ["HistoryEntry", "ObjectTable", "Record"]

HistoryEntry = tuple[str, str, str]  # (value, ISO timestamp, sourceType)


@dataclass(slots=True)
class Record:
    """One CRM object. ``props`` holds only non-empty values, all strings."""

    id: str
    num: int
    props: dict[str, str]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    history: dict[str, list[HistoryEntry]] | None = None


@dataclass(slots=True)
class ObjectTable:
    """All records of one object type, with the indexes reads need."""

    name: str
    properties: dict[str, PropertyDef]
    live: dict[str, Record] = field(default_factory=dict)
    archived: dict[str, Record] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # every id ever issued here, ascending
    unique: dict[str, dict[str, str]] = field(default_factory=dict)  # prop -> value -> id
    merged_into: dict[str, str] = field(default_factory=dict)
    _unique_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute derived data after the property definitions change."""
        names = [p.name for p in self.properties.values() if p.has_unique_value]
        if self.name == "contacts":
            names.append("email")
        self._unique_names = tuple(names)

    def unique_names(self) -> tuple[str, ...]:
        """Properties whose values identify one record (``email`` and ``hasUniqueValue``)."""
        return self._unique_names

    def add(self, record: Record) -> None:
        self.live[record.id] = record
        if not self.order or record.num > self.order[-1]:
            self.order.append(record.num)
        else:
            bisect.insort(self.order, record.num)
        for name in self.unique_names():
            value = record.props.get(name)
            if value:
                self.unique.setdefault(name, {})[value.lower()] = record.id

    def owner_of(self, name: str, value: str) -> str | None:
        """Id of the live record holding ``value`` in unique property ``name``."""
        owner = self.unique.get(name, {}).get(value.lower())
        return owner if owner in self.live else None

    def reindex(self, record: Record, name: str, old: str, new: str) -> None:
        index = self.unique.setdefault(name, {})
        if old and index.get(old.lower()) == record.id:
            del index[old.lower()]
        if new:
            index[new.lower()] = record.id

    def resolve(self, object_id: str) -> Record | None:
        """The live record for an id, following merges (a merged id answers the survivor)."""
        seen = 0
        while object_id in self.merged_into and seen < 64:
            object_id = self.merged_into[object_id]
            seen += 1
        return self.live.get(object_id)

    def ids_after(
        self, after: int, limit: int, *, archived: bool
    ) -> tuple[list[Record], int | None]:
        """Up to ``limit`` records with id ``>= after`` in id order, and the next ``after``."""
        pool = self.archived if archived else self.live
        out: list[Record] = []
        index = bisect.bisect_left(self.order, after)
        while index < len(self.order):
            record = pool.get(str(self.order[index]))
            if record is not None:
                if len(out) == limit:
                    return out, record.num
                out.append(record)
            index += 1
        return out, None
