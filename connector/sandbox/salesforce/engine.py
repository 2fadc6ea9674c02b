"""Evaluate parsed SOQL against the store: field resolution, type checks, filter, sort, project.

A query is compiled once into Python closures, then run as one linear pass over the object's
rows plus a sort, so 200,000-row tables stay fast. Errors carry Salesforce's error codes:
``INVALID_TYPE`` for an unknown object, ``INVALID_FIELD`` for an unknown field or a literal of
the wrong type, ``MALFORMED_QUERY`` for syntax, ``NUMBER_OUTSIDE_VALID_RANGE`` for an ``OFFSET``
above 2,000 ("Maximum SOQL offset allowed is 2000", the body public client tests record; the
limit is in the SOQL reference's OFFSET page). Type and field errors start as Salesforce's do:
the query line, a caret, ``ERROR at Row:1:Column:N`` (1-based), then the reason, as in the
bodies orgs return (``"\nCreatedById,...\n   ^\nERROR at Row:1:Column:114\nNo such column
'TPI_Product__c' on entity ..."``, quoted from a client's issue in public code). The caret
points at the field named (Salesforce points a type error at the value; here it is the field).
Such REST bodies carry no ``fields`` list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connector.sandbox.salesforce._values import json_value, to_18
from connector.sandbox.salesforce.schema import (
    OBJECTS,
    FieldSpec,
    ObjectSpec,
    object_for_id,
    object_spec,
)
from connector.sandbox.salesforce.soql import (
    ESCAPED_PERCENT,
    ESCAPED_UNDERSCORE,
    And,
    Comparison,
    Condition,
    Literal,
    Not,
    Or,
    Query,
    SoqlSyntaxError,
    parse,
)
from connector.sandbox.salesforce.store import Row, SalesforceStore

__all__ = ["CompiledQuery", "SoqlError", "compile_query"]

_NUMBER_TYPES = frozenset({"int", "double", "currency", "percent", "long"})
_SF_TYPE_NAMES = {"datetime": "dateTime", "int": "integer", "boolean": "boolean", "date": "date"}


MAX_OFFSET = 2000


class SoqlError(Exception):
    """A query Salesforce would refuse: ``error_code`` is its ``errorCode``.

    ``token`` is the text the error is about, for :func:`compile_query` to locate in the query
    (searched from the ``WHERE`` clause on when ``in_where``).
    """

    def __init__(
        self, error_code: str, message: str, token: str | None = None, *, in_where: bool = False
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.token = token
        self.in_where = in_where


def _located(source: str, error: SoqlError) -> SoqlError:
    """``error`` with Salesforce's ``ERROR at Row:R:Column:C`` prefix, when its token is found."""
    if error.token is None:
        return error
    start = 0
    if error.in_where:
        where = re.search(r"\bWHERE\b", source, re.IGNORECASE)
        start = where.end() if where else 0
    pattern = re.compile(rf"(?<![\w.]){re.escape(error.token)}(?![\w.])", re.IGNORECASE)
    found = pattern.search(source, start) or pattern.search(source)
    if found is None:
        return error
    line_start = source.rfind("\n", 0, found.start()) + 1
    line_end = source.find("\n", found.start())
    line = source[line_start : line_end if line_end >= 0 else len(source)]
    row = source.count("\n", 0, found.start()) + 1
    column = found.start() - line_start + 1
    message = (
        f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{error.message}"
    )
    return SoqlError(error.error_code, message)


@dataclass(frozen=True, slots=True)
class _Path:
    """A selected or filtered field: the relationship hops and the final field."""

    text: str
    hops: tuple[FieldSpec, ...]  # reference fields walked from the queried object
    spec: FieldSpec


Getter = Callable[[Row], Any]


