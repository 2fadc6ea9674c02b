"""Schema snapshots: the CRMs' field descriptions saved as JSON, for ``validate --schema FILE``.

A snapshot is one JSON object::

    {"salesforce": {"Lead": <describe>, "Contact": <describe>},
     "hubspot": {"contacts": <properties>}}

where ``<describe>`` is the body of ``GET /services/data/vXX.X/sobjects/Lead/describe`` and
``<properties>`` the body of ``GET /crm/v3/properties/contacts`` (``{"results": [...]}``),
exactly as the APIs return them, or either as an already normalised
:class:`~connector.crm.types.ObjectSchema` (``{"system": ..., "object_type": ...,
"fields": {...}}``). Either system may be left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connector.crm.types import FieldSchema, ObjectSchema
from connector.errors import ConfigError, Problem, System, display_path
from connector.mapping.catalogue import HUBSPOT_OBJECT

__all__ = [
    "SchemaSnapshot",
    "hubspot_schema",
    "load_schema_snapshot",
    "salesforce_schema",
]

SchemaSnapshot = tuple[tuple[ObjectSchema, ...], ObjectSchema | None]
"""(Salesforce object schemas, HubSpot contacts schema or ``None``)."""


def _bool(value: Any, default: bool = False) -> bool:
    return bool(value) if value is not None else default


def salesforce_schema(object_type: str, describe: Mapping[str, Any]) -> ObjectSchema:
    """Normalise a Salesforce describe body. Formula fields count as not updateable."""
    fields: dict[str, FieldSchema] = {}
    for raw in describe.get("fields", []):
        calculated = _bool(raw.get("calculated"))
        fields[str(raw["name"])] = FieldSchema(
            name=str(raw["name"]),
            label=str(raw.get("label") or ""),
            type=str(raw["type"]),
            length=int(raw["length"]) if raw.get("length") else None,
            updateable=_bool(raw.get("updateable")) and not calculated,
            createable=_bool(raw.get("createable")) and not calculated,
            nillable=_bool(raw.get("nillable"), True),
            unique=_bool(raw.get("unique")),
            external_id=_bool(raw.get("externalId")),
            picklist_values=tuple(
                str(option["value"])
                for option in raw.get("picklistValues") or ()
                if _bool(option.get("active"), True)
            ),
            restricted_picklist=_bool(raw.get("restrictedPicklist")),
        )
    return ObjectSchema(system=System.SALESFORCE, object_type=object_type, fields=fields)


def hubspot_schema(properties: Mapping[str, Any]) -> ObjectSchema:
    """Normalise a HubSpot properties body. ``readOnlyValue`` or ``calculated`` means read-only;
    hidden options and archived properties are left out; enumerations accept only their
    options."""
    fields: dict[str, FieldSchema] = {}
    for raw in properties.get("results", []):
        if _bool(raw.get("archived")):
            continue
        metadata = raw.get("modificationMetadata") or {}
        read_only = _bool(metadata.get("readOnlyValue")) or _bool(raw.get("calculated"))
        kind = str(raw["type"])
        fields[str(raw["name"])] = FieldSchema(
            name=str(raw["name"]),
            label=str(raw.get("label") or ""),
            type=kind,
            updateable=not read_only,
            createable=not read_only,
            unique=_bool(raw.get("hasUniqueValue")),
            picklist_values=tuple(
                str(option["value"])
                for option in raw.get("options") or ()
                if not _bool(option.get("hidden"))
            ),
            restricted_picklist=kind == "enumeration",
        )
    return ObjectSchema(system=System.HUBSPOT, object_type=HUBSPOT_OBJECT, fields=fields)


def _object(system: System, object_type: str, body: Any) -> ObjectSchema:
    if not isinstance(body, Mapping):
        raise TypeError(f"{system.value}.{object_type} is not a JSON object")
    if isinstance(body.get("fields"), Mapping):
        return ObjectSchema.model_validate(
            {"system": system, "object_type": object_type, **body} | {"fields": body["fields"]}
        )
    if system is System.SALESFORCE:
        return salesforce_schema(object_type, body)
    return hubspot_schema(body)


def load_schema_snapshot(path: Path) -> SchemaSnapshot:
    """Read a snapshot file; raise :class:`ConfigError` naming the file if it is unusable."""
    name = display_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, Mapping):
            raise TypeError("the top level is not a JSON object")
        salesforce = tuple(
            _object(System.SALESFORCE, str(obj), body)
            for obj, body in (data.get("salesforce") or {}).items()
        )
        hubspot_body = (data.get("hubspot") or {}).get(HUBSPOT_OBJECT)
        hubspot = (
            None if hubspot_body is None else _object(System.HUBSPOT, HUBSPOT_OBJECT, hubspot_body)
        )
    except FileNotFoundError:
        raise ConfigError([Problem(name, "schema snapshot not found")]) from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError, ValidationError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        if isinstance(exc, TypeError):
            reason = str(exc)
        raise ConfigError(
            [
                Problem(
                    name,
                    f"not a usable schema snapshot ({reason})",
                    hint='expected {"salesforce": {"Lead": <describe>, ...}, '
                    '"hubspot": {"contacts": <properties>}}',
                )
            ]
        ) from None
    return salesforce, hubspot
