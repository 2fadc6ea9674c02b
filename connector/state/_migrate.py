"""Running the alembic migrations programmatically and checking the schema revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from connector.errors import StateError
from connector.state.schema import VERSION_TABLE

__all__ = ["MIGRATIONS_DIR", "current_revision", "head_revision", "upgrade", "verify"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant shared by every crmsync process: it serialises concurrent upgrades on PostgreSQL.
_PG_MIGRATION_LOCK = 0x63726D73  # "crms"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StateError("crmsync ships no state store migrations; the installation is broken")
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision, or ``None`` for an empty database."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _check_known(connection: Connection) -> str | None:
    revision = current_revision(connection)
    if revision is None:
        return None
    script = ScriptDirectory.from_config(_config())
    try:
        known = script.get_revision(revision)
    except (RevisionError, CommandError):
        known = None
    if known is None:
        raise StateError(
            f"the state database is at schema revision {revision}, which this crmsync does not "
            f"know (its newest is {head_revision()}); upgrade crmsync or point state_url at "
            "another database"
        )
    return revision


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision in one transaction; return that revision."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        _check_known(connection)
        command.upgrade(_config(connection), "head")
    return head_revision()


def verify(engine: Engine) -> str:
    """Refuse a database that is not exactly at this code's newest revision."""
    with engine.connect() as connection:
        revision = _check_known(connection)
    head = head_revision()
    if revision != head:
        raise StateError(
            f"the state database is at schema revision {revision or 'none'}, older than this "
            f"crmsync's {head}; open it with migrations enabled to upgrade it"
        )
    return head