@dataclass
class CompiledQuery:
    """A query bound to the store's schema, ready to run and to project rows."""

    query: Query
    spec: ObjectSpec
    paths: tuple[_Path, ...]
    predicate: Callable[[Row], bool] | None
    sort_keys: tuple[tuple[Getter, bool, bool, bool], ...]
    store: SalesforceStore

    def run(self, *, include_deleted: bool) -> list[Row]:
        """Matching rows in result order (``queryAll`` when ``include_deleted``)."""
        table = self.store.table(self.spec.name)
        archivable = self.spec.field("IsArchived") is not None
        predicate = self.predicate
        with self.store.lock:
            rows = [
                row
                for row in table.rows.values()
                if (include_deleted or not (row["IsDeleted"] or (archivable and row["IsArchived"])))
                and (predicate is None or predicate(row))
            ]
        for getter, descending, nulls_last, folded in reversed(self.sort_keys):
            rows.sort(key=_sort_key(getter, descending, nulls_last, folded), reverse=descending)
        start = self.query.offset or 0
        end = None if self.query.limit is None else start + self.query.limit
        return rows[start:end] if start or end is not None else rows

    def project(self, row: Row, version: str) -> dict[str, Any]:
        """One record as the REST query resource returns it."""
        out: dict[str, Any] = {"attributes": _attributes(self.spec.name, row["Id"], version)}
        for path in self.paths:
            target: dict[str, Any] = out
            current: Row | None = row
            for hop in path.hops:
                name = hop.relationship or hop.name
                target_id = current.get(hop.name) if current else None
                related = self.store.get(target_id) if target_id else None
                if related is None:
                    target[name] = None
                    current = None
                    break
                nested = target.get(name)
                if not isinstance(nested, dict):
                    related_spec = object_for_id(related["Id"])
                    type_name = related_spec.name if related_spec else ""
                    nested = {"attributes": _attributes(type_name, related["Id"], version)}
                    target[name] = nested
                target, current = nested, related
            if current is not None:
                target[path.spec.name] = json_value(current.get(path.spec.name))
        return out

    def flat_values(self, row: Row) -> list[Any]:
        """The selected values in order, for Bulk CSV (dotted paths flattened)."""
        return [_walk(self.store, path)(row) for path in self.paths]


def _attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}


def compile_query(text: str, store: SalesforceStore) -> CompiledQuery:
    """Parse and bind ``text``; raise :class:`SoqlError` as Salesforce would refuse it."""
    try:
        return _compile_query(text, store)
    except SoqlError as exc:
        raise _located(text, exc) from exc


def _compile_query(text: str, store: SalesforceStore) -> CompiledQuery:
    try:
        query = parse(text)
    except SoqlSyntaxError as exc:
        raise SoqlError("MALFORMED_QUERY", str(exc)) from exc
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    spec = object_spec(query.sobject)
    if spec is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name. Please reference "
            "your WSDL or the describe call for the appropriate names.",
            query.sobject,
        )
    paths = tuple(_resolve(spec, name) for name in query.fields)
    seen: set[str] = set()
    for path in paths:
        if path.text.lower() in seen:
            raise SoqlError("MALFORMED_QUERY", f"duplicate field selected: {path.text}")
        seen.add(path.text.lower())
    predicate = _compile(query.where, spec, store) if query.where is not None else None
    sort_keys = tuple(
        (_walk(store, path), item.descending, item.nulls_last, path.spec.is_string)
        for item in query.order_by
        for path in (_resolve(spec, item.field),)
    )
    return CompiledQuery(query, spec, paths, predicate, sort_keys, store)


def _resolve(spec: ObjectSpec, text: str, *, in_where: bool = False) -> _Path:
    parts = text.split(".")
    hops: list[FieldSpec] = []
    current = spec
    for part in parts[:-1]:
        hop = current.relationship(part)
        if hop is None or not hop.reference_to:
            raise _no_column(text, current, in_where)
        hops.append(hop)
        current = OBJECTS[hop.reference_to[0]]
    final = current.field(parts[-1])
    if final is None:
        raise _no_column(text, current, in_where)
    return _Path(text, tuple(hops), final)


def _no_column(text: str, spec: ObjectSpec, in_where: bool) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        f"No such column '{text.rpartition('.')[2]}' on entity '{spec.name}'. If you are "
        "attempting to use a custom field, be sure to append the '__c' after the custom field "
        "name. Please reference your WSDL or the describe call for the appropriate names.",
        text,
        in_where=in_where,
    )


def _walk(store: SalesforceStore, path: _Path) -> Getter:
    name = path.spec.name
    if not path.hops:
        return lambda row: row.get(name)
    hops = tuple(hop.name for hop in path.hops)

    def get(row: Row) -> Any:
        current: Row | None = row
        for hop in hops:
            target = current.get(hop) if current else None
            current = store.get(target) if target else None
        return current.get(name) if current else None

    return get


