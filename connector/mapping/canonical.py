"""The closed set of canonical fields a mapping may name, with their value types.

A mapping file can only connect CRM fields to the fields listed here; anything else is an error
with a "did you mean ...?" hint. The list follows the canonical model in :mod:`connector.funnel`
(``Person``, ``Company``, ``Qualification``, ``Score``). ``read`` gets a field's value from a
:class:`~connector.funnel.Person`, so the sync engine never needs its own table of paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from connector.funnel import LONGEST_TEXT, Criterion, FunnelStage, Person

__all__ = [
    "CANONICAL_FIELDS",
    "CanonicalField",
    "CanonicalValue",
    "ValueType",
    "canonical_field",
]

CanonicalValue = str | int | float | bool | datetime | FunnelStage | None
"""A canonical field's value as the sync engine holds it (``None`` means blank)."""


class ValueType(StrEnum):
    """What kind of value a canonical field holds; decides which transforms fit it."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    STAGE = "stage"  # a FunnelStage: needs a complete value map per system


@dataclass(frozen=True, slots=True)
class CanonicalField:
    """One field of the canonical funnel record that CRM fields can be mapped to."""

    name: str
    type: ValueType
    description: str
    read: Callable[[Person], CanonicalValue]
    max_length: int | None = None  # the canonical model's own limit, for "lengths fit" checks


def _criterion(name: str) -> Callable[[Person], CanonicalValue]:
    def read(person: Person) -> CanonicalValue:
        criterion: Criterion | None = getattr(person.qualification, name)
        return None if criterion is None else criterion.met

    return read


def _score_reason(person: Person) -> CanonicalValue:
    if person.score is None:
        return None
    ranked = sorted(person.score.contributions, key=lambda item: -abs(item.points))
    # Three largest contributions are what a rep can act on; the full list lives in crmsync.
    text = "; ".join(f"{item.reason or item.rule_id} ({item.points:+g})" for item in ranked[:3])
    return text or None


def _score(part: str) -> Callable[[Person], CanonicalValue]:
    def read(person: Person) -> CanonicalValue:
        return None if person.score is None else float(getattr(person.score, part))

    return read


_STRING = ValueType.STRING
_FIELDS: tuple[CanonicalField, ...] = (
    CanonicalField("person_id", _STRING, "crmsync's own id for the person", lambda p: p.id, 64),
    # No length for e-mail: truncating an address corrupts identity, so an address longer than
    # the target holds is rejected per record rather than flagged for truncation here.
    CanonicalField("email", _STRING, "primary e-mail address", lambda p: p.email),
    CanonicalField("first_name", _STRING, "given name", lambda p: p.first_name, LONGEST_TEXT),
    CanonicalField("last_name", _STRING, "family name", lambda p: p.last_name, LONGEST_TEXT),
    CanonicalField("title", _STRING, "job title", lambda p: p.title, LONGEST_TEXT),
    CanonicalField("phone", _STRING, "phone number", lambda p: p.phone, LONGEST_TEXT),
    CanonicalField("country", _STRING, "country", lambda p: p.country, LONGEST_TEXT),
    CanonicalField("owner", _STRING, "record owner (user id or e-mail)", lambda p: p.owner, 80),
    CanonicalField("company.name", _STRING, "company name", lambda p: p.company.name, LONGEST_TEXT),
    CanonicalField(
        "company.domain", _STRING, "company web domain", lambda p: p.company.domain, 255
    ),
    CanonicalField(
        "company.industry", _STRING, "industry", lambda p: p.company.industry, LONGEST_TEXT
    ),
    CanonicalField(
        "company.employee_count",
        ValueType.INTEGER,
        "number of employees",
        lambda p: p.company.employee_count,
    ),
    CanonicalField(
        "company.annual_revenue",
        ValueType.NUMBER,
        "annual revenue",
        lambda p: p.company.annual_revenue,
    ),
    CanonicalField(
        "qualification.budget", ValueType.BOOLEAN, "BANT budget met", _criterion("budget")
    ),
    CanonicalField(
        "qualification.authority", ValueType.BOOLEAN, "BANT authority met", _criterion("authority")
    ),
    CanonicalField("qualification.need", ValueType.BOOLEAN, "BANT need met", _criterion("need")),
    CanonicalField(
        "qualification.timeline", ValueType.BOOLEAN, "BANT timeline met", _criterion("timeline")
    ),
    CanonicalField("stage", ValueType.STAGE, "funnel stage", lambda p: p.stage),
    CanonicalField(
        "disqualified_reason",
        _STRING,
        "why a disqualified person was ruled out",
        lambda p: p.disqualified_reason,
        255,
    ),
    CanonicalField("score.total", ValueType.NUMBER, "combined score 0..100", _score("total")),
    CanonicalField("score.fit", ValueType.NUMBER, "fit score", _score("fit")),
    CanonicalField("score.engagement", ValueType.NUMBER, "engagement score", _score("engagement")),
    CanonicalField("score.reason", _STRING, "the largest score contributions", _score_reason),
    CanonicalField(
        "updated_at", ValueType.DATETIME, "when the person last changed", lambda p: p.updated_at
    ),
)

CANONICAL_FIELDS: Final = MappingProxyType({field.name: field for field in _FIELDS})
"""Every canonical field a mapping may name, by name, in the canonical model's order."""


def canonical_field(name: str) -> CanonicalField | None:
    """The canonical field called ``name``, or ``None``."""
    return CANONICAL_FIELDS.get(name)
