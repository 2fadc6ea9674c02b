"""The describe resources: ``/sobjects`` (global) and ``/sobjects/{type}/describe``."""

from __future__ import annotations

from typing import Any

from connector.sandbox.salesforce.schema import OBJECTS, FieldSpec, ObjectSpec

__all__ = ["describe_global", "describe_object"]

_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
    "date": "xsd:date", "datetime": "xsd:dateTime",
}  # fmt: skip


def _urls(spec: ObjectSpec, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{spec.name}"
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
    }


def _label(field: FieldSpec) -> str:
    if field.label:
        return field.label
    name = field.name.removesuffix("__c").removesuffix("Id") or field.name
    spaced = "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(name))
    return spaced.replace("_", " ").strip()


def _field(field: FieldSpec) -> dict[str, Any]:
    numeric = field.type in ("double", "currency", "percent")
    return {
        "name": field.name,
        "label": _label(field),
        "type": field.type,
        "soapType": _SOAP_TYPES.get(field.type, "xsd:string"),
        "length": field.length if field.is_string else 0,
        "byteLength": field.length * 3 if field.is_string else 0,
        "precision": field.precision if numeric else 0,
        "scale": field.scale if numeric else 0,
        "digits": field.precision if field.type == "int" else 0,
        "nillable": field.nillable,
        "createable": field.createable,
        "updateable": field.updateable,
        "custom": field.custom,
        "calculated": False,
        "autoNumber": False,
        "caseSensitive": False,
        "externalId": field.external_id,
        "idLookup": field.external_id or field.name in ("Id", "Email"),
        "unique": field.unique,
        "filterable": field.type != "textarea" or field.length <= 255,
        "sortable": field.type != "textarea" or field.length <= 255,
        "groupable": field.type not in ("double", "currency", "percent", "datetime"),
        "defaultedOnCreate": field.defaulted_on_create,
        "defaultValue": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship,
        "polymorphicForeignKey": len(field.reference_to) > 1,
        "restrictedPicklist": field.restricted,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": value == field.default_value,
                "label": value,
                "validFor": None,
                "value": value,
            }
            for value in field.picklist
        ],
        "inlineHelpText": None,
        "permissionable": field.custom or (field.nillable and field.updateable),
    }


def describe_object(spec: ObjectSpec, version: str) -> dict[str, Any]:
    """``DescribeSObjectResult`` for one object."""
    return {
        "name": spec.name,
        "label": spec.label,
        "labelPlural": spec.label_plural,
        "keyPrefix": spec.key_prefix,
        "custom": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "retrieveable": True,
        "replicateable": True,
        "searchable": True,
        "fields": [_field(field) for field in spec.fields],
        "childRelationships": [],
        "recordTypeInfos": [],
        "urls": _urls(spec, version),
    }


def describe_global(version: str) -> dict[str, Any]:
    """The global describe: every emulated object, briefly."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            {
                "name": spec.name,
                "label": spec.label,
                "labelPlural": spec.label_plural,
                "keyPrefix": spec.key_prefix,
                "custom": False,
                "queryable": True,
                "createable": True,
                "updateable": True,
                "urls": _urls(spec, version),
            }
            for spec in OBJECTS.values()
        ],
    }
