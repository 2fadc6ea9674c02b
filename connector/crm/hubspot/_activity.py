"""Contact activity: engagements and deals through associations v4 batch reads (≤100 inputs,
per-input paging) plus batch reads of their properties; form conversions and page views from
the contact's own properties.

Calls: per engagement type, ``ceil(contacts / 100)`` association reads and
``ceil(engagements / 100)`` batch reads (ids gather across contact chunks until a batch is
full). The contacts' conversion properties cost one batch read per 100 contacts, unless this
run's incremental search already returned them (:class:`WindowActivity`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from datetime import datetime
from typing import Any

from connector.crm.budget import bounded_map
from connector.crm.hubspot._pull import MAX_BATCH, BatchRead, epoch_ms, parse_instant
from connector.crm.types import ActivityRecord, FieldValue
from connector.errors import System

__all__ = [
    "ACTIVITY_STAMP",
    "CONVERSION_PROPERTIES",
    "ENGAGEMENT_PROPERTIES",
    "MAX_BATCH",
    "WindowActivity",
    "pull_activity",
]

#: "Last Activity Date": HubSpot sets it when an engagement is logged against the contact.
ACTIVITY_STAMP = "notes_last_updated"

ENGAGEMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "emails": ("hs_timestamp", "hs_email_direction", "hs_email_status", "hs_email_subject"),
    "calls": (
        "hs_timestamp",
        "hs_call_direction",
        "hs_call_status",
        "hs_call_disposition",
        "hs_call_duration",
        "hs_call_title",
    ),
    "meetings": (
        "hs_timestamp",
        "hs_meeting_outcome",
        "hs_meeting_start_time",
        "hs_meeting_end_time",
        "hs_meeting_title",
    ),
    "notes": ("hs_timestamp",),
    "tasks": (
        "hs_timestamp",
        "hs_task_status",
        "hs_task_type",
        "hs_task_subject",
        "hs_task_priority",
    ),
    "deals": (
        "dealname",
        "dealstage",
        "pipeline",
        "amount",
        "closedate",
        "hs_is_closed",
        "hs_is_closed_won",
        "createdate",
    ),
}

CONVERSION_PROPERTIES = (
    "num_conversion_events",
    "first_conversion_date",
    "first_conversion_event_name",
    "recent_conversion_date",
    "recent_conversion_event_name",
    "hs_analytics_num_page_views",
    "hs_analytics_num_visits",
)

Associations = Callable[[str, list[dict[str, Any]]], dict[str, Any]]


class WindowActivity:
    """What one run's contact search saw that the activity pull needs.

    * contacts whose Last Activity Date falls in an incremental window: an engagement was
      logged against them, though their record may hold nothing new (the echo of crmsync's own
      write looks the same), so their activity is read too;
    * the conversion properties of the contacts searched, so that reading their form
      submissions and page views costs no call. At most ``cap`` contacts are kept, as compact
      tuples taken out again when read (a few MB however large the portal); contacts beyond
      the cap are batch-read, 100 per call.
    """

    properties = (ACTIVITY_STAMP, *CONVERSION_PROPERTIES)

    def __init__(self, cap: int = 20_000) -> None:
        self.active: set[str] = set()
        self.conversions: dict[str, tuple[Any, ...]] = {}
        self._cap = cap

    def watch(self, start: datetime | None) -> Callable[[dict[str, Any]], None]:
        """The row observer for a search of the window opening at ``start`` (None: all)."""
        since_ms = None if start is None else epoch_ms(start)

        def observe(row: dict[str, Any]) -> None:
            props = row.get("properties") or {}
            contact = str(row["id"])
            stamp = props.get(ACTIVITY_STAMP)
            if since_ms is not None and stamp and epoch_ms(parse_instant(stamp)) >= since_ms:
                self.active.add(contact)
            if contact in self.conversions or len(self.conversions) < self._cap:
                values = tuple(props.get(name) for name in CONVERSION_PROPERTIES)
                self.conversions[contact] = values if _converted(values) else ()

        return observe

    def wanted(self, contact_ids: Sequence[str]) -> list[str]:
        """``contact_ids`` and the contacts with activity logged in the window, taken out: a
        second activity read in the run (for contacts read by id) does not repeat them."""
        active, self.active = self.active, set()
        return list(dict.fromkeys([*contact_ids, *sorted(active)]))


def _converted(values: Iterable[Any]) -> bool:
    return any(value not in (None, "", "0") for value in values)


def _chunks(ids: Sequence[str], size: int = MAX_BATCH) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for index in range(0, len(unique), size):
        yield unique[index : index + size]


def _linked(
    associations: Associations, to_type: str, *, contact_ids: list[str]
) -> dict[str, set[str]]:
    """``{object id: {contact ids}}``, following each input's own paging."""
    linked: dict[str, set[str]] = defaultdict(set)
    inputs: list[dict[str, Any]] = [{"id": contact_id} for contact_id in contact_ids]
    while inputs:
        answer = associations(to_type, inputs)
        inputs = []
        for result in answer.get("results") or ():
            source = str((result.get("from") or {}).get("id"))
            for target in result.get("to") or ():
                linked[str(target["toObjectId"])].add(source)
            after = ((result.get("paging") or {}).get("next") or {}).get("after")
            if after:
                inputs.append({"id": source, "after": after})
    return linked


def _value(value: Any) -> FieldValue:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def _take(waiting: dict[str, set[str]]) -> dict[str, set[str]]:
    """Up to 100 of the ``waiting`` objects, taken out of it."""
    return {object_id: waiting.pop(object_id) for object_id in list(waiting)[:MAX_BATCH]}