def _sort_key(
    getter: Getter, descending: bool, nulls_last: bool, folded: bool
) -> Callable[[Row], tuple[int, Any]]:
    # With reverse=True the null flag is reversed too, so choose it for the final placement.
    null_flag = 1 if nulls_last != descending else 0
    value_flag = 1 - null_flag

    def key(row: Row) -> tuple[int, Any]:
        value = getter(row)
        if value is None:
            return (null_flag, 0)
        return (value_flag, value.casefold() if folded else value)

    return key


def _check_literal(path: _Path, value: Literal) -> Literal:
    spec = path.spec
    if value is None:
        return None
    kind = spec.type
    ok = (
        (spec.is_string and isinstance(value, str))
        or (kind == "boolean" and isinstance(value, bool))
        or (
            kind in _NUMBER_TYPES and isinstance(value, int | float) and not isinstance(value, bool)
        )
        or (kind == "date" and isinstance(value, date) and not isinstance(value, datetime))
        or (kind == "datetime" and isinstance(value, datetime))
    )
    if not ok:
        wanted = _SF_TYPE_NAMES.get(kind, kind)
        raise SoqlError(
            "INVALID_FIELD",
            f"value of filter criterion for field '{path.text}' must be of type {wanted} and "
            "should not be enclosed in quotes"
            if kind in _SF_TYPE_NAMES or kind in _NUMBER_TYPES
            else f"invalid value of filter criterion for field '{path.text}'",
            path.text,
            in_where=True,
        )
    if isinstance(value, str):
        value = value.replace(ESCAPED_PERCENT, "%").replace(ESCAPED_UNDERSCORE, "_")
        if kind in ("id", "reference") and len(value) == 15:
            value = to_18(value)
        return value.casefold()
    return value


def _compile(
    condition: Condition, spec: ObjectSpec, store: SalesforceStore
) -> Callable[[Row], bool]:
    if isinstance(condition, And):
        parts = [_compile(operand, spec, store) for operand in condition.operands]
        return lambda row: all(part(row) for part in parts)
    if isinstance(condition, Or):
        parts = [_compile(operand, spec, store) for operand in condition.operands]
        return lambda row: any(part(row) for part in parts)
    if isinstance(condition, Not):
        inner = _compile(condition.operand, spec, store)
        return lambda row: not inner(row)
    return _comparison(condition, spec, store)


def _comparison(
    condition: Comparison, spec: ObjectSpec, store: SalesforceStore
) -> Callable[[Row], bool]:
    path = _resolve(spec, condition.field, in_where=True)
    raw = _walk(store, path)
    folded = path.spec.is_string
    get: Getter = raw
    if folded:
        get = lambda row: _fold(raw(row))  # noqa: E731
    elif path.spec.type == "datetime":
        # Salesforce compares datetimes to the second (see the reference, §1.5).
        get = lambda row: _seconds(raw(row))  # noqa: E731
    op = condition.op
    if op == "LIKE":
        if not folded or not isinstance(condition.value, str):
            raise SoqlError(
                "INVALID_FIELD",
                f"invalid operator on field '{path.text}': LIKE",
                path.text,
                in_where=True,
            )
        pattern = _like(condition.value)
        return lambda row: (value := get(row)) is not None and pattern.fullmatch(value) is not None
    if op in ("IN", "NOT IN"):
        values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        members = {_seconds(_check_literal(path, value)) for value in values}
        if op == "IN":
            return lambda row: get(row) in members
        return lambda row: get(row) not in members
    if isinstance(condition.value, tuple):
        raise SoqlError("MALFORMED_QUERY", f"a list needs IN or NOT IN ({path.text})")
    literal = _check_literal(path, condition.value)
    if isinstance(literal, datetime):
        literal = _seconds(literal)
    if op == "=":
        return lambda row: get(row) == literal
    if op == "!=":
        return lambda row: get(row) != literal
    if literal is None:
        raise SoqlError("MALFORMED_QUERY", f"null can only be compared with = or != ({path.text})")
    compare = _ORDERING[op]
    return lambda row: (value := get(row)) is not None and compare(value, literal)


_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def _seconds(value: Any) -> Any:
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _like(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    for char in pattern.casefold():
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == ESCAPED_PERCENT:
            out.append("%")
        elif char == ESCAPED_UNDERSCORE:
            out.append("_")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)
