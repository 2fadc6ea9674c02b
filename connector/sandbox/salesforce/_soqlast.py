"""The SOQL abstract syntax tree shared by the parser, the printer and the evaluator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

__all__ = [
    "ESCAPED_PERCENT",
    "ESCAPED_UNDERSCORE",
    "And",
    "Comparison",
    "Condition",
    "Literal",
    "Not",
    "Or",
    "OrderItem",
    "Query",
    "SoqlSyntaxError",
]

# Escaped LIKE wildcards are held as private-use characters so that a LIKE pattern can tell
# "\%" (a literal percent) from "%" (any characters) after unescaping.
ESCAPED_PERCENT: Final = "\ue000"
ESCAPED_UNDERSCORE: Final = "\ue001"

Literal = str | int | float | bool | date | datetime | None


class SoqlSyntaxError(ValueError):
    """The text is not SOQL this emulator understands (``MALFORMED_QUERY``)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: str  # = != < <= > >= LIKE IN NOT IN
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Condition, ...]


Condition = Comparison | Not | And | Or


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: str
    descending: bool = False
    nulls_last: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    fields: tuple[str, ...]  # empty for SELECT COUNT()
    sobject: str
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None

    @property
    def is_count(self) -> bool:
        return not self.fields
