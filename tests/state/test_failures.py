"""A state store that cannot work says which path, what is wrong, and what to do (exit 1).

A directory that is a file, a directory nobody may write, a file that is not a database, a
full disk: each is refused with a :class:`StateError` naming the path and the cause, through
the library and through the real ``crmsync`` command, never as a traceback.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from connector.cli import main
from connector.errors import ExitCode, StateError
from connector.state import StateStore
from connector.state._failures import database_failure

from .conftest import FrozenClock, person

GARBAGE = bytes(range(256)) * 16  # 4 KiB that no SQLite header starts with


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory in which this process may not create files."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        yield locked
        locked.chmod(0o700)
        return
    # Root ignores permission bits, but sysfs refuses new files even to root (EACCES).
    probe = Path("/sys") / f"crmsync-probe-{uuid.uuid4().hex}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except PermissionError:
        yield Path("/sys")
        return
    except OSError as exc:
        pytest.skip(f"running as root, and /sys cannot stand in for a denied directory ({exc})")
    probe.unlink()
    pytest.skip("running as root, and /sys accepts new files here: no directory denies root")


def _crmsync(cwd: Path, state_url: str) -> subprocess.CompletedProcess[str]:
    """``crmsync status`` run as a user runs it, against ``state_url``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CRMSYNC_")}
    env["CRMSYNC_STATE_URL"] = state_url
    return subprocess.run(
        [Path(sys.executable).parent / "crmsync", "status"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    assert result.returncode == ExitCode.FAILED
    return result.stderr


# --- The state directory is a regular file -----------------------------------------------------


@pytest.mark.parametrize("below", ["state.db", "sub/state.db"])
def test_a_state_directory_that_is_a_file_is_named(tmp_path: Path, below: str) -> None:
    blocker = tmp_path / "somefile"
    blocker.write_text("not a directory\n")
    with pytest.raises(StateError) as caught:
        StateStore.open(f"sqlite:///{blocker / below}")
    message = str(caught.value)
    assert f"{blocker} is a file, not a directory" in message
    assert str(blocker / below) in message
    assert "state_url" in message  # what to change
    assert blocker.read_text() == "not a directory\n"


def test_the_cli_names_a_state_directory_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "somefile").write_text("")
    output = _refused(_crmsync(tmp_path, "sqlite:///somefile/state.db"))
    assert "somefile/state.db" in output
    assert "somefile is a file, not a directory" in output


# --- The state directory may not be written --------------------------------------------------


def test_an_unwritable_state_directory_is_named(unwritable_dir: Path) -> None:
    database = unwritable_dir / f"crmsync-test-{uuid.uuid4().hex}.db"
    with pytest.raises(StateError) as caught:
        StateStore.open(f"sqlite:///{database}")
    message = str(caught.value)
    assert str(database) in message
    assert "permission denied" in message.lower()
    assert "writable" in message
    assert not database.exists()


def test_the_cli_names_an_unwritable_state_directory(tmp_path: Path, unwritable_dir: Path) -> None:
    database = unwritable_dir / "sub" / "state.db"
    output = _refused(_crmsync(tmp_path, f"sqlite:///{database}"))
    assert str(database.parent) in output
    assert "permission denied" in output.lower()


def test_a_state_url_naming_a_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(StateError) as caught:
        StateStore.open(f"sqlite:///{tmp_path}")
    assert f"{tmp_path} is a directory, not a file" in str(caught.value)
    assert f"sqlite:///{tmp_path / 'state.db'}" in str(caught.value)


# --- The file is not a database, or a damaged one ----------------------------------------------


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    database.write_bytes(GARBAGE)
    with pytest.raises(StateError) as caught:
        StateStore.open(f"sqlite:///{database}")
    message = str(caught.value)
    assert f"{database} is not a SQLite database" in message
    assert "backup" in message
    assert database.read_bytes() == GARBAGE  # left exactly as it was


def test_the_cli_names_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_bytes(GARBAGE)
    output = _refused(_crmsync(tmp_path, "sqlite:///state.db"))
    assert "state.db is not a SQLite database" in output


def test_a_damaged_database_is_named(tmp_path: Path, clock: FrozenClock) -> None:
    database = tmp_path / "state.db"
    with StateStore.open(f"sqlite:///{database}", clock=clock) as store:
        store.people.upsert(person("p1", "ada@example.com"))
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damaged = bytearray(database.read_bytes())
    damaged[100:2100] = GARBAGE[:2000]  # page 1 past the header: the schema table's root
    database.write_bytes(bytes(damaged))
    with pytest.raises(StateError) as caught:
        StateStore.open(f"sqlite:///{database}", clock=clock)
    assert f"the state store {database} is damaged" in str(caught.value)
    assert "backup" in str(caught.value)


# --- The disk is full --------------------------------------------------------------------------


def _no_room_to_grow(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Let the database not grow by a page: SQLite then fails writes with SQLITE_FULL, as it
    does on a full disk."""
    cursor = dbapi_connection.cursor()
    pages = cursor.execute("PRAGMA page_count").fetchone()[0]
    cursor.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
    cursor.close()


def test_a_full_disk_during_a_write_is_named_and_nothing_is_written(
    tmp_path: Path, clock: FrozenClock
) -> None:
    database = tmp_path / "state.db"
    with StateStore.open(f"sqlite:///{database}", clock=clock) as store:
        store.people.upsert(person("p0", "first@example.com"))
        store.engine.dispose()  # new connections get the limit
        event.listen(store.engine, "connect", _no_room_to_grow)
        many = [person(f"p{n}", f"person{n}@example.com") for n in range(1, 2001)]
        with pytest.raises(StateError) as caught:
            store.people.upsert_many(many)
        message = str(caught.value)
        assert str(database) in message
        assert "full" in message
        assert "disk" in message
        assert "free" in message  # what to do
        assert "person1@" not in message
        event.remove(store.engine, "connect", _no_room_to_grow)
        store.engine.dispose()
        assert store.people.get("p1") is None
        assert store.people.get("p0") is not None


def test_the_cli_names_a_full_disk(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process, so the page limit can be set on the connections the real command opens:
    # creating the schema of a new store is the first write, and it finds no room.
    monkeypatch.setenv("CRMSYNC_STATE_URL", "sqlite:///state.db")
    event.listen(Engine, "connect", _no_room_to_grow)
    try:
        assert main(["status"]) == ExitCode.FAILED
    finally:
        event.remove(Engine, "connect", _no_room_to_grow)
    output = capsys.readouterr().err
    assert "state.db is full" in output
    assert "disk" in output
    assert "free" in output


# --- Every cause has its sentence --------------------------------------------------------------


class _PostgresError(Exception):
    sqlstate = "53100"


def _sqlite_error(name: str) -> sqlite3.Error:
    error = sqlite3.OperationalError("driver text")
    error.sqlite_errorname = name
    return error


@pytest.mark.parametrize(
    ("origin", "phrase"),
    [
        (_sqlite_error("SQLITE_FULL"), "is full: the disk that holds it has no room left"),
        (_sqlite_error("SQLITE_NOTADB"), "is not a SQLite database"),
        (_sqlite_error("SQLITE_CORRUPT"), "is damaged"),
        (_sqlite_error("SQLITE_READONLY_DBMOVED"), "is read-only to this user"),
        (_sqlite_error("SQLITE_CANTOPEN"), "cannot open the state store"),
        (_sqlite_error("SQLITE_IOERR_WRITE"), "reported an I/O error"),
        (_PostgresError("driver text"), "has no disk space left"),
    ],
)
def test_each_known_cause_names_the_store_and_keeps_parameters_out(
    origin: Exception, phrase: str
) -> None:
    failed = OperationalError("INSERT INTO people ...", {"email": "ada@example.com"}, origin)
    message = str(database_failure("/srv/crmsync/state.db", failed, opening=False))
    assert phrase in message
    assert "/srv/crmsync/state.db" in message
    assert "ada@example.com" not in message
    assert "driver text" not in message
