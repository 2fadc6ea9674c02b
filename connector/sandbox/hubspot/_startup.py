"""What third-party HubSpot clients call at start-up, served as HubSpot serves it (reference §9).

Airbyte's source-hubspot, for one, lists custom object schemas (``GET /crm/v3/schemas``), reads
property definitions through the legacy ``/properties/v2/{entity}/properties`` (entities
``contact``, ``company``, ``deal``) and asks object reads for ``associations`` to companies,
deals and tickets. Older clients read ``/properties/v1/{contacts,companies,deals}/properties``.

* ``GET /crm/v3/schemas`` (the documented path Airbyte calls) and
  ``GET /crm-object-schemas/v3/schemas`` (the spec's path, which hubspot-api-client 12 calls):
  the portal has no custom objects, ``{"results": []}`` (spec
  ``CollectionResponseObjectSchemaNoPaging``).
* Legacy property lists answer a bare JSON array of property objects (HubSpot's legacy
  reference for ``GET /properties/v1/contacts/properties`` and the CRM properties v2 overview):
  ``type`` is one of ``string, number, date, datetime, enumeration`` (a ``bool`` is an
  ``enumeration`` with a ``booleancheckbox`` field, a phone number a ``string``), times are
  epoch milliseconds, options carry ``readOnly`` and ``doubleData``.
* Companies and tickets exist in every portal; the emulator holds none (companies come later).
  They are known object types whose records have no associations, and company property
  definitions are HubSpot's default company properties (knowledge.hubspot.com, "HubSpot's
  default company properties").
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from connector.sandbox.hubspot._app import Endpoint, Reply
from connector.sandbox.hubspot._catalogue import LIFECYCLE_STAGES, canonical_type
from connector.sandbox.hubspot._errors import ApiProblem
from connector.sandbox.hubspot._propbuild import calculated, common, prop
from connector.sandbox.hubspot._render import Call
from connector.sandbox.hubspot._schema import Option, PropertyDef
from connector.sandbox.hubspot._values import epoch_ms

if TYPE_CHECKING:
    from connector.sandbox.hubspot import HubSpotEmulator

__all__ = ["EMPTY_TYPES", "ENDPOINTS", "company_properties", "empty_type", "properties_of"]

JsonObject = dict[str, Any]

# Object types every portal has but the emulator holds no records of: name -> (singular, id).
EMPTY_TYPES: Final = MappingProxyType(
    {"companies": ("company", "0-2"), "tickets": ("ticket", "0-5")}
)
_LEGACY_TYPES: Final = {"bool": "enumeration", "phone_number": "string"}


def empty_type(name: str) -> str | None:
    """``companies`` for ``companies``, ``company``, ``COMPANY`` or ``0-2`` (likewise tickets)."""
    lowered = name.lower()
    for plural, (singular, type_id) in EMPTY_TYPES.items():
        if lowered in (plural, singular, type_id):
            return plural
    return None


def company_properties() -> list[PropertyDef]:
    g = "companyinformation"
    return [
        *common(g),
        calculated("createdate", "Create Date", "datetime", "date", g),
        prop("name", "Company name", "string", "text", g),
        prop("domain", "Company Domain Name", "string", "text", g),
        prop("website", "Website URL", "string", "text", g),
        prop("phone", "Phone Number", "string", "phonenumber", g),
        prop("address", "Street Address", "string", "text", g),
        prop("city", "City", "string", "text", g),
        prop("state", "State/Region", "string", "text", g),
        prop("zip", "Postal Code", "string", "text", g),
        prop("country", "Country/Region", "string", "text", g),
        prop("numberofemployees", "Number of Employees", "number", "number", g),
        prop("annualrevenue", "Annual Revenue", "number", "number", g),
        prop("description", "Description", "string", "textarea", g),
        prop(
            "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", g, options=LIFECYCLE_STAGES
        ),
    ]


def _legacy_option(option: Option) -> JsonObject:
    return {
        "description": option.description,
        "label": option.label,
        "value": option.value,
        "displayOrder": option.display_order,
        "hidden": option.hidden,
        "readOnly": False,
        "doubleData": 0.0,
    }


def _legacy(prop: PropertyDef) -> JsonObject:
    """One property as the v1/v2 property APIs describe it."""
    return {
        "name": prop.name,
        "label": prop.label,
        "description": prop.description,
        "groupName": prop.group_name,
        "type": _LEGACY_TYPES.get(prop.type, prop.type),
        "fieldType": prop.field_type,
        "options": [_legacy_option(o) for o in prop.options],
        "displayOrder": prop.display_order,
        "formField": prop.form_field,
        "readOnlyValue": prop.read_only_value,
        "readOnlyDefinition": prop.read_only_definition,
        "hidden": prop.hidden,
        "mutableDefinitionNotDeletable": prop.hubspot_defined,
        "favorited": False,
        "favoritedOrder": -1,
        "calculated": prop.calculated,
        "externalOptions": False,
        "displayMode": "current_value",
        "deleted": False,
        "hubspotDefined": True if prop.hubspot_defined else None,
        "hasUniqueValue": prop.has_unique_value,
        "createdAt": epoch_ms(prop.created_at) if prop.created_at else None,
        "updatedAt": epoch_ms(prop.updated_at) if prop.updated_at else None,
        "createdUserId": None,
        "updatedUserId": None,
    }


def properties_of(emu: HubSpotEmulator, name: str) -> list[PropertyDef]:
    """The property definitions of an object type, companies included."""
    if canonical_type(name) is None and empty_type(name) == "companies":
        return company_properties()
    return emu.store.properties(name)


def _legacy_properties(allowed: frozenset[str]) -> Any:
    def handler(emu: HubSpotEmulator, call: Call) -> Reply:
        name = call.params["objectType"]
        if name not in allowed:
            raise ApiProblem(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
        return 200, [_legacy(p) for p in properties_of(emu, name)]

    return handler


def list_schemas(emu: HubSpotEmulator, call: Call) -> Reply:
    return 200, {"results": []}


_V1: Final = frozenset({"contacts", "companies", "deals"})
_V2: Final = frozenset({"contact", "company", "deal", *_V1})
ENDPOINTS: Final = (
    Endpoint("/crm/v3/schemas", ("GET",), list_schemas),
    Endpoint("/crm-object-schemas/v3/schemas", ("GET",), list_schemas),
    Endpoint("/properties/v1/{objectType}/properties", ("GET",), _legacy_properties(_V1)),
    Endpoint("/properties/v2/{objectType}/properties", ("GET",), _legacy_properties(_V2)),
)
