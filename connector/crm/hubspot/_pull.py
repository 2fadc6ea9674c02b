"""Incremental contact pull through CRM search, complete past the 10,000-result cap.

Search sorts on one property only, orders ties as it likes, and refuses to page past 10,000
results. The pull is a keyset on ``(lastmodifieddate, hs_object_id)``: each query asks for
``lastmodifieddate`` in ``[lower, end)`` ascending from offset 0; the records before the page's
last timestamp are complete and emitted, and the next query starts at that last timestamp
(``GTE``). When a whole page shares one timestamp, that timestamp is read alone in id order
(``EQ ts AND hs_object_id GT last_id``, restarting before the cap), then the pull moves on with
``GT ts``. Any number of contacts sharing one timestamp is read completely, each once; a page
costs one search call and re-reads only its last timestamp's few records.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.crm.types import Cursor, FieldValue, Page, RawRecord
from connector.errors import System

__all__ = [
    "SEARCH_PAGE",
    "SEARCH_SAFE_OFFSET",
    "Paging",
    "contact_record",
    "epoch_ms",
    "parse_instant",
    "pull_contacts",
    "read_contacts",
]

SEARCH_PAGE = 200
MAX_BATCH = 100  # ids per batch read or write
#: Stop paging one query before the 10,000 cap (offset + page must stay within it).
SEARCH_SAFE_OFFSET = 9_800

Search = Callable[[dict[str, Any]], dict[str, Any]]
BatchRead = Callable[[str, list[str], list[str]], dict[str, Any]]
ListArchived = Callable[[str | None, list[str]], dict[str, Any]]
"""``(after, properties) -> one page of archived contacts`` (search never returns them)."""
Watch = Callable[[dict[str, Any]], None]
"""Shown every row an incremental search returns (with the properties it asked for)."""

_SYSTEM_PROPERTIES = ("email", "lastmodifieddate", "hs_object_id", "hs_merged_object_ids")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(when: datetime) -> int:
    """Milliseconds since the epoch, exactly (float timestamps can land one below)."""
    return (when - _EPOCH) // timedelta(milliseconds=1)


def parse_instant(value: object) -> datetime:
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def contact_record(row: dict[str, Any], fields: Sequence[str]) -> RawRecord:
    props: dict[str, Any] = row.get("properties") or {}
    merged = str(props.get("hs_merged_object_ids") or "")
    values: dict[str, FieldValue] = {name: props.get(name) for name in ("email", *fields)}
    archived_at = row.get("archivedAt") if row.get("archived") else None
    return RawRecord(
        system=System.HUBSPOT,
        object_type="contacts",
        id=str(row["id"]),
        modified_at=parse_instant(
            archived_at or props.get("lastmodifieddate") or row.get("updatedAt")
        ),
        deleted=bool(row.get("archived")),
        fields=values,
        merged_ids=tuple(part for part in merged.split(";") if part),
    )


@dataclass(frozen=True, slots=True)
class Paging:
    """Search's page size and the offset a query must not page past (HubSpot: 200, 10,000)."""

    page: int = SEARCH_PAGE
    safe_offset: int = SEARCH_SAFE_OFFSET


def _request(
    filters: list[dict[str, Any]], sort: str, properties: list[str], after: int, page: int
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": properties,
        "limit": page,
    }
    if after:
        body["after"] = str(after)
    return body


def _f(name: str, operator: str, value: int | str) -> dict[str, Any]:
    return {"propertyName": name, "operator": operator, "value": str(value)}


