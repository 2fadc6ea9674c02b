"""Property definitions as the Properties API describes them (reference §5)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from connector.sandbox.hubspot._errors import ApiProblem
from connector.sandbox.hubspot._values import iso

__all__ = ["Option", "PropertyDef", "options", "parse_create", "parse_update"]

_TYPES: Final = {
    "bool": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "date": {"date", "calculation_equation"},
    "datetime": {"date", "calculation_equation"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "number": {"number", "calculation_equation"},
    "phone_number": {"phonenumber", "text"},
    "string": {"text", "textarea", "html", "file", "phonenumber", "calculation_equation"},
}
_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    display_order: int
    hidden: bool = False
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "displayOrder": self.display_order,
            "hidden": self.hidden,
            "description": self.description,
        }


def options(*pairs: tuple[str, str]) -> tuple[Option, ...]:
    """Options in display order from ``(value, label)`` pairs."""
    return tuple(Option(value, label, index) for index, (value, label) in enumerate(pairs))


@dataclass(frozen=True, slots=True)
class PropertyDef:
    """One property of one object type."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: tuple[Option, ...] = ()
    read_only_value: bool = False
    read_only_definition: bool = True
    calculated: bool = False
    has_unique_value: bool = False
    hubspot_defined: bool = True
    hidden: bool = False
    form_field: bool = False
    display_order: int = -1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    option_values: frozenset[str] = field(init=False, default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_values", frozenset(o.value for o in self.options))

    @property
    def multi(self) -> bool:
        """Multiple-checkbox enumerations hold ``;``-separated values."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [o.to_json() for o in self.options],
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "formField": self.form_field,
            "dataSensitivity": "non_sensitive",
            "archived": False,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.read_only_definition,
                "readOnlyValue": self.read_only_value,
            },
        }
        if self.hubspot_defined:
            body["hubspotDefined"] = True
        if self.created_at is not None:
            body["createdAt"] = iso(self.created_at)
        if self.updated_at is not None:
            body["updatedAt"] = iso(self.updated_at)
        return body


def _bad(message: str) -> ApiProblem:
    return ApiProblem(400, "VALIDATION_ERROR", message)


def _parse_options(raw: Any) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _bad("options must be a list")
    out: list[Option] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise _bad(f"options[{index}] needs a string value")
        value = item["value"]
        if value in seen:
            raise _bad(f"options[{index}]: duplicate option value {value!r}")
        seen.add(value)
        order = item.get("displayOrder", index)
        out.append(
            Option(
                value=value,
                label=str(item.get("label", value)),
                display_order=order if isinstance(order, int) else index,
                hidden=bool(item.get("hidden", False)),
                description=str(item.get("description", "")),
            )
        )
    return tuple(out)


def parse_create(body: Any, *, now: datetime) -> PropertyDef:
    """Validate a ``PropertyCreate`` body into a custom property definition."""
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    missing = [
        key for key in ("name", "label", "type", "fieldType", "groupName") if not body.get(key)
    ]
    if missing:
        raise _bad(f"Missing required fields: {', '.join(missing)}")
    name, kind, field_type = str(body["name"]), str(body["type"]), str(body["fieldType"])
    if not _NAME.match(name):
        raise _bad(f"Property name {name!r} must be lower case letters, digits and underscores")
    if kind not in _TYPES:
        raise _bad(f"Unknown property type {kind!r}")
    if field_type not in _TYPES[kind]:
        raise _bad(f"fieldType {field_type!r} is not valid for type {kind!r}")
    parsed = _parse_options(body.get("options"))
    if kind == "enumeration" and not parsed:
        raise _bad("enumeration properties need at least one option")
    order = body.get("displayOrder", -1)
    return PropertyDef(
        name=name,
        label=str(body["label"]),
        type=kind,
        field_type=field_type,
        group_name=str(body["groupName"]),
        description=str(body.get("description", "")),
        options=parsed,
        read_only_definition=False,
        has_unique_value=bool(body.get("hasUniqueValue", False)),
        hubspot_defined=False,
        hidden=bool(body.get("hidden", False)),
        form_field=bool(body.get("formField", False)),
        display_order=order if isinstance(order, int) else -1,
        created_at=now,
        updated_at=now,
    )


def parse_update(current: PropertyDef, body: Any, *, now: datetime) -> PropertyDef:
    """Apply a ``PropertyUpdate`` body (label, description, group, options, hidden, order)."""
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    if current.read_only_definition:
        raise _bad(f"The property {current.name!r} is read-only and cannot be changed")
    changes: dict[str, Any] = {"updated_at": now}
    for key, attr in (
        ("label", "label"),
        ("description", "description"),
        ("groupName", "group_name"),
    ):
        if key in body:
            changes[attr] = str(body[key])
    if "hidden" in body:
        changes["hidden"] = bool(body["hidden"])
    if "formField" in body:
        changes["form_field"] = bool(body["formField"])
    if "displayOrder" in body and isinstance(body["displayOrder"], int):
        changes["display_order"] = body["displayOrder"]
    if "options" in body:
        changes["options"] = _parse_options(body["options"])
        if current.type == "enumeration" and not changes["options"]:
            raise _bad("enumeration properties need at least one option")
    return replace(current, **changes)
