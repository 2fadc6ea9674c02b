"""Building the SQLAlchemy engine for a state URL: SQLite (default) or PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from connector.errors import StateError
from connector.masking import mask_url
from connector.state._failures import directory_failure, file_failure

__all__ = ["READ_ONLY", "create_state_engine", "describe_url", "normalise_url", "store_name"]

READ_ONLY = "crmsync_read_only"
"""Execution option: this connection only reads, so SQLite may begin a deferred transaction."""

_DIR_MODE = 0o700
_FILE_MODE = 0o600


def normalise_url(url: str) -> URL:
    """Parse a state URL; plain ``postgresql://`` means the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StateError(
            "state_url is not a database URL (expected sqlite:/// or postgresql://)"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername != "postgresql+psycopg":
            raise StateError(
                f"unsupported PostgreSQL driver {parsed.drivername}; use postgresql+psycopg"
            )
    elif backend != "sqlite":
        raise StateError(f"unsupported state store backend {backend!r}; use sqlite or postgresql")
    return parsed


def describe_url(url: URL) -> str:
    """The URL as it may appear in messages: never with a password, in userinfo or query."""
    return mask_url(url.render_as_string(hide_password=True))


def store_name(url: URL) -> str:
    """The store as messages name it: a SQLite file by its path, anything else by its URL."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return url.database
    return describe_url(url)


def create_state_engine(url: URL, *, busy_timeout: float) -> Engine:
    """An engine configured for the state store's needs on its backend."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout)
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": max(int(busy_timeout), 1)},
    )


def _sqlite_engine(url: URL, busy_timeout: float) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        _prepare_file(Path(database))
    kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_timeout}}
    if in_memory:
        # One shared connection, or every pool checkout would see a new empty database.
        kwargs["connect_args"]["check_same_thread"] = False
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take over transaction control from the sqlite3 module: it would otherwise begin
        # deferred transactions lazily, and a deferred reader that later writes can fail with
        # SQLITE_BUSY at once instead of waiting for the busy timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                _use_wal(cursor, busy_timeout)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch the file to WAL (it stays so: later connections find it done). The switch
    needs the file to itself, and SQLite answers "database is locked" at once, without its
    busy handler, while another connection holds it (processes opening a new store together):
    retry until the busy timeout."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _prepare_file(path: Path) -> None:
    """Create the database's directory (0o700) and file (0o600) owner-only: it holds personal
    data. Existing ones are left as they are. What the system refuses is a ``StateError``
    naming the path and the cause."""
    try:
        if path.is_dir():
            raise directory_failure(path)
        _create_owner_only(path)
    except OSError as exc:
        raise file_failure(path, exc) from exc


def _create_owner_only(path: Path) -> None:
    directory = path.parent
    if not directory.exists():
        try:
            directory.mkdir(mode=_DIR_MODE, parents=True)
        except FileExistsError:
            pass  # another process created it first; theirs stands
        else:
            # mkdir's mode passes through the umask, which can only remove bits; chmod is exact.
            directory.chmod(_DIR_MODE)
    if not path.exists():
        # An empty file is a valid empty SQLite database; creating it here fixes its mode, and
        # SQLite gives the -wal and -shm files the same mode as the database file.
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _FILE_MODE)
        except FileExistsError:
            return
        os.close(fd)
        path.chmod(_FILE_MODE)
