"""Contact activity: engagements and deals through associations v4 batch reads (≤100 inputs,
per-input paging) plus batch reads of their properties; form conversions and page views from
the contact's own properties."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from connector.crm.hubspot._pull import parse_instant
from connector.crm.types import ActivityRecord, FieldValue
from connector.errors import System

__all__ = ["ENGAGEMENT_PROPERTIES", "MAX_BATCH", "pull_activity"]

MAX_BATCH = 100

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
BatchRead = Callable[[str, list[str], list[str]], dict[str, Any]]


def _chunks(ids: Sequence[str], size: int = MAX_BATCH) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for index in range(0, len(unique), size):
        yield unique[index : index + size]


def _linked(
    associations: Associations, to_type: str, contact_ids: list[str]
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


def pull_activity(
    associations: Associations,
    batch_read: BatchRead,
    contact_ids: Sequence[str],
    start: datetime | None,
    end: datetime,
) -> Iterator[ActivityRecord]:
    for chunk in _chunks(contact_ids):
        for object_type, properties in ENGAGEMENT_PROPERTIES.items():
            linked = _linked(associations, object_type, chunk)
            wanted = [*properties, "hs_lastmodifieddate"]
            for ids in _chunks(sorted(linked, key=int)):
                answer = batch_read(object_type, ids, wanted)
                for row in answer.get("results") or ():
                    props = row.get("properties") or {}
                    modified_text = props.get("hs_lastmodifieddate") or row.get("updatedAt")
                    modified = parse_instant(modified_text) if modified_text else None
                    if modified is not None and (
                        modified >= end or (start is not None and modified < start)
                    ):
                        continue
                    when = props.get("hs_timestamp") or props.get("createdate")
                    yield ActivityRecord(
                        system=System.HUBSPOT,
                        object_type=object_type,
                        id=str(row["id"]),
                        person_ids=tuple(sorted(linked[str(row["id"])])),
                        occurred_at=parse_instant(when) if when else None,
                        modified_at=modified,
                        deleted=bool(row.get("archived")),
                        fields={k: _value(v) for k, v in props.items() if k in properties},
                    )
        answer = batch_read("contacts", chunk, [*CONVERSION_PROPERTIES, "lastmodifieddate"])
        for row in answer.get("results") or ():
            props = row.get("properties") or {}
            if not any(props.get(name) not in (None, "", "0") for name in CONVERSION_PROPERTIES):
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
