"""CRM search: request validation, filter evaluation, sorting and offset paging.

Limits (reference §1.5, §8 rulings): at most 5 filterGroups, 6 filters per group, 18 filters
in all, one sort, ``limit`` at most 200, and no paging past 10,000 results (``after`` is an
offset; asking for an offset of 10,000 or more answers 400). Filters inside a group are ANDed,
groups are ORed.

A top-level ``filters`` array (no group) is accepted and ANDed, as the API does
(HubSpot/hubspot-api-nodejs#491: sent with curl it works, "all of them are treated with an
'AND' condition"); the SDKs' request models cannot send it. How it combines with
``filterGroups`` is documented nowhere, so a body with both is refused (400) rather than have a
filter silently ignored. Top-level filters count toward the 18 in all.

Search reads the records its caller hands it (the store's lagging view, :mod:`._index`).
Matching is one linear pass; the sorted list of a query is cached until the next write or the
next write the view catches up with, so paging through one query sorts once.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from connector.sandbox.hubspot._errors import ApiProblem
from connector.sandbox.hubspot._records import ObjectTable, Record
from connector.sandbox.hubspot._schema import PropertyDef
from connector.sandbox.hubspot._values import iso, parse_instant, parse_number

__all__ = ["MAX_RESULTS", "SearchEngine", "SearchPage"]

MAX_GROUPS: Final = 5
MAX_PER_GROUP: Final = 6
MAX_FILTERS: Final = 18
MAX_LIMIT: Final = 200
MAX_RESULTS: Final = 10_000
_OPERATORS: Final = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
     "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
)  # fmt: skip
_QUERY_PROPS: Final = ("firstname", "lastname", "email", "phone", "company", "website", "dealname")
_TOKEN: Final = re.compile(r"[^\W_]+", re.UNICODE)

Predicate = Callable[[Record], bool]
Key = Callable[[Record], Any]


def _bad(message: str) -> ApiProblem:
    return ApiProblem(400, "VALIDATION_ERROR", message)


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    records: list[Record]
    next_after: str | None


class _Kind:
    """How one property's values compare: as numbers, fixed-width ISO strings, or text."""

    def __init__(self, prop: PropertyDef | None) -> None:
        kind = prop.type if prop else "string"
        self.numeric = kind == "number"
        self.instant = kind in ("datetime", "date")
        self.date_only = kind == "date"

    def filter_value(self, raw: Any, name: str) -> Any:
        text = raw if isinstance(raw, str) else json.dumps(raw) if raw is not None else ""
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, int | float):
            text = str(raw)
        if self.numeric:
            number = parse_number(text)
            if number is None:
                raise _bad(f"{text!r} is not a valid number for property {name}")
            return number
        if self.instant:
            moment = parse_instant(text)
            if moment is None:
                raise _bad(f"{text!r} is not a valid date for property {name}")
            return moment.date().isoformat() if self.date_only else iso(moment)
        return text.lower()

    def record_value(self, text: str) -> Any:
        if self.numeric:
            return parse_number(text)
        return text if self.instant else text.lower()


def _compare(op: str, kind: _Kind, name: str, flt: dict[str, Any]) -> Predicate:
    def get(record: Record) -> Any:
        text = record.props.get(name)
        return None if text is None else kind.record_value(text)

    if op in ("IN", "NOT_IN"):
        values = flt.get("values")
        if not isinstance(values, list) or not values:
            raise _bad(f"{op} on {name} needs a non-empty 'values' list")
        wanted = {kind.filter_value(v, name) for v in values}
        if op == "IN":
            return lambda r: get(r) in wanted
        return lambda r: get(r) not in wanted
    if op == "BETWEEN":
        if "value" not in flt or "highValue" not in flt:
            raise _bad(f"BETWEEN on {name} needs 'value' and 'highValue'")
        low, high = kind.filter_value(flt["value"], name), kind.filter_value(flt["highValue"], name)

        def between(r: Record) -> bool:
            value = get(r)
            return value is not None and low <= value <= high

        return between
    if "value" not in flt:
        raise _bad(f"{op} on {name} needs a 'value'")
    target = kind.filter_value(flt["value"], name)
    if op == "EQ":
        return lambda r: get(r) == target
    if op == "NEQ":
        return lambda r: get(r) != target
    test: Callable[[Any], bool] = {
        "LT": lambda v: v < target,
        "LTE": lambda v: v <= target,
        "GT": lambda v: v > target,
        "GTE": lambda v: v >= target,
    }[op]

    def ordered(r: Record) -> bool:
        value = get(r)
        return value is not None and test(value)

    return ordered


