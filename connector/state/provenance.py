"""Per-field provenance: what each system last showed and what crmsync last wrote there.

The engine reads a page's provenance in one call, derives new values with
``dataclasses.replace`` and writes them back in one call: no per-person queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from connector.errors import System
from connector.state._db import Db, chunks, execute_rows, upsert
from connector.state._types import JsonValue
from connector.state.models import Provenance, ProvenanceKey
from connector.state.schema import field_provenance

__all__ = ["ProvenanceStore"]

_COLUMNS = (
    "seen_value",
    "seen_modified_at",
    "written_value",
    "written_at",
    "written_run_id",
)


def _provenance(row: Row[Any]) -> Provenance:
    return Provenance(
        person_id=row.person_id,
        field=row.field,
        system=System(row.system),
        seen_value=row.seen_value,
        seen_modified_at=row.seen_modified_at,
        written_value=row.written_value,
        written_at=row.written_at,
        written_run_id=row.written_run_id,
    )


class ProvenanceStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def get_many(self, person_ids: Iterable[str]) -> dict[ProvenanceKey, Provenance]:
        """All provenance of these people, keyed by (person, field, system).

        One statement per thousand people.
        """
        found: dict[ProvenanceKey, Provenance] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = select(field_provenance).where(field_provenance.c.person_id.in_(batch))
                for row in connection.execute(query):
                    value = _provenance(row)
                    found[value.key] = value
        return found

    def written_by_person(
        self, person_ids: Iterable[str]
    ) -> dict[str, dict[tuple[str, System], JsonValue]]:
        """What crmsync last wrote, per person and (field, system): all that deciding needs.

        Only rows with a write, and only their value: no datetimes to parse, no
        :class:`Provenance` per row (the decide step reads tens of thousands per chunk).
        """
        found: dict[str, dict[tuple[str, System], JsonValue]] = {}
        columns = (
            field_provenance.c.person_id,
            field_provenance.c.field,
            field_provenance.c.system,
            field_provenance.c.written_value,
        )
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = select(*columns).where(
                    field_provenance.c.person_id.in_(batch),
                    field_provenance.c.written_at.is_not(None),
                )
                for person_id, name, system, value in connection.execute(query):
                    found.setdefault(person_id, {})[(name, System(system))] = value
        return found

    def for_person(self, person_id: str) -> list[Provenance]:
        found = self.get_many([person_id])
        return sorted(found.values(), key=lambda value: (value.field, value.system.value))

    def put_many(self, values: Iterable[Provenance]) -> int:
        """Insert or replace provenance rows in one statement; returns how many were given.

        A key given twice keeps the last value.
        """
        rows = {
            value.key: {
                "person_id": value.person_id,
                "field": value.field,
                "system": value.system.value,
                "seen_value": value.seen_value,
                "seen_modified_at": value.seen_modified_at,
                "written_value": value.written_value,
                "written_at": value.written_at,
                "written_run_id": value.written_run_id,
            }
            for value in values
        }
        if not rows:
            return 0
        with self._db.write() as connection:
            statement = upsert(connection, field_provenance)
            statement = statement.on_conflict_do_update(
                index_elements=[
                    field_provenance.c.person_id,
                    field_provenance.c.field,
                    field_provenance.c.system,
                ],
                set_={name: statement.excluded[name] for name in _COLUMNS},
            )
            execute_rows(connection, statement, list(rows.values()))
        return len(rows)
