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


_MERGEABLE = frozenset({"Lead", "Contact", "Account"})
_PERSON_NAMES = frozenset({"FirstName", "LastName"})


def _field(spec: ObjectSpec, field: FieldSpec) -> dict[str, Any]:
    """One ``DescribeFieldResult`` with every documented key, in Salesforce's (alphabetical)
    order. The key set is the one real REST describes carry (a captured Account describe in
    public test fixtures, e.g. CumulusCI's org-schema tests, and the DescribeFieldResult
    reference, https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesobjects_describesobjectresult.htm);
    values the emulator has no notion of (formulas, masks, encryption, dependent picklists)
    are the ones a standard field without them has: ``null`` or ``false``."""
    numeric = field.type in ("double", "currency", "percent")
    string = field.is_string
    long_text = field.type == "textarea" and field.length > 255
    is_name = field.name == "Name"
    compound_name = spec.field("FirstName") is not None  # Name is FirstName + LastName
    compound = "Name" if field.name in _PERSON_NAMES and compound_name else None
    extra = None
    if field.type == "textarea":
        extra = "plaintextarea"
    elif is_name and compound_name:
        extra = "personname"
    return {
        "aggregatable": not long_text,
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": field.length * 3 if string else 0,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": compound,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": False if field.type == "boolean" else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": field.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": field.precision if field.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": field.external_id,
        "extraTypeInfo": extra,
        "filterable": not long_text,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": field.type not in ("double", "currency", "percent", "datetime")
        and not long_text,
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": field.external_id or field.name in ("Id", "Email", "Name", "Username"),
        "inlineHelpText": None,
        "label": _label(field),
        "length": field.length if string else 0,
        "mask": None,
        "maskType": None,
        "name": field.name,
        "nameField": is_name,
        "namePointing": len(field.reference_to) > 1,
        "nillable": field.nillable,
        "permissionable": field.custom or (field.nillable and field.updateable),
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
        "polymorphicForeignKey": len(field.reference_to) > 1,
        "precision": field.precision if numeric else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": field.restricted,
        "scale": field.scale if numeric else 0,
        "searchPrefilterable": False,
        "soapType": _SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": not long_text,
        "type": field.type,
        "unique": field.unique,
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


def _children(spec: ObjectSpec) -> list[dict[str, Any]]:
    """``childRelationships``: every emulated field that references ``spec``."""
    return [
        {
            "cascadeDelete": False,
            "childSObject": child.name,
            "deprecatedAndHidden": False,
            "field": field.name,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            # Standard relationships are named after the child's plural (Contacts, Tasks...).
            "relationshipName": child.label_plural.replace(" ", "") if field.createable else None,
            "restrictedDelete": False,
        }
        for child in OBJECTS.values()
        for field in child.fields
        if spec.name in field.reference_to
    ]


def _object(spec: ObjectSpec, version: str) -> dict[str, Any]:
    """The object-level keys shared by the global and the object describe."""
    return {
        "activateable": False,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": spec.name in _MERGEABLE or spec.name == "Opportunity",
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": spec.key_prefix,
        "label": spec.label,
        "labelPlural": spec.label_plural,
        "layoutable": True,
        "mergeable": spec.name in _MERGEABLE,
        "mruEnabled": True,
        "name": spec.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": _urls(spec, version),
    }


def describe_object(spec: ObjectSpec, version: str) -> dict[str, Any]:
    """``DescribeSObjectResult`` for one object, with the documented keys."""
    return _object(spec, version) | {
        "actionOverrides": [],
        "childRelationships": _children(spec),
        "compactLayoutable": True,
        "defaultImplementation": None,
        "extendedBy": None,
        "extendsInterfaces": None,
        "fields": [_field(spec, field) for field in spec.fields],
        "implementedBy": None,
        "implementsInterfaces": None,
        "listviewable": None,
        "lookupLayoutable": None,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "recordTypeInfos": [],
        "searchLayoutable": True,
        "sobjectDescribeOption": "FULL",
        "supportedScopes": [],
    }


def describe_global(version: str) -> dict[str, Any]:
    """The global describe: every emulated object, with the global result's keys."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [_object(spec, version) for spec in OBJECTS.values()],
    }
