"""A SOQL subset: tokenizer, parser to a small AST, and the AST printed back as SOQL.

Supported: ``SELECT`` field list (dotted child-to-parent paths) or ``COUNT()``, one ``FROM``
object, ``WHERE`` with ``AND``/``OR``/``NOT`` and parentheses, ``= != <> < <= > >= IN NOT IN
LIKE``, string/number/boolean/null literals, unquoted date and datetime literals (``Z`` or an
offset, optional milliseconds), ``ORDER BY`` (``ASC``/``DESC``, ``NULLS FIRST``/``LAST``),
``LIMIT`` and ``OFFSET``. As in Salesforce, ``AND`` and ``OR`` cannot be mixed at one level
without parentheses. String escapes follow Salesforce's quoted-string rules; ``\\%`` and ``\\_``
are kept apart from the LIKE wildcards ``%`` and ``_``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

from connector.sandbox.salesforce._soqlast import (
    ESCAPED_PERCENT,
    ESCAPED_UNDERSCORE,
    And,
    Comparison,
    Condition,
    Literal,
    Not,
    Or,
    OrderItem,
    Query,
    SoqlSyntaxError,
)

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
    "parse",
    "to_soql",
]

_TOKEN: Final = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES: Final = {
    "n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b", "B": "\b",
    "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\",
    "%": ESCAPED_PERCENT, "_": ESCAPED_UNDERSCORE,
}  # fmt: skip
_KEYWORDS: Final = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
        "TRUE",
        "FALSE",
        "NULL",
        "COUNT",
    }
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string datetime date number name keyword op punct eof
    text: str
    value: Literal
    position: int


def _unescape(body: str, position: int) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in _ESCAPES:
                raise SoqlSyntaxError(
                    f"Invalid string literal at character {position + index + 1}: escape "
                    f"sequences are \\b \\t \\n \\f \\r \\\" \\' \\\\ \\% \\_"
                )
            out.append(_ESCAPES[escaped])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SoqlSyntaxError(f"unexpected character {text[position]!r} at {position + 1}")
        kind = match.lastgroup or ""
        raw = match.group()
        position = match.end()
        if kind == "ws":
            continue
        value: Literal = None
        if kind == "string":
            value = _unescape(raw[1:-1], match.start() + 1)
        elif kind == "datetime":
            value = _datetime(raw)
        elif kind == "date":
            try:
                value = date.fromisoformat(raw)
            except ValueError as exc:
                raise SoqlSyntaxError(f"invalid date literal {raw}") from exc
        elif kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
        elif kind == "name" and raw.upper() in _KEYWORDS:
            kind = "keyword"
        tokens.append(_Token(kind, raw, value, match.start()))
    tokens.append(_Token("eof", "<EOF>", None, len(text)))
    return tokens


def _datetime(raw: str) -> datetime:
    text = raw.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    head, _, tail = text.partition(".")
    if tail:  # Python wants 3 or 6 fraction digits; Salesforce keeps milliseconds.
        digits = re.match(r"\d+", tail)
        fraction = digits.group() if digits else ""
        text = f"{head}.{(fraction + '000000')[:6]}{tail[len(fraction) :]}"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError as exc:
        raise SoqlSyntaxError(f"invalid datetime literal {raw}") from exc


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, expected: str = "") -> SoqlSyntaxError:
        token = self.token
        column = token.position + 1
        hint = f" (expected {expected})" if expected else ""
        return SoqlSyntaxError(
            f"\n{self.text}\n{' ' * token.position}^\nERROR at Row:1:Column:{column}\n"
            f"unexpected token: {token.text}{hint}"
        )

    def keyword(self, *words: str) -> bool:
        token = self.token
        if token.kind == "keyword" and token.text.upper() in words:
            self.index += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.fail(word)

    def punct(self, char: str) -> bool:
        if self.token.kind == "punct" and self.token.text == char:
            self.index += 1
            return True
        return False

    def expect_punct(self, char: str) -> None:
        if not self.punct(char):
            raise self.fail(f"'{char}'")

    def name(self) -> str:
        token = self.token
        if token.kind != "name":
            raise self.fail("a field or object name")
        self.index += 1
        return token.text

    def integer(self) -> int:
        token = self.token
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.fail("a non-negative integer")
        self.index += 1
        return token.value

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        fields: list[str] = []
        if self.keyword("COUNT"):
            self.expect_punct("(")
            self.expect_punct(")")
        else:
            fields.append(self.name())
            while self.punct(","):
                fields.append(self.name())
        self.expect_keyword("FROM")
        sobject = self.name()
        where = self.condition() if self.keyword("WHERE") else None
        order: list[OrderItem] = []
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            order.append(self.order_item())
            while self.punct(","):
                order.append(self.order_item())
        limit = self.integer() if self.keyword("LIMIT") else None
        offset = self.integer() if self.keyword("OFFSET") else None
        if self.token.kind != "eof":
            raise self.fail()
        return Query(tuple(fields), sobject, where, tuple(order), limit, offset)

    def order_item(self) -> OrderItem:
        field = self.name()
        descending = self.keyword("DESC")
        if not descending:
            self.keyword("ASC")
        nulls_last = False
        if self.keyword("NULLS"):
            if self.keyword("LAST"):
                nulls_last = True
            else:
                self.expect_keyword("FIRST")
        return OrderItem(field, descending, nulls_last)

    def condition(self) -> Condition:
        first = self.unary()
        if self.token.kind != "keyword" or self.token.text.upper() not in ("AND", "OR"):
            return first
        joiner = self.token.text.upper()
        operands = [first]
        while self.keyword(joiner):
            operands.append(self.unary())
        if self.token.kind == "keyword" and self.token.text.upper() in ("AND", "OR"):
            raise self.fail("parentheses when mixing AND and OR")
        return And(tuple(operands)) if joiner == "AND" else Or(tuple(operands))

    def unary(self) -> Condition:
        if self.keyword("NOT"):
            return Not(self.unary())
        if self.punct("("):
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.name()
        token = self.token
        if token.kind == "op":
            self.index += 1
            op = "!=" if token.text == "<>" else token.text
            return Comparison(field, op, self.literal())
        if self.keyword("LIKE"):
            value = self.literal()
            if not isinstance(value, str):
                raise self.fail("a quoted LIKE pattern")
            return Comparison(field, "LIKE", value)
        negated = self.keyword("NOT")
        if self.keyword("IN"):
            self.expect_punct("(")
            values = [self.literal()]
            while self.punct(","):
                values.append(self.literal())
            self.expect_punct(")")
            return Comparison(field, "NOT IN" if negated else "IN", tuple(values))
        raise self.fail("an operator")

    def literal(self) -> Literal:
        token = self.token
        if token.kind in ("string", "datetime", "date", "number"):
            self.index += 1
            return token.value
        if token.kind == "keyword" and token.text.upper() in ("TRUE", "FALSE", "NULL"):
            self.index += 1
            return {"TRUE": True, "FALSE": False, "NULL": None}[token.text.upper()]
        raise self.fail("a value")


def parse(text: str) -> Query:
    """Parse one SOQL statement; raise :class:`SoqlSyntaxError` if it is not valid."""
    return _Parser(text).query()


_QUOTE: Final = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
        ESCAPED_PERCENT: "\\%",
        ESCAPED_UNDERSCORE: "\\_",
    }
)


def _literal_soql(value: Literal) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.translate(_QUOTE) + "'"
    if isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}"
        return text + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


def _condition_soql(condition: Condition) -> str:
    if isinstance(condition, Comparison):
        if isinstance(condition.value, tuple):
            values = ", ".join(_literal_soql(value) for value in condition.value)
            return f"{condition.field} {condition.op} ({values})"
        return f"{condition.field} {condition.op} {_literal_soql(condition.value)}"
    if isinstance(condition, Not):
        return f"NOT ({_condition_soql(condition.operand)})"
    joiner = " AND " if isinstance(condition, And) else " OR "
    return joiner.join(f"({_condition_soql(operand)})" for operand in condition.operands)


def to_soql(query: Query) -> str:
    """Print ``query`` as SOQL that :func:`parse` reads back to an equal ``Query``."""
    select = ", ".join(query.fields) if query.fields else "COUNT()"
    parts = [f"SELECT {select} FROM {query.sobject}"]  # noqa: S608 - printing SOQL is the point
    if query.where is not None:
        parts.append(f"WHERE {_condition_soql(query.where)}")
    if query.order_by:
        items = ", ".join(
            f"{item.field} {'DESC' if item.descending else 'ASC'} "
            f"NULLS {'LAST' if item.nulls_last else 'FIRST'}"
            for item in query.order_by
        )
        parts.append(f"ORDER BY {items}")
    if query.limit is not None:
        parts.append(f"LIMIT {query.limit}")
    if query.offset is not None:
        parts.append(f"OFFSET {query.offset}")
    return " ".join(parts)
