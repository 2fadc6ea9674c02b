"""The SOQL subset parser: round-trips, Salesforce's escaping, and what it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from connector.sandbox.salesforce.soql import (
    ESCAPED_PERCENT,
    ESCAPED_UNDERSCORE,
    And,
    Comparison,
    Condition,
    Not,
    Or,
    OrderItem,
    Query,
    SoqlSyntaxError,
    parse,
    to_soql,
)

_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "TRUE", "FALSE", "NULL", "COUNT",
}  # fmt: skip
names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,12}\Z").filter(
    lambda n: n.upper() not in _KEYWORDS
)
paths = st.lists(names, min_size=1, max_size=2).map(".".join)
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
texts = st.text(
    alphabet=st.characters(exclude_categories=_SURROGATES, exclude_characters="\ue000\ue001"),
    max_size=20,
)
datetimes = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
    st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 1, 1)),
    datetimes,
)
comparisons = st.one_of(
    st.builds(Comparison, paths, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), scalars),
    st.builds(Comparison, paths, st.just("LIKE"), texts),
    st.builds(
        Comparison,
        paths,
        st.sampled_from(["IN", "NOT IN"]),
        st.lists(scalars, min_size=1, max_size=4).map(tuple),
    ),
)


def _conditions() -> st.SearchStrategy[Condition]:
    return st.recursive(
        comparisons,
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.builds(And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        ),
        max_leaves=8,
    )


queries = st.builds(
    Query,
    fields=st.lists(paths, max_size=4).map(tuple),
    sobject=names,
    where=st.none() | _conditions(),
    order_by=st.lists(st.builds(OrderItem, paths, st.booleans(), st.booleans()), max_size=2).map(
        tuple
    ),
    limit=st.none() | st.integers(min_value=0, max_value=50_000),
    offset=st.none() | st.integers(min_value=0, max_value=2_000),
)


@settings(max_examples=300, deadline=None)
@given(queries)
def test_printing_and_parsing_round_trips(query: Query) -> None:
    assert parse(to_soql(query)) == query


@settings(max_examples=300, deadline=None)
@given(texts)
def test_format_soql_output_parses_back_to_the_same_string(value: str) -> None:
    soql = format_soql("SELECT Id FROM Lead WHERE Email = {} AND Company != {}", value, value)
    where = parse(soql).where
    assert where == And((Comparison("Email", "=", value), Comparison("Company", "!=", value)))


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=5), datetimes)
def test_format_soql_lists_and_datetimes_parse(values: list[str], when: datetime) -> None:
    soql = format_soql(
        "SELECT Id FROM Lead WHERE Email IN {} AND SystemModstamp >= {}", values, when
    )
    where = parse(soql).where
    assert where == And(
        (
            Comparison("Email", "IN", tuple(values)),
            Comparison("SystemModstamp", ">=", when.replace(microsecond=0)),
        )
    )


@pytest.mark.parametrize(
    "hostile",
    [
        "x' OR Name != '",
        "x\\' OR Id != null OR Name = '",
        "\\",
        "a\\b'c\"d\ne\tf",
        "'; DELETE FROM Lead --",
        "\\\\'",
    ],
)
def test_injection_shaped_strings_stay_one_literal(hostile: str) -> None:
    soql = format_soql("SELECT Id FROM Lead WHERE Email = {} LIMIT 1", hostile)
    parsed = parse(soql)
    assert parsed.where == Comparison("Email", "=", hostile)
    assert parsed.limit == 1


def test_like_escapes_are_kept_apart_from_wildcards() -> None:
    soql = format_soql("SELECT Id FROM Lead WHERE Email LIKE '{:like}%'", "100%_sure")
    where = parse(soql).where
    assert where == Comparison("Email", "LIKE", f"100{ESCAPED_PERCENT}{ESCAPED_UNDERSCORE}sure%")


def test_salesforce_literal_forms() -> None:
    query = parse(
        "select Id, Account.Name from Contact where (CreatedDate >= 2026-01-05T10:11:12Z "
        "and LastModifiedDate < 2026-01-05T12:11:12.250+02:00) or Birthdate = 1990-02-03 "
        "or NumberOfEmployees <> -5 or Amount > 1.5e3 "
        "order by Name desc nulls last, Id limit 10 offset 20"
    )
    first = datetime(2026, 1, 5, 10, 11, 12, tzinfo=UTC)
    second = datetime(2026, 1, 5, 12, 11, 12, 250_000, tzinfo=timezone(timedelta(hours=2)))
    assert query.fields == ("Id", "Account.Name")
    assert query.where == Or(
        (
            And(
                (
                    Comparison("CreatedDate", ">=", first),
                    Comparison("LastModifiedDate", "<", second.astimezone(UTC)),
                )
            ),
            Comparison("Birthdate", "=", date(1990, 2, 3)),
            Comparison("NumberOfEmployees", "!=", -5),
            Comparison("Amount", ">", 1500.0),
        )
    )
    assert query.order_by == (OrderItem("Name", True, True), OrderItem("Id", False, False))
    assert (query.limit, query.offset) == (10, 20)
    assert parse("SELECT COUNT() FROM Lead").is_count


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3",
        "SELECT Id FROM Lead WHERE",
        "SELECT FROM Lead",
        "SELECT Id Lead",
        "SELECT Id FROM Lead WHERE Email = 'unterminated",
        "SELECT Id FROM Lead WHERE Email = 'bad \\q escape'",
        'SELECT Id FROM Lead WHERE Email = "double quoted"',
        "SELECT Id FROM Lead LIMIT -1",
        "SELECT Id FROM Lead WHERE Email IN ()",
        "SELECT Id FROM Lead WHERE CreatedDate > 2026-13-01T00:00:00Z",
        "SELECT Id FROM Lead extra",
    ],
)
def test_malformed_queries_are_refused(soql: str) -> None:
    with pytest.raises(SoqlSyntaxError):
        parse(soql)


def test_error_message_points_at_the_token() -> None:
    with pytest.raises(SoqlSyntaxError, match=r"Row:1:Column:27\nunexpected token: <EOF>"):
        parse("SELECT Id FROM Lead WHERE ")
