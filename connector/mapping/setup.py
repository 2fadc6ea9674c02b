"""``crmsync setup``: the custom fields and properties crmsync's own mappings write.

HubSpot properties are created through the properties API when missing. Salesforce custom
fields need the Metadata API and an admin's permission, which crmsync does not ask for: missing
ones are listed with their exact types so an admin can create them in Setup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.crm.types import ObjectSchema, PropertySpec
from connector.errors import System
from connector.mapping.catalogue import (
    CONNECTOR_HUBSPOT_PROPERTIES,
    CONNECTOR_SALESFORCE_FIELDS,
    HUBSPOT_OBJECT,
    SALESFORCE_OBJECTS,
    ConnectorField,
    describe_connector_field,
)
from connector.mapping.model import MappingSet

__all__ = ["SetupPlan", "needed_fields", "plan_setup", "property_spec"]


@dataclass
class SetupPlan:
    """What is missing: Salesforce fields (by object) for an admin, HubSpot properties to create."""

    salesforce: list[tuple[str, ConnectorField]] = field(default_factory=list)
    hubspot: list[ConnectorField] = field(default_factory=list)

    def salesforce_lines(self) -> list[str]:
        return [f"{obj}: {describe_connector_field(needed)}" for obj, needed in self.salesforce]


def needed_fields(
    mappings: MappingSet,
) -> tuple[list[tuple[str, ConnectorField]], list[ConnectorField]]:
    """The connector's custom fields the mappings actually target, per Salesforce object."""
    targets = {(t.system, t.object_type, t.field) for m in mappings for t in m.targets()}
    salesforce = [
        (obj, needed)
        for obj in SALESFORCE_OBJECTS
        for needed in CONNECTOR_SALESFORCE_FIELDS
        if (System.SALESFORCE, obj, needed.name) in targets
    ]
    hubspot = [
        needed
        for needed in CONNECTOR_HUBSPOT_PROPERTIES
        if (System.HUBSPOT, HUBSPOT_OBJECT, needed.name) in targets
    ]
    return salesforce, hubspot


def plan_setup(
    mappings: MappingSet,
    salesforce: dict[str, ObjectSchema],
    hubspot: ObjectSchema,
) -> SetupPlan:
    """Compare what the mappings need with what the CRMs' schemas have."""
    wanted_sf, wanted_hs = needed_fields(mappings)
    plan = SetupPlan()
    for obj, needed in wanted_sf:
        schema = salesforce.get(obj)
        if schema is None or schema.field(needed.name) is None:
            plan.salesforce.append((obj, needed))
    plan.hubspot = [needed for needed in wanted_hs if hubspot.field(needed.name) is None]
    return plan


def property_spec(needed: ConnectorField) -> PropertySpec:
    """The HubSpot property definition for one of crmsync's own properties."""
    return PropertySpec(
        name=needed.name,
        label=needed.label,
        type=needed.type,
        field_type=needed.field_type or "text",
        options=needed.options,
        unique=needed.unique,
        description="Written by crmsync; edits here are overwritten on the next sync.",
    )
