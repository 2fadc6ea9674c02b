"""Alembic environment: runs on the connection ``connector.state._migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from connector.errors import StateError
from connector.state.schema import VERSION_TABLE, metadata

_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    # Offline (SQL script) mode and alembic.ini-driven runs are not supported: the store
    # migrates itself when it opens.
    raise StateError("state migrations run only through StateStore.open")

context.configure(
    connection=_connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
