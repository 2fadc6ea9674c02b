"""Records as HubSpot answers them (``SimplePublicObject`` and friends), and request helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from connector.sandbox.hubspot._errors import ApiProblem
from connector.sandbox.hubspot._records import HistoryEntry, ObjectTable, Record, first_entry
from connector.sandbox.hubspot._values import iso

__all__ = ["Call", "batch_body", "name_list", "object_json", "query_names"]

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    """One API request, parsed: path parameters, query, JSON body, form, caller.

    ``app_id`` is the calling app's (its writes are recorded under it); ``url`` the request's
    absolute URL without its query (paging links are built from it).
    """

    method: str
    params: dict[str, str]
    query: QueryParams
    body: Any
    form: dict[str, str]
    oauth: bool
    app_id: str = ""
    url: str = ""

    def json_object(self) -> JsonObject:
        if not isinstance(self.body, dict):
            raise ApiProblem(400, "VALIDATION_ERROR", "The request body must be a JSON object")
        return self.body

    def flag(self, name: str) -> bool:
        return self.query.get(name, "false").lower() == "true"


def query_names(query: QueryParams, key: str) -> list[str] | None:
    """A list parameter sent repeated (``?p=a&p=b``, as the SDK does) or comma-separated."""
    raw = query.getlist(key)
    if not raw:
        return None
    return [name for item in raw for name in item.split(",") if name]


def name_list(value: Any, key: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiProblem(400, "VALIDATION_ERROR", f"{key} must be a list of strings")
    return list(value)


def object_json(
    record: Record,
    names: Iterable[str],
    *,
    history: Sequence[str] | None = None,
    table: ObjectTable | None = None,
    trace_id: str | None = None,
    extra: JsonObject | None = None,
) -> JsonObject:
    """A record with the named properties; unset ones answer ``null``, as HubSpot does.

    ``history`` names the properties whose ``propertiesWithHistory`` to add (``table`` says
    which of them HubSpot calculates).
    """
    props = {name: record.props.get(name) for name in names}
    body: JsonObject = {
        "id": record.id,
        "properties": props,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "archived": record.archived_at is not None,
    }
    if record.archived_at is not None:
        body["archivedAt"] = iso(record.archived_at)
    if history:
        body["propertiesWithHistory"] = {
            name: [_entry(e) for e in _history(record, name, table)] for name in history
        }
    if trace_id is not None:
        body["objectWriteTraceId"] = trace_id
    if extra:
        body.update(extra)
    return body


def _history(record: Record, name: str, table: ObjectTable | None) -> list[HistoryEntry]:
    entries = (record.history or {}).get(name)
    if entries is not None:
        return entries
    prop = table.properties.get(name) if table is not None else None
    first = first_entry(record, name, calculated=prop is not None and prop.calculated)
    return [first] if first else []


def _entry(entry: HistoryEntry) -> JsonObject:
    """One ``ValueWithTimestamp``, keys in the order HubSpot sends them."""
    body: JsonObject = {"value": entry.value, "timestamp": entry.timestamp}
    body["sourceType"] = entry.source.type
    if entry.source.id is not None:
        body["sourceId"] = entry.source.id
    if entry.source.user_id is not None:
        body["updatedByUserId"] = entry.source.user_id
    return body


def batch_body(
    results: list[JsonObject], errors: list[JsonObject], started: datetime, finished: datetime
) -> JsonObject:
    """A ``BatchResponse...`` body; with errors it is the ``...WithErrors`` (207) shape."""
    body: JsonObject = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(finished),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body
