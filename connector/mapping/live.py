"""Check a :class:`MappingSet` against the CRMs' live schema, before anything is written.

The schema comes from the adapters' ``describe`` (:class:`~connector.crm.types.ObjectSchema`:
Salesforce describe, HubSpot properties API). For every mapped target: the field exists, its
type can hold the mapped value, it is writable if the sync rule writes to it (HubSpot
``readOnlyValue``/``calculated`` and Salesforce ``updateable``/``calculated`` arrive folded into
``FieldSchema.updateable``), every value the mapping writes to a picklist is an active option,
and text fits the field's length.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from connector.crm.types import FieldSchema, ObjectSchema
from connector.errors import Problem, System
from connector.mapping._names import near_miss
from connector.mapping.canonical import ValueType
from connector.mapping.catalogue import (
    CONNECTOR_HUBSPOT_PROPERTIES,
    CONNECTOR_SALESFORCE_FIELDS,
    HUBSPOT_OBJECT,
    describe_connector_field,
)
from connector.mapping.model import FieldMapping, MappingSet, Target
from connector.mapping.rules import Transform
from connector.mapping.transforms import target_kind
from connector.mapping.values import Origin
from connector.yamlfile import did_you_mean

__all__ = ["compatible_types", "validate_live"]

_TEXT = frozenset({"string", "textarea", "encryptedstring"})
_STRINGISH = _TEXT | {
    "email",
    "phone",
    "url",
    "picklist",
    "combobox",
    "multipicklist",
    "reference",
    "id",
    "enumeration",
    "phone_number",
}
_PICKLISTS = frozenset({"picklist", "multipicklist", "enumeration"})
_COMPATIBLE: dict[ValueType | Literal["date"], frozenset[str]] = {
    ValueType.STRING: _STRINGISH,
    ValueType.STAGE: _STRINGISH,
    ValueType.INTEGER: frozenset({"int", "long", "double", "currency", "percent", "number"}),
    ValueType.NUMBER: frozenset({"double", "currency", "percent", "number"}),
    ValueType.BOOLEAN: frozenset({"boolean", "bool", "checkbox"}),
    ValueType.DATETIME: frozenset({"datetime"}),
    "date": frozenset({"date"}),
}
_HINT_FOR_TYPE: dict[str, str] = {
    "int": "add transform integer (the target holds whole numbers)",
    "date": "add transform date (the target holds a day, not a moment)",
    "datetime": "add transform datetime",
    "number": "add transform number",
    "double": "add transform number",
}


def _create_hint(target: Target) -> str:
    catalogue = (
        CONNECTOR_SALESFORCE_FIELDS
        if target.system is System.SALESFORCE
        else CONNECTOR_HUBSPOT_PROPERTIES
    )
    for needed in catalogue:
        if needed.name.casefold() == target.field.casefold():
            return "create it: " + describe_connector_field(needed)
    return "check the field's API name in the CRM's setup"


def compatible_types(kind: ValueType | Literal["date"]) -> frozenset[str]:
    """Vendor field types that can hold a value of ``kind`` (any text field holds anything)."""
    return _COMPATIBLE[kind] | _TEXT


class _Live:
    def __init__(self, salesforce: dict[str, ObjectSchema], hubspot: ObjectSchema | None) -> None:
        self.salesforce = salesforce
        self.hubspot = hubspot
        self.problems: list[Problem] = []

    def add(
        self,
        mapping: FieldMapping,
        target: Target,
        message: str,
        hint: str = "",
        origin: Origin | None = None,
    ) -> None:
        origin = origin or mapping.origin_of(target)
        self.problems.append(
            Problem(
                origin.file,
                f"{target}: {message}",
                f"mapping {mapping.name!r}",
                origin.line,
                origin.column,
                hint,
            )
        )

    def schema(self, target: Target) -> ObjectSchema | None:
        if target.system is System.HUBSPOT:
            return self.hubspot
        return self.salesforce.get(target.object_type)

    def lookup(self, schema: ObjectSchema, target: Target) -> FieldSchema | None:
        found = schema.field(target.field)
        if found is None and target.system is System.SALESFORCE:
            # Salesforce API names are case-insensitive.
            folded = target.field.casefold()
            found = next((f for n, f in schema.fields.items() if n.casefold() == folded), None)
        return found

    def check(self, mapping: FieldMapping) -> None:
        for target in mapping.targets():
            schema = self.schema(target)
            if schema is None:
                continue  # that system or object was not described: nothing to check against
            field = self.lookup(schema, target)
            if field is None:
                guess = near_miss(target.field, schema.fields)
                hint = (
                    f"did you mean {guess!r}?"
                    if guess
                    else did_you_mean(target.field, schema.fields)
                )
                self.add(mapping, target, "no such field", hint or _create_hint(target))
                continue
            self.check_field(mapping, target, field)

    def check_field(self, mapping: FieldMapping, target: Target, field: FieldSchema) -> None:
        kind = target_kind(mapping.canonical.type, mapping.transforms)
        if field.type not in compatible_types(kind):
            self.add(
                mapping,
                target,
                f"cannot hold {mapping.canonical.name!r} ({kind} values): "
                f"it is {'an' if field.type[0] in 'aeiou' else 'a'} {field.type} field",
                _HINT_FOR_TYPE.get(field.type, "map a field of a matching type"),
            )
        writes = mapping.writes_to(target.system)
        if writes and not field.updateable:
            only = "salesforce_only" if target.system is System.SALESFORCE else "hubspot_only"
            self.add(
                mapping,
                target,
                f"read-only, but sync {mapping.sync} writes to it",
                f"map a writable field, or use sync: {only} (or none) so crmsync never writes it",
            )
        if writes:
            self.check_values(mapping, target, field)
            self.check_length(mapping, target, field)

    def check_values(self, mapping: FieldMapping, target: Target, field: FieldSchema) -> None:
        value_map = mapping.value_maps.get(target.system)
        restricted = field.restricted_picklist or (
            target.system is System.HUBSPOT and field.type == "enumeration"
        )
        if value_map is None:
            if restricted and mapping.canonical.type is ValueType.STRING:
                self.add(
                    mapping,
                    target,
                    f"free text written to a restricted picklist ({len(field.picklist_values)} "
                    "options); values outside them would be rejected",
                    "add transform map_values with a value map of the options you use",
                )
            return
        if field.type not in _PICKLISTS and not field.picklist_values:
            return
        options = set(field.picklist_values)
        for canonical, value in value_map.outbound.items():
            if value is None or value in options:
                continue
            guess = did_you_mean(value, field.picklist_values)
            choices = ", ".join(repr(option) for option in field.picklist_values)
            self.add(
                mapping,
                target,
                f"value map {value_map.name!r} writes {value!r} for {canonical!r}, "
                "which is not an active option"
                + (" (restricted picklist: the CRM refuses it)" if restricted else ""),
                guess or f"active options: {choices}",
                value_map.origins.get(canonical),
            )

    def check_length(self, mapping: FieldMapping, target: Target, field: FieldSchema) -> None:
        if field.length is None or field.type not in _STRINGISH:
            return
        value_map = mapping.value_maps.get(target.system)
        if value_map is not None:
            for canonical, value in value_map.outbound.items():
                if value is not None and len(value) > field.length:
                    self.add(
                        mapping,
                        target,
                        f"value {value!r} is longer than the field ({field.length})",
                        "shorten the value or widen the field",
                        value_map.origins.get(canonical),
                    )
            return
        longest = mapping.canonical.max_length
        if Transform.TRUNCATE in mapping.transforms:
            return
        if longest is not None and longest > field.length:
            self.add(
                mapping,
                target,
                f"holds {field.length} characters, {mapping.canonical.name!r} may have {longest}",
                "add transform truncate, or widen the field",
            )


def validate_live(
    mappings: MappingSet,
    salesforce: Iterable[ObjectSchema] | None,
    hubspot: ObjectSchema | None,
) -> list[Problem]:
    """Every problem the live schema reveals, in mapping order (empty when all is well).

    ``salesforce`` holds the described Lead and Contact; ``hubspot`` the contacts properties.
    Pass ``None`` for a system that is not connected; its targets are then not checked.
    """
    by_object = {schema.object_type: schema for schema in salesforce or ()}
    if hubspot is not None and hubspot.object_type != HUBSPOT_OBJECT:
        raise ValueError(
            f"expected the HubSpot {HUBSPOT_OBJECT!r} schema, got {hubspot.object_type!r}"
        )
    live = _Live(by_object, hubspot)
    for mapping in mappings:
        live.check(mapping)
    return live.problems
