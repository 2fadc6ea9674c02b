"""Planned values checked against the live schema: each kind of value a CRM refuses is held
back for its field alone, the record's other fields stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.crm.types import FieldSchema, ObjectSchema
from connector.errors import System
from connector.mapping import load_mappings
from connector.sync.plan import FieldChange, RecordPlan, WriteKind
from connector.sync.validate import fingerprint, validate_record

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = load_mappings(ROOT / "mappings")


def _field(name: str, type_: str, **extra: object) -> FieldSchema:
    base: dict[str, object] = {"name": name, "type": type_, "updateable": True, "createable": True}
    return FieldSchema.model_validate(base | extra)


SCHEMA = ObjectSchema(
    system=System.SALESFORCE,
    object_type="Lead",
    fields={
        f.name: f
        for f in (
            _field(
                "Status", "picklist", picklist_values=("Open", "Working"), restricted_picklist=True
            ),
            _field("Rating", "picklist", picklist_values=("Hot",)),  # not restricted
            _field("Title", "string", length=10),
            _field("NumberOfEmployees", "int"),
            _field("HasOptedOutOfEmail", "boolean"),
            _field("Name", "string", updateable=False),
            _field("LastName", "string", nillable=False),
            _field("Email", "email"),
            _field(
                "Tags__c", "multipicklist", picklist_values=("a", "b"), restricted_picklist=True
            ),
        )
    },
)
SCHEMAS = {(System.SALESFORCE, "Lead"): SCHEMA}


def _record(*changes: tuple[str, object], kind: WriteKind = WriteKind.UPDATE) -> RecordPlan:
    return RecordPlan(
        system=System.SALESFORCE,
        object_type="Lead",
        record_id="00Q000000000001",
        person_id="p1",
        kind=kind,
        changes=tuple(
            FieldChange(field=f, mapping="", old=None, new=v, value=v, reason="test")
            for f, v in changes
        ),
    )


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("Status", "Nurturing", "INVALID_PICKLIST_VALUE"),
        ("Tags__c", "a;z", "INVALID_PICKLIST_VALUE"),
        ("Title", "x" * 11, "TOO_LONG"),
        ("Title", "😀" * 6, "TOO_LONG"),  # 12 UTF-16 units in a 10-character field
        ("NumberOfEmployees", "lots", "WRONG_TYPE"),
        ("HasOptedOutOfEmail", "maybe", "WRONG_TYPE"),
        ("Name", "Ada", "READ_ONLY"),
        ("LastName", None, "REQUIRED"),
        ("Email", "not-an-email", "INVALID_EMAIL"),
        ("Nope__c", "x", "NO_SUCH_FIELD"),
    ],
)
def test_a_value_the_crm_refuses_is_held_back_alone(field: str, value: object, code: str) -> None:
    kept, held = validate_record(_record(("Rating", "Cold"), (field, value)), SCHEMAS, MAPPINGS)
    assert [h.code for h in held] == [code]
    assert held[0].change.field == field
    assert kept is not None
    assert [c.field for c in kept.changes] == ["Rating"]  # unrestricted picklist: any value


def test_valid_values_pass_untouched_and_a_record_left_empty_is_dropped() -> None:
    record = _record(
        ("Status", "Working"), ("Tags__c", "a;b"), ("Title", "CEO"), ("Email", "a@b.co")
    )
    assert validate_record(record, SCHEMAS, MAPPINGS) == (record, [])
    kept, held = validate_record(_record(("Status", "Nope")), SCHEMAS, MAPPINGS)
    assert kept is None
    assert len(held) == 1


def test_the_allowed_values_are_named_and_free_text_is_not_shown() -> None:
    _, (held,) = validate_record(_record(("Status", "Nurturing")), SCHEMAS, MAPPINGS)
    assert held.allowed == ("Open", "Working")
    assert "'Nurturing'" in held.reason
    _, (long,) = validate_record(_record(("Title", "Private Person Title")), SCHEMAS, MAPPINGS)
    assert "Private" not in long.reason  # free text: its length only
    assert "20 characters" in long.reason


def test_the_fingerprint_changes_with_the_schema() -> None:
    other = SCHEMA.model_copy(update={"fields": {**SCHEMA.fields, "X": _field("X", "string")}})
    assert fingerprint(MAPPINGS, SCHEMA) == fingerprint(MAPPINGS, SCHEMA)
    assert fingerprint(MAPPINGS, SCHEMA) != fingerprint(MAPPINGS, other)
