"""State store failures said so a user can act: which path, what is wrong, what to do.

Two kinds arrive here, and both leave as a :class:`~connector.errors.StateError` (exit 1):

- the operating system refusing to create the SQLite file or its directory (an ``OSError``
  while :mod:`connector.state._engine` prepares them): a path component that is a file, a
  directory this user may not write, a read-only file system;
- the database failing (a :class:`~sqlalchemy.exc.DBAPIError`): a full disk, a file that is not
  a database, a damaged one, an I/O error.

Driver messages are never repeated: SQLAlchemy's holds the statement's parameters and
PostgreSQL's detail can quote row values, both personal data. The SQLite result code or the
PostgreSQL SQLSTATE picks one of the sentences below instead.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import DBAPIError

from connector.errors import StateError

__all__ = ["database_failure", "directory_failure", "file_failure"]

_SETTING = "state_url (CRMSYNC_STATE_URL)"
_ROLLED_BACK = "the step that failed was rolled back, so nothing is half-written"

# By SQLite primary result code (extended codes such as SQLITE_IOERR_WRITE fall under theirs).
_SQLITE: dict[str, str] = {
    "SQLITE_FULL": (
        "the state store {name} is full: the disk that holds it has no room left (or the "
        "database reached its size limit); free space there, then run again ({rolled_back})"
    ),
    "SQLITE_NOTADB": (
        "{name} is not a SQLite database (it holds something else, or its header is "
        "damaged); point {setting} at crmsync's state file, or restore this one from a backup"
    ),
    "SQLITE_CORRUPT": (
        "the state store {name} is damaged (SQLite finds it malformed); restore it from a backup"
    ),
    "SQLITE_READONLY": (
        "the state store {name} is read-only to this user; make the file and its directory "
        "writable (SQLite writes -wal and -shm files beside it)"
    ),
    "SQLITE_CANTOPEN": (
        "cannot open the state store {name}; check that it and its directory exist and that "
        "this user may read and write both"
    ),
    "SQLITE_IOERR": (
        "the disk holding the state store {name} reported an I/O error; check the disk and "
        "its file system, then run again ({rolled_back})"
    ),
}

# By PostgreSQL SQLSTATE.
_POSTGRESQL: dict[str, str] = {
    "53100": (
        "the PostgreSQL server holding the state store ({name}) has no disk space left; free "
        "space on the server, then run again ({rolled_back})"
    ),
}


def _sqlite_code(origin: BaseException | None) -> str:
    name = getattr(origin, "sqlite_errorname", None)  # Python 3.11+: e.g. SQLITE_IOERR_WRITE
    return "_".join(name.split("_")[:2]) if isinstance(name, str) else ""


def database_failure(name: str, exc: DBAPIError, *, opening: bool) -> StateError:
    """The error for a failed database call on the store ``name`` (a path, or a URL without
    its password); ``opening`` while the store is being opened and migrated."""
    origin = exc.orig
    sqlstate = getattr(origin, "sqlstate", None)
    sentence = _SQLITE.get(_sqlite_code(origin)) or _POSTGRESQL.get(str(sqlstate))
    if sentence:
        return StateError(sentence.format(name=name, setting=_SETTING, rolled_back=_ROLLED_BACK))
    detail = type(exc).__name__
    if origin is not None and type(origin).__name__ != detail:
        detail += f": {type(origin).__name__}"
    if sqlstate:
        detail += f" {sqlstate}"
    if "locked" in str(origin).lower():
        detail += ": database is locked"
    if opening:
        return StateError(f"cannot open the state store at {name} ({detail})")
    return StateError(f"state store operation failed on {name} ({detail})")


def _first_file_on_the_way(path: Path) -> Path | None:
    """The nearest-the-root ancestor of ``path`` that exists but is not a directory."""
    for ancestor in reversed(path.parents):
        if ancestor.exists() and not ancestor.is_dir():
            return ancestor
    return None


def file_failure(database: Path, exc: OSError) -> StateError:
    """The error for the operating system refusing to prepare the SQLite file ``database``."""
    if isinstance(exc, NotADirectoryError | FileExistsError):
        blocker = _first_file_on_the_way(database)
        if blocker is not None:
            return StateError(
                f"cannot create the state store {database}: {blocker} is a file, not a "
                f"directory; set {_SETTING} to a path inside a directory, or move {blocker} away"
            )
    target = Path(exc.filename) if isinstance(exc.filename, str) else database
    what = "the state store" if target == database else "the state store's directory"
    if isinstance(exc, PermissionError):
        return StateError(
            f"cannot create {what} {target}: permission denied; make {target.parent} writable "
            f"by this user, or set {_SETTING} to a writable location"
        )
    reason = (exc.strerror or type(exc).__name__).lower()
    return StateError(
        f"cannot create {what} {target}: {reason}; set {_SETTING} to a path crmsync can "
        "create, in a directory this user may write"
    )


def directory_failure(database: Path) -> StateError:
    """The error for a state URL that names a directory instead of a file."""
    return StateError(
        f"the state store {database} is a directory, not a file; set {_SETTING} to a file "
        f"path, such as sqlite:///{database / 'state.db'}"
    )
