"""HubSpot's rules for the values a write carries, checked before anything is written.

* every value is a string; formats are checked per property type and enumerations refuse
  unknown options (``INVALID_OPTION``);
* a contact's ``email`` must be an e-mail address (``INVALID_EMAIL``, :func:`email_problem`);
* read-only properties (``modificationMetadata.readOnlyValue``) refuse writes (``READ_ONLY_VALUE``);
* unknown properties are refused (``PROPERTY_DOESNT_EXIST``);
* ``email`` and ``hasUniqueValue`` properties refuse a value another record holds (``CONFLICT``);
* a batch create is all or nothing (:func:`plan_creates`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connector.sandbox.hubspot._errors import ApiProblem, PropertyError, property_problem
from connector.sandbox.hubspot._records import ObjectTable, Record
from connector.sandbox.hubspot._values import email_problem, normalise

__all__ = [
    "CreateConflict",
    "Planned",
    "WriteRejected",
    "check",
    "conflict_message",
    "plan_creates",
    "prepare_create",
]

Planned = dict[str, str] | list[PropertyError]
"""One input of a batch create: its checked values, or why it is refused on its own."""


class WriteRejected(Exception):
    """A write refused property by property; nothing was changed."""

    def __init__(self, errors: list[PropertyError]) -> None:
        super().__init__(f"{len(errors)} property error(s)")
        self.errors = errors


def conflict_message(name: str, value: str, owner: str) -> str:
    if name == "email":
        # HubSpot's words (HubSpot/hubspot-api-python#51, hubspot-api-nodejs#545).
        return f"Contact already exists. Existing ID: {owner}"
    return f"A record with {name}={value!r} already exists. Existing ID: {owner}"


def _value_errors(table: ObjectTable, name: str, raw: Any, trusted: bool) -> str | PropertyError:
    prop = table.properties.get(name)
    if prop is None:
        return PropertyError(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
    if prop.read_only_value and not trusted:
        return PropertyError(
            name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'
        )
    value = normalise(prop, raw)
    if isinstance(value, str) and value and table.name == "contacts" and name == "email":
        return email_problem(value) or value
    return value


def check(
    table: ObjectTable,
    record: Record | None,
    values: Mapping[str, Any],
    *,
    trusted: bool,
    unique: bool = True,
) -> dict[str, str]:
    """The canonical values of a write to ``record`` (``None``: a new one), or
    :class:`WriteRejected`. ``trusted`` (a user in HubSpot's UI) may set read-only values;
    ``unique=False`` leaves the unique-value check to the caller."""
    errors: list[PropertyError] = []
    clean: dict[str, str] = {}
    for name, raw in values.items():
        value = _value_errors(table, name, raw, trusted)
        if isinstance(value, PropertyError):
            errors.append(value)
        else:
            clean[name] = value
    for name in table.unique_names() if unique else ():
        held = clean.get(name)
        owner = table.owner_of(name, held) if held else None
        if held and owner is not None and (record is None or owner != record.id):
            errors.append(PropertyError(name, "CONFLICT", conflict_message(name, held, owner)))
    if errors:
        raise WriteRejected(errors)
    return clean


def prepare_create(
    table: ObjectTable, values: Mapping[str, Any], *, trusted: bool, unique: bool = True
) -> dict[str, str]:
    """:func:`check` for a new record, plus the values HubSpot requires or defaults."""
    clean = check(table, None, values, trusted=trusted, unique=unique)
    if table.name == "meetings" and not clean.get("hs_timestamp"):
        # HubSpot defaults a meeting's timeline time to its start time.
        clean["hs_timestamp"] = clean.get("hs_meeting_start_time", "")
    missing = [name for name in _required(table.name) if not clean.get(name)]
    if missing:
        raise WriteRejected([PropertyError(n, "REQUIRED", f"{n} is required") for n in missing])
    return clean


class CreateConflict(ApiProblem):
    """A batch create refused whole for a unique value; ``ids_used`` ids were handed out."""

    def __init__(self, message: str, ids_used: int) -> None:
        super().__init__(409, "CONFLICT", message)
        self.ids_used = ids_used


def plan_creates(
    table: ObjectTable, inputs: Sequence[Mapping[str, Any]], *, trusted: bool, first_id: int
) -> list[Planned]:
    """Check a batch create as HubSpot does: all of it, or nothing.

    * An invalid e-mail address refuses the whole call: 400 naming the first such input
      (Atlas-Authority/marketing-automation#174: a batch create failed on one typo'd address).
    * An e-mail (or other unique value) that a contact already holds, or that an earlier input
      of the same call claims, refuses the whole call: 409 "Contact already exists. Existing ID:
      <id>" naming the first conflict only (HubSpot/hubspot-api-python#51,
      HubSpot/hubspot-api-nodejs#545, Joystream/youtube-synch#355). Raised as
      :class:`CreateConflict`.
    * Any other refused value rejects that input alone (a 207 entry), as before.

    The emulator models the call as creating inputs in order and rolling back at the first
    conflict: a duplicate inside the call names the id the earlier input was given, and the ids
    handed out before the conflict are never reused (``CreateConflict.ids_used``); ids are
    handed out from ``first_id`` on.
    """
    planned: list[Planned] = []
    for values in inputs:
        try:
            planned.append(prepare_create(table, values, trusted=trusted, unique=False))
        except WriteRejected as rejected:
            planned.append(rejected.errors)
    for item in planned:
        if isinstance(item, list) and any(e.code == "INVALID_EMAIL" for e in item):
            raise property_problem(item)
    claimed: dict[tuple[str, str], str] = {}
    handed_out = 0
    for item in planned:
        if isinstance(item, list):
            continue
        for name in table.unique_names():
            held = item.get(name)
            if not held:
                continue
            owner = table.owner_of(name, held) or claimed.get((name, held.lower()))
            if owner is not None:
                raise CreateConflict(conflict_message(name, held, owner), handed_out)
        for name in table.unique_names():
            if item.get(name):
                claimed[(name, item[name].lower())] = str(first_id + handed_out)
        handed_out += 1
    return planned


def _required(object_type: str) -> Iterable[str]:
    return {
        "emails": ("hs_timestamp",),
        "calls": ("hs_timestamp",),
        "meetings": ("hs_timestamp",),
        "notes": ("hs_timestamp", "hs_note_body"),
        "tasks": ("hs_timestamp", "hs_task_subject"),
        "deals": ("dealname",),
    }.get(object_type, ())
