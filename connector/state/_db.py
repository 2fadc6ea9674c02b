"""Connections, transactions, the clock and small SQL helpers shared by the store's parts."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Engine, Table, and_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

from connector.errors import StateError
from connector.state._engine import READ_ONLY, store_name
from connector.state._failures import database_failure
from connector.state._types import Clock, utc

__all__ = ["CHUNK", "Db", "chunks", "execute_rows", "keyed_in", "upsert"]

CHUNK = 1000
"""Most keys in one ``IN (...)`` list: far below every backend's bind-parameter limit."""

_T = TypeVar("_T")


def chunks(items: Iterable[_T], size: int = CHUNK) -> Iterator[list[_T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def keyed_in(
    columns: Sequence[ColumnElement[Any]], keys: Iterable[Sequence[Any]], size: int = CHUNK
) -> Iterator[ColumnElement[bool]]:
    """Conditions, one statement's each, matching the rows whose ``columns`` equal one of
    ``keys``, in the shape an index serves: keys grouped by all but the last column (an
    equality each), the last column in an ``IN`` list of at most ``size``.

    A row-value ``(a, b, c) IN (VALUES ...)`` reads the same but makes SQLite scan the whole
    table for every statement (``EXPLAIN QUERY PLAN``: ``SCAN``): a page's look-ups grew with
    the store. Keys here share their first columns (system, object type), so the groups are
    few."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for key in keys:
        groups.setdefault(tuple(key[:-1]), []).append(key[-1])
    for prefix, values in groups.items():
        equal = [column == value for column, value in zip(columns[:-1], prefix, strict=True)]
        for batch in chunks(dict.fromkeys(values), size):
            yield and_(*equal, columns[-1].in_(batch))


def upsert(connection: Connection, table: Table) -> Any:
    """``INSERT`` with the backend's ``ON CONFLICT`` support (SQLite and PostgreSQL agree)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def execute_rows(
    connection: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Execute ``statement`` (an ``INSERT`` or upsert) once for each of ``rows`` in one driver
    call, converting each distinct value of a column type only once.

    ``connection.execute(statement, rows)`` runs every value of every row through its type's
    bind processor on its own: a JSON encode per JSON value, two datetime conversions per
    timestamp. Recording a chunk's writes binds ~27,000 provenance rows whose timestamps are
    all the same instant and whose values repeat, and that conversion was most of the time
    recording took. The same processors run here, through a memo keyed by value and type
    (``True == 1`` must not share ``1``'s encoding).

    Every row has the same keys, and they must be exactly the statement's parameters: a
    column default or a bound literal elsewhere in the statement would be left unfilled by
    the driver call, so it is refused instead.
    """
    if not rows:
        return
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=keys))
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    if sorted(set(names)) != sorted(keys):
        raise ValueError(
            "execute_rows: the statement's parameters "
            f"{sorted(set(names))} are not the rows' keys {sorted(keys)}"
        )
    # Column by column: each column's values converted in one pass (its distinct values
    # once), then the rows zipped back together.
    columns = {
        name: _converted(compiled.binds[name].type, dialect, [row[name] for row in rows])
        for name in dict.fromkeys(names)
    }
    ordered = [columns[name] for name in names]
    params: list[Any]
    if compiled.positional:
        params = list(zip(*ordered, strict=True))
    else:
        params = [dict(zip(names, values, strict=True)) for values in zip(*ordered, strict=True)]
    connection.exec_driver_sql(compiled.string, params)


def _converted(type_: TypeEngine[Any], dialect: Dialect, values: list[Any]) -> list[Any]:
    """``values`` through the type's bind processor, each distinct value once."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    keys = list(zip(map(type, values), values, strict=True))
    try:
        distinct = set(keys)
    except TypeError:  # an unhashable value (a list, a dict): convert them all
        return [process(value) for value in values]
    memo = {key: process(key[1]) for key in distinct}
    return list(map(memo.__getitem__, keys))


def _translate(exc: DBAPIError, engine: Engine) -> StateError:
    return database_failure(store_name(engine.url), exc, opening=False)


class Db:
    """The engine plus the calling thread's open transaction, if any.

    Store methods call :meth:`write` or :meth:`read`: inside :meth:`transaction` they join the
    thread's transaction, otherwise each call commits on its own.
    """

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self._clock = clock
        self._local = threading.local()

    def now(self) -> datetime:
        return utc(self._clock())

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _current(self) -> Connection | None:
        connection: Connection | None = getattr(self._local, "connection", None)
        return connection

    def in_transaction(self) -> bool:
        return self._current() is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        current = self._current()
        try:
            if current is not None:
                with current.begin_nested():
                    yield
                return
            with self.engine.begin() as connection:
                self._local.connection = connection
                try:
                    yield
                finally:
                    self._local.connection = None
        except DBAPIError as exc:
            raise _translate(exc, self.engine) from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        current = self._current()
        if current is not None:
            yield current
            return
        try:
            with self.engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            raise _translate(exc, self.engine) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        current = self._current()
        if current is not None:
            yield current
            return
        try:
            with self.engine.connect() as connection:
                connection.execution_options(**{READ_ONLY: True})
                with connection.begin():
                    yield connection
        except DBAPIError as exc:
            raise _translate(exc, self.engine) from exc

    @contextmanager
    def isolated(self) -> Iterator[Connection]:
        """A transaction of its own, committed at once (for the run lock).

        Refused inside :meth:`transaction`: on SQLite the open transaction holds the write lock,
        so a second connection would wait for it forever.
        """
        if self._current() is not None:
            raise StateError(
                "run lock operations cannot run inside a state transaction; "
                "renew the lease between pages"
            )
        with self.write() as connection:
            yield connection