def pull_contacts(
    search: Search,
    fields: Sequence[str],
    start: datetime | None,
    end: datetime,
    since: Cursor | None,
    paging: Paging = Paging(),
    archived: ListArchived | None = None,
    watch: Watch | None = None,
    watch_properties: Sequence[str] = (),
) -> Iterator[Page]:
    """Contacts changed in ``[start, end)`` (all of them when ``start`` is None), in keyset
    pages. ``watch`` sees every row searched, with ``watch_properties`` too (they stay out of
    the records' fields)."""
    properties = list(dict.fromkeys([*_SYSTEM_PROPERTIES, *fields]))
    if watch is not None:
        properties = list(dict.fromkeys([*properties, *watch_properties]))
        search = _watching(search, watch)
    # Rounded up: a contact stamped within run_start's own millisecond is read now rather than
    # left to the next run's lookback.
    end_ms = -(-(end - _EPOCH) // timedelta(milliseconds=1))
    lower: tuple[str, int] | None = ("GTE", epoch_ms(start)) if start is not None else None
    cursor = since or Cursor(watermark=datetime(1970, 1, 1, tzinfo=UTC))
    while True:
        filters = [_f("lastmodifieddate", "LT", end_ms)]
        if lower is not None:
            filters.append(_f("lastmodifieddate", *lower))
        # Every query starts at offset 0, so the 10,000 cap never applies, and no page relies
        # on how search orders ties between pages.
        answer = search(_request(filters, "lastmodifieddate", properties, 0, paging.page))
        records = [contact_record(row, fields) for row in answer.get("results") or ()]
        more = bool(((answer.get("paging") or {}).get("next") or {}).get("after"))
        if not more:
            for record in records:
                cursor = cursor.after(record)
            yield Page(records=tuple(records), cursor=cursor)
            break
        last = epoch_ms(records[-1].modified_at)
        complete = [r for r in records if epoch_ms(r.modified_at) < last]
        if complete:
            # Sorted ascending: everything before the page's last timestamp has been seen. The
            # last timestamp's records open the next query (``GTE``), whole.
            for record in complete:
                cursor = cursor.after(record)
            yield Page(records=tuple(complete), cursor=cursor)
            lower = ("GTE", last)
            continue
        # A whole page shares one timestamp: read it alone, in id order, then move past it.
        cursor = yield from _one_timestamp(search, last, properties, fields, cursor, paging)
        lower = ("GT", last)
    if archived is not None:
        yield from _archived(archived, properties, fields, start, end, cursor)
    yield Page(records=(), cursor=Cursor(watermark=end), done=True)


def read_contacts(
    batch_read: BatchRead, ids: Sequence[str], fields: Sequence[str]
) -> list[RawRecord]:
    """Contacts by id, 100 per batch read; ids HubSpot does not hold are left out."""
    properties = list(dict.fromkeys([*_SYSTEM_PROPERTIES, *fields]))
    unique = list(dict.fromkeys(ids))
    records: list[RawRecord] = []
    for index in range(0, len(unique), MAX_BATCH):
        answer = batch_read("contacts", unique[index : index + MAX_BATCH], properties)
        records.extend(contact_record(row, fields) for row in answer.get("results") or ())
    return records


def _watching(search: Search, watch: Watch) -> Search:
    def run(body: dict[str, Any]) -> dict[str, Any]:
        answer = search(body)
        for row in answer.get("results") or ():
            watch(row)
        return answer

    return run


def _archived(
    archived: ListArchived,
    properties: list[str],
    fields: Sequence[str],
    start: datetime | None,
    end: datetime,
    cursor: Cursor,
) -> Iterator[Page]:
    """Contacts archived in the window, as deleted records (the list endpoint has no date
    filter, so every archived contact is listed; HubSpot keeps them 90 days)."""
    after: str | None = None
    while True:
        answer = archived(after, properties)
        records = [
            record
            for record in (contact_record(row, fields) for row in answer.get("results") or ())
            if record.deleted
            and record.modified_at < end
            and (start is None or record.modified_at >= start)
        ]
        if records:
            yield Page(records=tuple(records), cursor=cursor)
        after = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return


def _one_timestamp(
    search: Search,
    stamp: int,
    properties: list[str],
    fields: Sequence[str],
    cursor: Cursor,
    paging: Paging,
) -> Generator[Page, None, Cursor]:
    last_id = 0
    while True:
        filters = [_f("lastmodifieddate", "EQ", stamp), _f("hs_object_id", "GT", last_id)]
        after = 0
        while True:
            answer = search(_request(filters, "hs_object_id", properties, after, paging.page))
            records = [contact_record(row, fields) for row in answer.get("results") or ()]
            for record in records:
                cursor = cursor.after(record)
            if records:
                last_id = max(last_id, *(int(record.id) for record in records))
                yield Page(records=tuple(records), cursor=cursor)
            next_after = (answer.get("paging") or {}).get("next", {}).get("after")
            if not next_after:
                return cursor
            after = int(next_after)
            if after + paging.page > paging.safe_offset:
                break  # restart the offset from the last id seen