def _tokens(name: str, flt: dict[str, Any], negate: bool) -> Predicate:
    pattern = str(flt.get("value", "")).lower()
    if not pattern:
        raise _bad(f"CONTAINS_TOKEN on {name} needs a 'value'")

    def contains(r: Record) -> bool:
        text = r.props.get(name, "").lower()
        words = _TOKEN.findall(text)
        if "*" in pattern:
            return any(fnmatch.fnmatchcase(w, pattern) for w in [text, *words])
        return pattern in words or pattern == text

    return (lambda r: not contains(r)) if negate else contains


class SearchEngine:
    """Compiles search bodies against a store's tables (associations via ``linked``)."""

    def __init__(self, linked: Callable[[str, str, str], set[str]]) -> None:
        self._linked = linked
        self._cache: OrderedDict[tuple[str, str, Hashable], list[Record]] = OrderedDict()

    def clear(self) -> None:
        self._cache.clear()

    def _predicate(self, table: ObjectTable, flt: Any) -> Predicate:
        if not isinstance(flt, dict):
            raise _bad("each filter must be an object")
        name, op = flt.get("propertyName"), flt.get("operator")
        if not isinstance(name, str) or not name:
            raise _bad("each filter needs a propertyName")
        if op not in _OPERATORS:
            raise _bad(f"Unknown filter operator {op!r}; use one of {sorted(_OPERATORS)}")
        if name.startswith("associations."):
            return self._association(table, name.split(".", 1)[1], op, flt)
        if op == "HAS_PROPERTY":
            return lambda r: bool(r.props.get(name))
        if op == "NOT_HAS_PROPERTY":
            return lambda r: not r.props.get(name)
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            return _tokens(name, flt, op == "NOT_CONTAINS_TOKEN")
        if table.name == "contacts" and name == "hs_lastmodifieddate":
            # Integrators report that filtering contacts on hs_lastmodifieddate silently
            # fails (reference §1.6): contacts are searched on lastmodifieddate instead.
            return lambda r: False
        # An unknown property never has a value: filters on it match nothing (or everything
        # for NEQ/NOT_IN).
        return _compare(op, _Kind(table.properties.get(name)), name, flt)

    def _association(
        self, table: ObjectTable, other: str, op: str, flt: dict[str, Any]
    ) -> Predicate:
        from connector.sandbox.hubspot._catalogue import canonical_type

        other_type = canonical_type(other)
        if other_type is None or op not in ("EQ", "IN"):
            raise _bad(f"associations.{other} supports EQ and IN on a known object type")
        ids = [str(v) for v in flt.get("values", [])] if op == "IN" else [str(flt.get("value"))]
        allowed: set[str] = set()
        for object_id in ids:
            allowed |= self._linked(other_type, object_id, table.name)
        return lambda r: r.id in allowed

    def _sorter(self, table: ObjectTable, sorts: Any) -> tuple[Key, bool] | None:
        if sorts in (None, []):
            return None
        if not isinstance(sorts, list):
            raise _bad("sorts must be a list")
        if len(sorts) > 1:
            raise _bad("Only one sort is supported")
        spec = sorts[0]
        if isinstance(spec, str):
            name, descending = spec.lstrip("-"), spec.startswith("-")
        elif isinstance(spec, dict) and isinstance(spec.get("propertyName"), str):
            name = spec["propertyName"]
            direction = str(spec.get("direction", "ASCENDING")).upper()
            if direction not in ("ASCENDING", "DESCENDING"):
                raise _bad(f"Unknown sort direction {direction!r}")
            descending = direction == "DESCENDING"
        else:
            raise _bad("a sort is a property name or {propertyName, direction}")
        kind = _Kind(table.properties.get(name))
        if name == "hs_object_id":
            return (lambda r: r.num), descending
        blank: Any = float("inf") if kind.numeric else "\U0010ffff"

        def key(r: Record) -> Any:
            text = r.props.get(name)
            value = None if text is None else kind.record_value(text)
            return blank if value is None else value

        return key, descending

    def search(
        self,
        table: ObjectTable,
        body: Any,
        version: Hashable,
        records: Callable[[], Iterable[Record]] | None = None,
    ) -> SearchPage:
        """One page of ``body``'s results among ``records()`` (called on a cache miss only;
        default: the table's live records); ``version`` changes whenever what ``records()``
        answers may have."""
        if not isinstance(body, dict):
            raise _bad("the request body must be a JSON object")
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list):
            raise _bad("filterGroups must be a list")
        loose = body.get("filters")
        if loose is not None:
            if not isinstance(loose, list):
                raise _bad("filters must be a list")
            if groups:
                raise _bad("Send filters either in filterGroups or as a top-level filters list")
            groups = [{"filters": loose}] if loose else []
        if len(groups) > MAX_GROUPS:
            raise _bad(f"Too many filter groups: {len(groups)}. The maximum is {MAX_GROUPS}.")
        total_filters = 0
        compiled: list[list[Predicate]] = []
        for group in groups:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list):
                raise _bad("each filterGroup needs a filters list")
            if len(filters) > MAX_PER_GROUP and loose is None:
                raise _bad(
                    f"Too many filters in a group: {len(filters)}. The maximum is {MAX_PER_GROUP}."
                )
            total_filters += len(filters)
            compiled.append([self._predicate(table, f) for f in filters])
        if total_filters > MAX_FILTERS:
            raise _bad(f"Too many filters: {total_filters}. The maximum is {MAX_FILTERS} in all.")
        sorter = self._sorter(table, body.get("sorts"))
        limit, after = _paging(body)
        query = body.get("query")
        key = (
            table.name,
            json.dumps([groups, body.get("sorts"), query], sort_keys=True, default=str),
            version,
        )
        ordered = self._cache.get(key)
        if ordered is None:
            found = records() if records is not None else table.live.values()
            ordered = _run(found, compiled, sorter, query)
            self._cache[key] = ordered
            while len(self._cache) > 8:
                self._cache.popitem(last=False)
        total = len(ordered)
        if limit == 0:
            return SearchPage(total, [], None)
        end = min(after + limit, total, MAX_RESULTS)
        next_after = str(end) if end < total else None
        return SearchPage(total, ordered[after:end], next_after)


