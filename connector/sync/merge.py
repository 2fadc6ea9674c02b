"""Per-field merge with provenance: which value is canonical, and which systems need a write.

For one person and one mapped field, each system that holds a record for the person offers an
:class:`Observation` (its current value, in canonical form, and when the record changed). The
state store's provenance says what crmsync last *saw* there and what it last *wrote* there.
Each observation is classified:

* ``ECHO``: equal to the value crmsync itself wrote to that system; never a user edit.
* ``UNCHANGED``: equal to what crmsync saw there last time.
* ``EDITED``: anything else, including the first sight of a record.

Then the field's sync rule picks the canonical value (see :mod:`connector.mapping.rules` for the
table) and the systems whose value differs from it get a write, where the rule allows one.
Under ``prefer_*`` a preferred value that is only crmsync's own copy of the canonical value
(an echo, perhaps cut to a shorter field) does not displace it. Conflicts under ``two_way`` go
to the latest modification; an exact tie goes to Salesforce, the
system of record for sales. On the first sight of a pair of records a blank never beats a value,
so linking two records never wipes data.

This module is pure: no I/O, no clock. Values are compared in their JSON form so that what the
state store returns compares equal to what the mapping produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Final

from connector.errors import System
from connector.mapping.rules import SyncRule

__all__ = [
    "Change",
    "FieldMerge",
    "JsonScalar",
    "Observation",
    "Seen",
    "classify",
    "is_blank",
    "json_value",
    "merge_field",
]

JsonScalar = str | int | float | bool | None
_SYSTEMS: Final = (System.SALESFORCE, System.HUBSPOT)


_PLAIN: Final = frozenset({str, int, bool, type(None)})


def json_value(value: object) -> JsonScalar:
    """The comparable, storable form of a canonical value."""
    if type(value) in _PLAIN:  # nearly every call: what the store holds is already plain
        return value  # type: ignore[return-value]
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True, slots=True)
class Observation:
    """A system's current value for the field, and its record's modification time."""

    value: JsonScalar
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class Seen:
    """What crmsync remembers about the field in one system (from provenance)."""

    seen_value: JsonScalar = None
    seen: bool = False  # False: never observed (first sight)
    written_value: JsonScalar = None
    written: bool = False


class Change(StrEnum):
    ECHO = "echo"
    UNCHANGED = "unchanged"
    EDITED = "edited"


@dataclass(frozen=True, slots=True)
class FieldMerge:
    """The outcome for one field: the canonical value, why, and the writes it needs."""

    value: JsonScalar
    source: System | None  # whose value it is; None when kept from before
    reason: str
    changes: dict[System, Change]
    writes: dict[System, JsonScalar]


def classify(observation: Observation, memory: Seen) -> Change:
    value = json_value(observation.value)
    if memory.written and value == json_value(memory.written_value):
        return Change.ECHO
    if memory.seen and value == json_value(memory.seen_value):
        return Change.UNCHANGED
    return Change.EDITED


def _two_way(
    observed: dict[System, Observation],
    changes: dict[System, Change],
    previous: JsonScalar,
    first_sight: bool,
) -> tuple[JsonScalar, System | None, str]:
    edited = [system for system in _SYSTEMS if changes.get(system) is Change.EDITED]
    if first_sight:
        # Linking records for the first time: a value beats a blank, then the latest wins.
        filled = [system for system in edited if not is_blank(observed[system].value)]
        edited = filled or edited
    if not edited:
        if is_blank(previous):
            # Nothing remembered (or remembered blank): converge on whatever value exists.
            for system in _SYSTEMS:
                if system in observed and not is_blank(observed[system].value):
                    return observed[system].value, system, f"only {system.value} has a value"
        return previous, None, "no change in either system"
    if len(edited) == 1:
        (winner,) = edited
        return observed[winner].value, winner, f"changed in {winner.value}"
    values = {json_value(observed[system].value) for system in edited}
    if len(values) == 1:
        return observed[edited[0]].value, edited[0], "same value in both systems"
    # Latest change wins; max() keeps the first of equal keys, and Salesforce is listed first.
    winner = max(edited, key=lambda system: observed[system].modified_at)
    return observed[winner].value, winner, f"changed in both; {winner.value} changed last"


def _our_copy(value: JsonScalar, previous: JsonScalar) -> bool:
    """Is ``value`` the canonical ``previous`` as a shorter field holds it (whole, or cut)?"""
    if value == previous:
        return True
    return isinstance(value, str) and isinstance(previous, str) and previous.startswith(value)


def _preferred(
    rule: SyncRule,
    observed: dict[System, Observation],
    previous: JsonScalar,
    cleared: bool,
    changes: dict[System, Change],
) -> tuple[JsonScalar, System | None, str]:
    preferred = rule.preferred
    assert preferred is not None  # only called for rules that prefer a system
    other = System.HUBSPOT if preferred is System.SALESFORCE else System.SALESFORCE
    mine = observed.get(preferred)
    if mine is not None and not is_blank(mine.value):
        if changes.get(preferred) is Change.ECHO and _our_copy(mine.value, previous):
            # crmsync filled the preferred system from the other one and the field there is
            # shorter: what it holds is our own truncated copy, not a value of its own. Read as
            # the preferred value, it would cut the original in the other CRM down to it on
            # the next run (issue 18: a 60-character HubSpot phone cut to Salesforce's 40).
            return previous, None, f"{preferred.value} holds crmsync's copy"
        return mine.value, preferred, f"{preferred.value} is preferred"
    theirs = observed.get(other)
    if theirs is not None and rule.reads(other) and not is_blank(theirs.value):
        return theirs.value, other, f"{preferred.value} is blank; {other.value} fills it"
    if mine is None and theirs is None:
        return previous, None, f"no record in {preferred.value}"
    # Blank where it may be read. Blanks never propagate under these rules (see merge_field);
    # they clear the canonical value only when a user cleared a value. A record that simply
    # lacks it (one crmsync created, where a ``*_only`` field is never written; a record seen
    # for the first time) does not erase what is known from elsewhere.
    if cleared or is_blank(previous):
        return None, None, f"blank in {preferred.value}"
    return previous, None, f"blank in {preferred.value}; kept"


def merge_field(
    rule: SyncRule,
    observed: dict[System, Observation],
    memory: dict[System, Seen],
    previous: JsonScalar = None,
) -> FieldMerge:
    """Merge one field for one person. ``observed`` holds only systems with a record."""
    readable = {system: obs for system, obs in observed.items() if rule.reads(system)}
    changes = {
        system: classify(obs, memory.get(system, Seen())) for system, obs in observed.items()
    }
    if rule is SyncRule.NONE:
        return FieldMerge(previous, None, "not synced", changes, {})
    first_sight = not any(memory.get(system, Seen()).seen for system in readable)
    if rule is SyncRule.TWO_WAY:
        readable_changes = {system: changes[system] for system in readable}
        value, source, reason = _two_way(readable, readable_changes, previous, first_sight)
    else:
        cleared = any(
            changes[system] is Change.EDITED
            and memory.get(system, Seen()).seen
            and is_blank(obs.value)
            for system, obs in readable.items()
        )
        value, source, reason = _preferred(rule, readable, previous, cleared, changes)

    writes: dict[System, JsonScalar] = {}
    target = json_value(value)
    for system, obs in observed.items():
        if not rule.writes(system) or json_value(obs.value) == target:
            continue
        if rule.writes_only_blank(system) and not is_blank(obs.value):
            continue
        if is_blank(target) and (first_sight or rule is not SyncRule.TWO_WAY):
            continue  # only a deliberate clearing under two_way propagates a blank
        writes[system] = target
    return FieldMerge(target, source, reason, changes, writes)
