"""The closed set of canonical fields a fit rule may test, with their types and how to read them.

A table, so the rules file, the validator and the compiled evaluator all agree on one list.
Text values are compared case-insensitively (``casefold``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from operator import attrgetter
from typing import Final

from connector.funnel import Person, Seniority

__all__ = [
    "DOMAIN_FIELDS",
    "FIELDS",
    "OPERATORS",
    "SENIORITY_VALUES",
    "FieldType",
    "Getter",
    "Value",
    "getter",
]

Value = str | float | bool | None
Getter = Callable[[Person], Value]


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    FLAG = "flag"


FIELDS: Final[dict[str, FieldType]] = {
    "title": FieldType.TEXT,
    "seniority": FieldType.TEXT,
    "country": FieldType.TEXT,
    "email_domain": FieldType.TEXT,
    "company.name": FieldType.TEXT,
    "company.domain": FieldType.TEXT,
    "company.industry": FieldType.TEXT,
    "company.employee_count": FieldType.NUMBER,
    "company.annual_revenue": FieldType.NUMBER,
    "bant.budget": FieldType.FLAG,
    "bant.authority": FieldType.FLAG,
    "bant.need": FieldType.FLAG,
    "bant.timeline": FieldType.FLAG,
}

# Fields holding domains: `in_list` matches the domain itself or any subdomain of a list entry.
DOMAIN_FIELDS: Final = frozenset({"email_domain", "company.domain"})

OPERATORS: Final[dict[FieldType, frozenset[str]]] = {
    FieldType.TEXT: frozenset(
        {"equals", "in", "not_in", "contains", "in_list", "not_in_list", "exists"}
    ),
    FieldType.NUMBER: frozenset({"equals", "gte", "lte", "between", "exists"}),
    FieldType.FLAG: frozenset({"equals", "exists"}),
}

# "unknown" is no value at all: a rule tests it with `exists: false`.
SENIORITY_VALUES: Final = frozenset(
    item.value for item in Seniority if item is not Seniority.UNKNOWN
)


def _email_domain(person: Person) -> Value:
    return person.email.rpartition("@")[2] if person.email else None


def _seniority(person: Person) -> Value:
    # Unknown seniority is "no value": it matches only `exists: false`.
    return None if person.seniority is Seniority.UNKNOWN else person.seniority.value


def _bant(name: str) -> Getter:
    def read(person: Person) -> Value:
        criterion = getattr(person.qualification, name)
        return None if criterion is None else bool(criterion.met)

    return read


# Text comes back as stored (conditions fold case themselves; look-ups try the stored spelling
# first); attrgetter reads dotted paths in C, which matters at 50,000 people per second.
_GETTERS: Final[dict[str, Getter]] = {
    "title": attrgetter("title"),
    "seniority": _seniority,
    "country": attrgetter("country"),
    "email_domain": _email_domain,
    "company.name": attrgetter("company.name"),
    "company.domain": attrgetter("company.domain"),
    "company.industry": attrgetter("company.industry"),
    "company.employee_count": attrgetter("company.employee_count"),
    "company.annual_revenue": attrgetter("company.annual_revenue"),
    "bant.budget": _bant("budget"),
    "bant.authority": _bant("authority"),
    "bant.need": _bant("need"),
    "bant.timeline": _bant("timeline"),
}


def getter(field: str) -> Getter:
    """How to read ``field`` from a person."""
    return _GETTERS[field]
