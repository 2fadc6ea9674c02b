"""Small builders for HubSpot-defined property definitions."""

from __future__ import annotations

from typing import Final

from connector.sandbox.hubspot._schema import Option, PropertyDef, options

__all__ = ["BOOL_OPTIONS", "calculated", "common", "prop"]

BOOL_OPTIONS: Final = (Option("true", "Yes", 0), Option("false", "No", 1))


def prop(
    name: str, label: str, kind: str, field_type: str, group: str, **kw: object
) -> PropertyDef:
    return PropertyDef(name, label, kind, field_type, group, **kw)  # type: ignore[arg-type]


def calculated(
    name: str, label: str, kind: str, field_type: str, group: str, **kw: object
) -> PropertyDef:
    return prop(name, label, kind, field_type, group, read_only_value=True, calculated=True, **kw)


def common(group: str, *, contacts: bool = False) -> list[PropertyDef]:
    props = [
        calculated("hs_object_id", "Record ID", "number", "number", group),
        calculated(
            "createdate" if contacts else "hs_createdate", "Create Date", "datetime", "date", group
        ),
        calculated(
            "hs_lastmodifieddate", "Object last modified date/time", "datetime", "date", group
        ),
        prop(
            "hubspot_owner_id",
            "Owner",
            "enumeration",
            "select",
            group,
            options=options(("1001", "Sandbox Owner"), ("1002", "Second Owner")),
        ),
        calculated("hs_merged_object_ids", "Merged record IDs", "enumeration", "checkbox", group),
    ]
    if contacts:
        props.append(
            calculated("lastmodifieddate", "Last Modified Date", "datetime", "date", group)
        )
    return props
