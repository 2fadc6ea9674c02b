"""Check every planned value against the live schema before it is sent; hold back the bad ones.

A value a CRM will refuse (a stage that is not an active option of a restricted picklist, a
read-only field, text longer than the field, a number field given text) would cost the whole
record in Salesforce: stage and scores with it. So each planned field is checked against the
schema the run already described, and an invalid value is held back **for that field only**:
the record's other fields go out in the same run. What was held back is reported (field,
value where it is not personal data, allowed values, the mapping line that produced it) and
kept as a dead letter that waits for a change of its inputs, the mapping or the schema
(retrying it on a timer would only fail again).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from connector.crm.types import FieldSchema, ObjectSchema
from connector.errors import System
from connector.funnel import SourceRef, normalise_email
from connector.mapping.model import MappingSet, Target
from connector.sync.plan import FieldChange, RecordPlan, WriteKind

__all__ = ["Held", "fingerprint", "validate_record"]

_TEXT = frozenset(
    {"string", "textarea", "email", "phone", "url", "encryptedstring", "combobox", "phone_number"}
)
_NUMBER = frozenset({"double", "currency", "percent", "int", "long", "number"})
_PICKLIST = frozenset({"picklist", "multipicklist", "enumeration"})
_ENUMERATED = _PICKLIST | {"boolean", "bool"}  # values safe to show: not personal data


@dataclass(frozen=True, slots=True)
class Held:
    """One planned value held back because the CRM would refuse it."""

    ref: SourceRef
    person_id: str
    change: FieldChange
    code: str  # INVALID_PICKLIST_VALUE, READ_ONLY, TOO_LONG, WRONG_TYPE, NO_SUCH_FIELD, REQUIRED
    reason: str  # what is wrong and how to fix it (no personal data)
    allowed: tuple[str, ...] = ()
    origin: str = ""  # the mapping's file:line for this target

    def message(self) -> str:
        where = f" (mapping {self.change.mapping} at {self.origin})" if self.origin else ""
        return f"{self.change.field}: {self.reason}{where}"


def fingerprint(mappings: MappingSet, schema: ObjectSchema | None) -> str:
    """What a held value waits on changing: the mapping files and the target's schema."""
    digest = hashlib.sha256()
    for name in sorted(mappings.sha256):
        digest.update(f"{name}={mappings.sha256[name]}\n".encode())
    digest.update(schema.model_dump_json().encode() if schema is not None else b"-")
    return digest.hexdigest()


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _shown(field: FieldSchema, value: object) -> str:
    """The value as a report may show it: enumerations in full, free text by its length."""
    if field.type in _ENUMERATED or isinstance(value, bool | int | float) or value is None:
        return repr(value)
    return f"a value of {_utf16(str(value))} characters"


def _parts(field: FieldSchema, value: str) -> list[str]:
    if field.type == "multipicklist" or (field.type == "enumeration" and field.multiple):
        return [part for part in value.split(";") if part]
    return [value]


def _number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    try:
        return math.isfinite(float(str(value)))
    except ValueError:
        return False


def _temporal(value: object, kind: str) -> bool:
    if isinstance(value, datetime | date):
        return True
    text = str(value)
    if kind in ("date", "datetime") and text.isdigit():
        return True  # HubSpot takes epoch milliseconds
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _problem(
    field: FieldSchema | None, change: FieldChange, kind: WriteKind
) -> tuple[str, str, tuple[str, ...]] | None:
    """``(code, reason, allowed values)`` when the CRM would refuse this value."""
    if field is None:
        return "NO_SUCH_FIELD", "the field does not exist (or crmsync may not see it)", ()
    writable = field.createable if kind is WriteKind.CREATE else field.updateable
    if not writable:
        return "READ_ONLY", "the field is read-only for crmsync's user", ()
    value = change.new
    if value is None or value == "":
        if not field.nillable and field.type not in ("boolean", "bool"):
            return "REQUIRED", "the field is required and cannot be cleared", ()
        return None
    if field.type in _PICKLIST and (field.restricted_picklist or field.type == "enumeration"):
        allowed = field.picklist_values
        bad = [part for part in _parts(field, str(value)) if part not in allowed]
        if bad:
            return (
                "INVALID_PICKLIST_VALUE",
                f"{_shown(field, value)} is not an active option; map it to one of the "
                "allowed values in the mapping's value map, or add it to the field",
                allowed,
            )
        return None
    if field.type in _NUMBER and not _number(value):
        return "WRONG_TYPE", f"{_shown(field, value)} is not a number", ()
    if field.type in ("boolean", "bool") and not (
        isinstance(value, bool) or str(value).lower() in ("true", "false")
    ):
        return "WRONG_TYPE", f"{_shown(field, value)} is not true or false", ()
    if field.type in ("date", "datetime") and not _temporal(value, field.type):
        return "WRONG_TYPE", f"{_shown(field, value)} is not a {field.type}", ()
    if field.type in _TEXT and field.length is not None and _utf16(str(value)) > field.length:
        return (
            "TOO_LONG",
            f"{_shown(field, value)} is longer than the field's {field.length}; add `truncate` "
            "to the mapping's transforms, or widen the field",
            (),
        )
    if field.type == "email" or change.mapping == "email":
        # HubSpot types its e-mail property as a plain string, yet refuses the whole batch for
        # one bad address (400 INVALID_EMAIL): check the canonical e-mail wherever it goes.
        try:
            normalise_email(str(value))
        except ValueError:
            return "INVALID_EMAIL", "not a valid e-mail address; fix it in the other CRM", ()
    return None


def validate_record(
    record: RecordPlan,
    schemas: Mapping[tuple[System, str], ObjectSchema],
    mappings: MappingSet,
) -> tuple[RecordPlan | None, list[Held]]:
    """The record with every value the CRM would refuse taken out (``None`` when nothing is
    left to write), and what was held back. A record whose object was not described (a dry
    run without live access) is passed through unchanged."""
    schema = schemas.get((record.system, record.object_type))
    if schema is None or record.kind is WriteKind.DELETE:
        return record, []
    ref = SourceRef(
        system=record.system, object_type=record.object_type, record_id=record.record_id
    )
    kept: list[FieldChange] = []
    held: list[Held] = []
    for change in record.changes:
        found = _problem(schema.field(change.field), change, record.kind)
        if found is None:
            kept.append(change)
            continue
        code, reason, allowed = found
        origin = _origin(mappings, change, Target(record.system, record.object_type, change.field))
        held.append(Held(ref, record.person_id, change, code, reason, allowed, origin))
    if not held:
        return record, []
    if record.kind is WriteKind.CREATE and any(h.code == "REQUIRED" for h in held):
        return None, held  # a record without a required value cannot be created at all
    if not _identifies(kept, record):
        return None, held
    clear_first = tuple(name for name in record.clear_first if name in {c.field for c in kept})
    return record.model_copy(update={"changes": tuple(kept), "clear_first": clear_first}), held


def _identifies(kept: Sequence[FieldChange], record: RecordPlan) -> bool:
    """Is there still something to write (a create must still carry its e-mail)?"""
    if not kept:
        return False
    if record.kind is not WriteKind.CREATE:
        return True
    return any(c.mapping == "email" or c.field.lower() == "email" for c in kept)


def _origin(mappings: MappingSet, change: FieldChange, target: Target) -> str:
    if not change.mapping:
        return ""
    try:
        return str(mappings.get(change.mapping).origin_of(target))
    except KeyError:
        return ""
