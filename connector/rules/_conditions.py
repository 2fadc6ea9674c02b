"""One fit condition: a canonical field, one operator from a closed set, and its operand.

No expressions, no templating: a condition is data. Which operators suit which field type is a
table in :mod:`connector.rules._fields`.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connector.rules._fields import FIELDS, OPERATORS, SENIORITY_VALUES, FieldType
from connector.yamlfile import did_you_mean

__all__ = ["OPERATOR_NAMES", "Condition"]

Text = Annotated[str, Field(min_length=1, max_length=255)]

# Field name (python) → the key admins write.
OPERATOR_NAMES: dict[str, str] = {
    "equals": "equals",
    "in_": "in",
    "not_in": "not_in",
    "contains": "contains",
    "in_list": "in_list",
    "not_in_list": "not_in_list",
    "gte": "gte",
    "lte": "lte",
    "between": "between",
    "exists": "exists",
}


class Condition(BaseModel):
    """``{field: company.employee_count, between: [200, 5000]}`` and the like.

    A missing value (unknown title, no company size) matches only ``exists: false``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)

    field: str
    equals: str | bool | float | None = None
    in_: list[Text] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Text] | None = Field(default=None, min_length=1)
    contains: Text | list[Text] | None = None
    in_list: str | None = None
    not_in_list: str | None = None
    gte: float | None = None
    lte: float | None = None
    between: tuple[float, float] | None = None
    exists: bool | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value not in FIELDS:
            hint = did_you_mean(value, FIELDS) or "known fields: " + ", ".join(FIELDS)
            raise ValueError(f"unknown field {value!r}; {hint}")
        return value

    @field_validator("in_list", "not_in_list")
    @classmethod
    def _known_list(cls, value: str | None, info: ValidationInfo) -> str | None:
        names: frozenset[str] = frozenset((info.context or {}).get("lists", ()))
        if value is not None and value not in names:
            hint = did_you_mean(value, names) or (
                "lists defined: " + ", ".join(sorted(names)) if names else "define it under lists:"
            )
            raise ValueError(f"unknown list {value!r}; {hint}")
        return value

    @field_validator("between")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(
                f"between needs the low number first, got {value[0]:.15g} then {value[1]:.15g}"
            )
        return value

    def operator(self) -> str:
        """The python name of the one operator this condition uses."""
        return next(name for name in OPERATOR_NAMES if name in self.model_fields_set)

    def operand(self) -> object:
        return getattr(self, self.operator())

    @model_validator(mode="after")
    def _one_operator(self) -> Self:
        used = [name for name in OPERATOR_NAMES if name in self.model_fields_set]
        if len(used) != 1:
            shown = ", ".join(OPERATOR_NAMES[name] for name in used) or "none"
            raise ValueError(
                f"a condition needs exactly one operator, found {shown} "
                f"(operators: {', '.join(OPERATOR_NAMES.values())})"
            )
        if self.field not in FIELDS:
            return self  # already reported by the field validator
        kind = FIELDS[self.field]
        operator = OPERATOR_NAMES[used[0]]
        if operator not in OPERATORS[kind]:
            allowed = ", ".join(sorted(OPERATORS[kind]))
            raise ValueError(
                f"operator {operator!r} does not apply to {kind} field {self.field!r} "
                f"(use one of: {allowed})"
            )
        value = getattr(self, used[0])
        if operator == "equals":
            _check_equals(self.field, kind, value)
        if self.field == "seniority":
            _check_seniority(value)
        return self


def _check_equals(field: str, kind: FieldType, value: object) -> None:
    expected: type | tuple[type, ...] = {
        FieldType.TEXT: str,
        FieldType.NUMBER: float,
        FieldType.FLAG: bool,
    }[kind]
    if (isinstance(value, bool) and kind is not FieldType.FLAG) or not isinstance(value, expected):
        raise ValueError(f"equals on {kind} field {field!r} needs a {kind} value, got {value!r}")


def _check_seniority(value: object) -> None:
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    for item in values:
        if isinstance(item, str) and item.casefold() not in SENIORITY_VALUES:
            hint = did_you_mean(item.casefold(), SENIORITY_VALUES) or "seniority is one of " + (
                ", ".join(sorted(SENIORITY_VALUES))
            )
            raise ValueError(f"unknown seniority {item!r}; {hint}")
