"""Records and per-type tables: ids, unique-value indexes, merges; who wrote each value."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from connector.sandbox.hubspot._schema import PropertyDef
from connector.sandbox.hubspot._values import iso

__all__ = [
    "CALCULATED",
    "HistoryEntry",
    "ObjectTable",
    "Record",
    "WriteSource",
    "first_entry",
    "merge_lists",
]


@dataclass(frozen=True, slots=True)
class WriteSource:
    """Who wrote a value, as ``propertiesWithHistory`` reports it (spec ``ValueWithTimestamp``).

    An app writing through the API is ``INTEGRATION`` with the app's id as ``sourceId``; a user in
    HubSpot's UI is ``CRM_UI`` with ``sourceId`` ``userId:<id>`` and ``updatedByUserId``; values
    HubSpot derives itself are ``CALCULATED``.
    """

    type: str
    id: str | None = None
    user_id: int | None = None

    @classmethod
    def app(cls, app_id: str) -> WriteSource:
        return cls("INTEGRATION", app_id)

    @classmethod
    def user(cls, user_id: int) -> WriteSource:
        return cls("CRM_UI", f"userId:{user_id}", user_id)


CALCULATED = WriteSource("CALCULATED")


class HistoryEntry(NamedTuple):
    value: str
    timestamp: str  # ISO, the moment of the write
    source: WriteSource


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
    """Values written through the emulator, newest first; ``None`` for a seeded record that
    nothing has written to since (its values then answer :func:`first_entry`)."""


def first_entry(record: Record, name: str, *, calculated: bool) -> HistoryEntry | None:
    """The history of a value the emulator did not see written (seeded, or set by HubSpot).

    A seeded value dates from the record's creation, a lifecycle stage from the
    ``hs_lifecyclestage_<stage>_date`` HubSpot keeps for it; values HubSpot derives date from
    the record's last change. Never the time of some later, unrelated write.
    """
    value = record.props.get(name)
    if not value:
        return None
    if calculated:
        return HistoryEntry(value, iso(record.updated_at), CALCULATED)
    when = record.props.get(f"hs_lifecyclestage_{value}_date") if name == "lifecyclestage" else None
    return HistoryEntry(value, when or iso(record.created_at), WriteSource("CRM_UI"))


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


def merge_lists(table: ObjectTable, primary: Record, secondary: Record, stamp: datetime) -> None:
    """The survivor of a merge lists what it absorbed: merged ids, merged contact ids with the
    merge's time, and the secondary's e-mail addresses (which keep finding the survivor)."""

    def listed(record: Record, name: str) -> list[str]:
        return [v for v in record.props.get(name, "").split(";") if v]

    merged = [*listed(primary, "hs_merged_object_ids"), secondary.id]
    merged += listed(secondary, "hs_merged_object_ids")
    primary.props["hs_merged_object_ids"] = ";".join(merged)
    if table.name != "contacts":
        return
    millis = str(int(stamp.timestamp() * 1000))
    vids = [*listed(primary, "hs_calculated_merged_vids"), f"{secondary.id}:{millis}"]
    vids += listed(secondary, "hs_calculated_merged_vids")
    primary.props["hs_calculated_merged_vids"] = ";".join(vids)
    emails = listed(primary, "hs_additional_emails") + listed(secondary, "hs_additional_emails")
    if secondary.props.get("email"):
        emails.append(secondary.props["email"])
        # Secondary addresses still find the contact, as HubSpot's lookups do.
        table.unique.setdefault("email", {})[secondary.props["email"].lower()] = primary.id
    if emails:
        primary.props["hs_additional_emails"] = ";".join(emails)
