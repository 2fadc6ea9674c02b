"""Stream cursors: how far each incremental stream has been durably read."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from connector.state._db import Db, upsert
from connector.state.models import Cursor
from connector.state.schema import cursors

__all__ = ["CursorStore"]


def _cursor(row: Row[Any]) -> Cursor:
    return Cursor(
        stream=row.stream,
        watermark=row.watermark,
        tie_break=row.tie_break,
        run_started_at=row.run_started_at,
        updated_at=row.updated_at,
    )


class CursorStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def get(self, stream: str) -> Cursor | None:
        with self._db.read() as connection:
            row = connection.execute(select(cursors).where(cursors.c.stream == stream)).first()
        return _cursor(row) if row is not None else None

    def all(self) -> list[Cursor]:
        with self._db.read() as connection:
            rows = connection.execute(select(cursors).order_by(cursors.c.stream))
            return [_cursor(row) for row in rows]

    def commit(self, cursor: Cursor) -> Cursor:
        """Store ``cursor`` if it is ahead of the stored one; return the cursor now stored.

        A cursor never moves backward: a commit behind the stored position (a lookback re-read,
        a late page) leaves the stored cursor as it is. Call this only after everything the
        cursor covers is durably handled, ideally in the same :meth:`StateStore.transaction`.
        """
        with self._db.transaction(), self._db.write() as connection:
            query = select(cursors).where(cursors.c.stream == cursor.stream)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()
            row = connection.execute(query).first()
            stored = _cursor(row) if row is not None else None
            if stored is not None and cursor.position() <= stored.position():
                return stored
            updated = replace(cursor, updated_at=self._db.now())
            values = {
                "stream": updated.stream,
                "watermark": updated.watermark,
                "tie_break": updated.tie_break,
                "run_started_at": updated.run_started_at,
                "updated_at": updated.updated_at,
            }
            statement = upsert(connection, cursors)
            statement = statement.on_conflict_do_update(
                index_elements=[cursors.c.stream],
                set_={name: statement.excluded[name] for name in values if name != "stream"},
            )
            connection.execute(statement, values)
        return updated

    def reset(self, stream: str) -> bool:
        """Forget a stream's cursor so the next run reads it from the start (a full resync)."""
        with self._db.write() as connection:
            result = connection.execute(cursors.delete().where(cursors.c.stream == stream))
        return result.rowcount > 0