def _batches(
    pending: dict[str, dict[str, set[str]]], *, partial: bool
) -> list[tuple[str, dict[str, set[str]]]]:
    """The batches of 100 taken out of ``pending`` per type: full ones only, or all."""
    return [
        (object_type, _take(waiting))
        for object_type, waiting in pending.items()
        for _ in range(-(-len(waiting) // MAX_BATCH) if partial else len(waiting) // MAX_BATCH)
    ]


def _engagements(
    batch_read: BatchRead,
    object_type: str,
    linked: dict[str, set[str]],
    start: datetime | None,
    end: datetime,
    fresh: Set[str] = frozenset(),
) -> list[ActivityRecord]:
    """One batch read of up to 100 objects of ``object_type`` (``linked``: their contacts).
    Objects changed before ``start`` are dropped unless linked to a ``fresh`` contact (one seen
    for the first time, whose whole history is wanted)."""
    properties = ENGAGEMENT_PROPERTIES[object_type]
    answer = batch_read(object_type, list(linked), [*properties, "hs_lastmodifieddate"])
    records: list[ActivityRecord] = []
    for row in answer.get("results") or ():
        props = row.get("properties") or {}
        modified_text = props.get("hs_lastmodifieddate") or row.get("updatedAt")
        modified = parse_instant(modified_text) if modified_text else None
        if modified is not None and modified >= end:
            continue
        old = start is not None and modified is not None and modified < start
        if old and fresh.isdisjoint(linked.get(str(row["id"]), ())):
            continue
        when = props.get("hs_timestamp") or props.get("createdate")
        records.append(
            ActivityRecord(
                system=System.HUBSPOT,
                object_type=object_type,
                id=str(row["id"]),
                person_ids=tuple(sorted(linked.get(str(row["id"]), ()))),
                occurred_at=parse_instant(when) if when else None,
                modified_at=modified,
                deleted=bool(row.get("archived")),
                fields={k: _value(v) for k, v in props.items() if k in properties},
            )
        )
    return records


def _conversions(
    batch_read: BatchRead, chunk: list[str], known: dict[str, tuple[Any, ...]]
) -> Iterator[ActivityRecord]:
    rows: list[dict[str, Any]] = []
    unknown: list[str] = []
    for contact in chunk:
        values = known.pop(contact, None)
        if values is None:
            unknown.append(contact)
        elif values:
            props = dict(zip(CONVERSION_PROPERTIES, values, strict=True))
            rows.append({"id": contact, "properties": props})
    if unknown:
        answer = batch_read("contacts", unknown, [*CONVERSION_PROPERTIES, "lastmodifieddate"])
        rows.extend(answer.get("results") or ())
    for row in rows:
        props = row.get("properties") or {}
        if not _converted(props.get(name) for name in CONVERSION_PROPERTIES):
            continue
        when = props.get("recent_conversion_date")
        yield ActivityRecord(
            system=System.HUBSPOT,
            object_type="contact_conversions",
            id=f"{row['id']}:conversions",
            person_ids=(str(row["id"]),),
            occurred_at=parse_instant(when) if when else None,
            fields={name: _value(props.get(name)) for name in CONVERSION_PROPERTIES},
        )


def pull_activity(
    associations: Associations,
    batch_read: BatchRead,
    contact_ids: Sequence[str],
    start: datetime | None,
    end: datetime,
    conversions: dict[str, tuple[Any, ...]] | None = None,
    concurrency: int = 1,
    fresh: Set[str] = frozenset(),
) -> Iterator[ActivityRecord]:
    """Engagements, deals and conversions of ``contact_ids`` changed in ``[start, end)``, and
    all of those of the ``fresh`` ones among them (contacts seen for the first time);
    ``conversions`` holds contacts' conversion properties already read, in
    ``CONVERSION_PROPERTIES`` order (``()``: none); entries are taken out as they are used.
    ``concurrency`` bounds the association reads in flight."""
    pending: dict[str, dict[str, set[str]]] = {name: {} for name in ENGAGEMENT_PROPERTIES}
    known = {} if conversions is None else conversions

    def associated(job: tuple[str, list[str]]) -> dict[str, set[str]]:
        return _linked(associations, job[0], contact_ids=job[1])

    def read(batch: tuple[str, dict[str, set[str]]]) -> list[ActivityRecord]:
        return _engagements(batch_read, batch[0], batch[1], start, end, fresh)

    # ``concurrency`` chunks of 100 contacts at a time: their association reads (one per chunk
    # and type) side by side, then the engagement batches that filled up, side by side. Ids
    # gather across chunks until a batch is full, so the call count stays at its minimum.
    for contacts in _chunks(contact_ids, MAX_BATCH * max(1, concurrency)):
        chunks = list(_chunks(contacts))
        jobs = [(object_type, chunk) for chunk in chunks for object_type in pending]
        for (object_type, _), linked in zip(
            jobs, bounded_map(associated, jobs, concurrency), strict=True
        ):
            waiting = pending[object_type]
            for object_id, linked_contacts in linked.items():
                waiting.setdefault(object_id, set()).update(linked_contacts)
        for records in bounded_map(read, _batches(pending, partial=False), concurrency):
            yield from records
        for chunk in chunks:
            yield from _conversions(batch_read, chunk, known)
    for records in bounded_map(read, _batches(pending, partial=True), concurrency):
        yield from records
