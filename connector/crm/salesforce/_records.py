"""Salesforce JSON (REST) and CSV (Bulk 2.0) rows → the seam's typed records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from connector.crm.types import ActivityRecord, FieldSchema, FieldValue, ObjectSchema, RawRecord
from connector.errors import System

__all__ = [
    "activity_record",
    "coerce_csv",
    "object_schema",
    "parse_datetime",
    "person_record",
]

_PERSON_KEYS = frozenset(
    {
        "attributes",
        "Id",
        "SystemModstamp",
        "CreatedDate",
        "IsDeleted",
        "IsConverted",
        "ConvertedContactId",
        "ConvertedAccountId",
        "ConvertedOpportunityId",
        "MasterRecordId",
    }
)
_NUMBER = frozenset({"double", "currency", "percent"})
_INTEGER = frozenset({"int", "long"})


def parse_datetime(value: object) -> datetime | None:
    """``2026-05-20T20:49:32.000+0000`` (or a date) → aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _scalar(value: Any) -> FieldValue:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return None  # compound (address/location) values are not mapped


def _flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping) and "attributes" in value:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def person_record(object_type: str, row: Mapping[str, Any]) -> RawRecord:
    modified = parse_datetime(row.get("SystemModstamp"))
    assert modified is not None, "SystemModstamp is always selected"
    return RawRecord(
        system=System.SALESFORCE,
        object_type=object_type,
        id=str(row["Id"]),
        modified_at=modified,
        deleted=bool(row.get("IsDeleted")),
        fields={k: _scalar(v) for k, v in row.items() if k not in _PERSON_KEYS},
        converted=bool(row.get("IsConverted")),
        converted_contact_id=row.get("ConvertedContactId") or None,
        converted_account_id=row.get("ConvertedAccountId") or None,
        converted_opportunity_id=row.get("ConvertedOpportunityId") or None,
        master_record_id=row.get("MasterRecordId") or None,
        created_at=parse_datetime(row.get("CreatedDate")),
    )


_OCCURRED = {
    "Task": ("CompletedDateTime", "ActivityDate", "CreatedDate"),
    "Event": ("StartDateTime", "ActivityDateTime", "ActivityDate", "CreatedDate"),
    "CampaignMember": ("FirstRespondedDate", "CreatedDate"),
    "OpportunityContactRole": ("SystemModstamp",),
}
_PEOPLE_LINKS = {
    "Task": ("WhoId",),
    "Event": ("WhoId",),
    "CampaignMember": ("LeadId", "ContactId"),
    "OpportunityContactRole": ("ContactId",),
}


def activity_record(object_type: str, row: Mapping[str, Any]) -> ActivityRecord:
    flat = _flatten(row)
    occurred = next(
        (parse_datetime(flat.get(name)) for name in _OCCURRED[object_type] if flat.get(name)),
        None,
    )
    people = tuple(str(flat[k]) for k in _PEOPLE_LINKS[object_type] if flat.get(k))
    return ActivityRecord(
        system=System.SALESFORCE,
        object_type=object_type,
        id=str(flat["Id"]),
        person_ids=people,
        occurred_at=occurred,
        modified_at=parse_datetime(flat.get("SystemModstamp")),
        deleted=bool(flat.get("IsDeleted")),
        fields={k: _scalar(v) for k, v in flat.items() if k != "Id"},
    )


def coerce_csv(row: Mapping[str, str], schema: ObjectSchema) -> dict[str, Any]:
    """A Bulk 2.0 CSV row (all strings, empty = null) typed by describe."""
    out: dict[str, Any] = {}
    for name, text in row.items():
        spec = schema.field(name)
        if text == "":
            out[name] = None
        elif spec is None:
            out[name] = text
        elif spec.type == "boolean":
            out[name] = text.lower() == "true"
        elif spec.type in _INTEGER:
            out[name] = int(float(text))
        elif spec.type in _NUMBER:
            out[name] = float(text)
        else:
            out[name] = text
    return out


def object_schema(object_type: str, describe: Mapping[str, Any]) -> ObjectSchema:
    fields: dict[str, FieldSchema] = {}
    for spec in describe.get("fields") or ():
        values: Sequence[Mapping[str, Any]] = spec.get("picklistValues") or ()
        fields[spec["name"]] = FieldSchema(
            name=spec["name"],
            label=spec.get("label") or "",
            type=spec.get("type") or "string",
            length=spec.get("length") or None,
            updateable=bool(spec.get("updateable")),
            createable=bool(spec.get("createable")),
            nillable=bool(spec.get("nillable", True)),
            unique=bool(spec.get("unique")),
            external_id=bool(spec.get("externalId")),
            picklist_values=tuple(str(v["value"]) for v in values if v.get("active", True)),
            restricted_picklist=bool(spec.get("restrictedPicklist")),
            multiple=spec.get("type") == "multipicklist",
        )
    return ObjectSchema(system=System.SALESFORCE, object_type=object_type, fields=fields)