def _paging(body: dict[str, Any]) -> tuple[int, int]:
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise _bad("limit must be a non-negative integer")
    if limit > MAX_LIMIT:
        raise _bad(f"limit must be at most {MAX_LIMIT}; got {limit}")
    raw_after = body.get("after") or "0"
    try:
        after = int(str(raw_after))
    except ValueError:
        raise _bad(f"after {raw_after!r} is not a valid paging cursor") from None
    if after < 0:
        raise _bad("after must not be negative")
    if after >= MAX_RESULTS:
        raise _bad(
            f"Paging past {MAX_RESULTS} results is not supported; narrow the search "
            f"(after={after})."
        )
    return limit, after


def _run(
    records: Iterable[Record],
    groups: list[list[Predicate]],
    sorter: tuple[Key, bool] | None,
    query: Any,
) -> list[Record]:
    terms = str(query).lower().split() if query else []

    def matches(r: Record) -> bool:
        if groups and not any(all(p(r) for p in group) for group in groups):
            return False
        if terms:
            text = " ".join(r.props.get(name, "") for name in _QUERY_PROPS).lower()
            return all(term in text for term in terms)
        return True

    hits = [r for r in records if matches(r)]
    if sorter is None:
        hits.sort(key=lambda r: r.num)
    else:
        key, descending = sorter
        hits.sort(key=lambda r: r.num)
        hits.sort(key=key, reverse=descending)
    return hits
