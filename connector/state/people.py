"""Canonical people: one row per human, the canonical ``Person`` stored as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.engine import Row

from connector.errors import StateError
from connector.funnel import FunnelStage, Person, SourceRef, email_or_none
from connector.state._db import Db, chunks, execute_rows, keyed_in, upsert
from connector.state._links import move_all_links
from connector.state.models import LinkReason, PersonRecord
from connector.state.schema import links, people

__all__ = ["PeopleStore"]


def _record(row: Row[Any]) -> PersonRecord:
    return PersonRecord(
        person=Person.model_validate(row.data),
        created_at=row.created_at,
        updated_at=row.updated_at,
        merged_into=row.merged_into,
        tombstoned_at=row.tombstoned_at,
    )


class PeopleStore:
    """Reads and writes canonical people. Lookups by email skip people merged into another."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def upsert(self, person: Person) -> PersonRecord:
        """Insert or replace one person; ``created_at`` is kept from the first insert."""
        self.upsert_many([person])
        record = self.get(person.id)
        if record is None:
            raise StateError("a person just written could not be read back")
        return record

    def upsert_many(self, persons: Iterable[Person]) -> int:
        """Insert or replace many people in one statement; returns how many were given.

        New people keep the order they were given in ``created_at`` (a microsecond apart):
        when two people turn out to be one, the older one stays, and people created on the
        same page must not tie.
        """
        now = self._db.now()
        rows = [
            {
                "id": person.id,
                "email": person.email,
                "data": person.model_dump(mode="json"),
                "stage": person.stage.value,
                "score": person.score.total if person.score else None,
                "rules_version": person.score.rules_version if person.score else "",
                "created_at": now + timedelta(microseconds=index),
                "updated_at": now,
            }
            for index, person in enumerate(persons)
        ]
        if not rows:
            return 0
        with self._db.write() as connection:
            statement = upsert(connection, people)
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=[people.c.id],
                set_={
                    "email": excluded.email,
                    "data": excluded.data,
                    "stage": excluded.stage,
                    "score": excluded.score,
                    "rules_version": excluded.rules_version,
                    "updated_at": excluded.updated_at,
                },
            )
            execute_rows(connection, statement, rows)
        return len(rows)

    def get(self, person_id: str) -> PersonRecord | None:
        return self.get_many([person_id]).get(person_id)

    def get_many(self, person_ids: Iterable[str]) -> dict[str, PersonRecord]:
        """People by id (merged ones included, with ``merged_into`` set); missing ids are absent."""
        found: dict[str, PersonRecord] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                for row in connection.execute(select(people).where(people.c.id.in_(batch))):
                    found[row.id] = _record(row)
        return found

    def by_email(self, email: str) -> list[PersonRecord]:
        """Unmerged people whose primary email is ``email`` (normalised); more than one means an
        ambiguous match for the engine to report."""
        found = self.by_emails([email])
        return next(iter(found.values()), [])

    def by_emails(self, emails: Iterable[str]) -> dict[str, list[PersonRecord]]:
        """Unmerged people per normalised email, for a whole page at once.

        Strings that are not addresses match nobody (stored emails are all valid).
        """
        found: dict[str, list[PersonRecord]] = {}
        for row in self._by_emails(emails, select(people)):
            found.setdefault(row.email, []).append(_record(row))
        return found

    def ids_by_emails(self, emails: Iterable[str | None]) -> dict[str, list[str]]:
        """Like :meth:`by_emails`, ids only (oldest first): no person is loaded."""
        found: dict[str, list[str]] = {}
        for row in self._by_emails(emails, select(people.c.email, people.c.id)):
            found.setdefault(row.email, []).append(row.id)
        return found

    def _by_emails(self, emails: Iterable[str | None], query: Select[Any]) -> list[Row[Any]]:
        wanted = dict.fromkeys(filter(None, map(email_or_none, emails)))
        rows: list[Row[Any]] = []
        with self._db.read() as connection:
            for batch in chunks(wanted):
                ordered = query.where(
                    people.c.email.in_(batch), people.c.merged_into.is_(None)
                ).order_by(people.c.created_at, people.c.id)
                rows.extend(connection.execute(ordered))
        return rows

    def by_link(self, ref: SourceRef) -> PersonRecord | None:
        """The person a CRM record is actively linked to."""
        return self.by_links([ref]).get(ref)

    def by_links(self, refs: Iterable[SourceRef]) -> dict[SourceRef, PersonRecord]:
        """The people CRM records are actively linked to, for a whole page at once."""
        wanted = {(ref.system.value, ref.object_type, ref.record_id): ref for ref in refs}
        found: dict[SourceRef, PersonRecord] = {}
        key = (links.c.system, links.c.object_type, links.c.record_id)
        with self._db.read() as connection:
            for matching in keyed_in(key, wanted):
                query = (
                    select(people, links.c.system, links.c.object_type, links.c.record_id)
                    .join(links, and_(links.c.person_id == people.c.id, links.c.active))
                    .where(matching)
                )
                for row in connection.execute(query):
                    found[wanted[(row.system, row.object_type, row.record_id)]] = _record(row)
        return found

    def merge(self, loser_id: str, winner_id: str) -> int:
        """Record that two people are one human: the loser's active links move to the winner
        (history kept, reason ``merge``) and the loser is marked merged. Returns links moved."""
        if loser_id == winner_id:
            raise StateError("cannot merge a person into itself")
        with self._db.transaction(), self._db.write() as connection:
            found = self.get_many([loser_id, winner_id])
            if len(found) != 2:
                raise StateError("merge needs two stored people")
            if found[winner_id].merged_into is not None:
                raise StateError("cannot merge into a person that was itself merged away")
            now = self._db.now()
            moved = move_all_links(connection, loser_id, winner_id, LinkReason.MERGE, now)
            connection.execute(
                people.update()
                .where(people.c.id == loser_id)
                .values(merged_into=winner_id, updated_at=now)
            )
            # People merged into the loser earlier now point straight at the winner.
            connection.execute(
                people.update()
                .where(people.c.merged_into == loser_id)
                .values(merged_into=winner_id, updated_at=now)
            )
        return moved

    def current(self, person_id: str) -> str:
        """The person that ``person_id`` is now: itself, or the one it was merged into."""
        seen = {person_id}
        with self._db.read() as connection:
            while True:
                merged = connection.execute(
                    select(people.c.merged_into).where(people.c.id == person_id)
                ).scalar_one_or_none()
                if merged is None or merged in seen:
                    return person_id
                seen.add(merged)
                person_id = merged

    def tombstone(self, person_ids: Iterable[str]) -> int:
        """Keep these people as tombstones: every record of theirs is gone. The row keeps the
        id (so a late echo of a gone record cannot make a new person of it) and nothing
        personal; returns how many rows changed."""
        now = self._db.now()
        changed = 0
        with self._db.write() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                rows = [
                    {"pid": person_id, "blank": Person(id=person_id).model_dump(mode="json")}
                    for person_id in batch
                ]
                result = connection.execute(
                    people.update()
                    .where(people.c.id == bindparam("pid"), people.c.tombstoned_at.is_(None))
                    .values(
                        email=None,
                        data=bindparam("blank"),
                        stage=FunnelStage.LEAD.value,
                        score=None,
                        rules_version="",
                        tombstoned_at=now,
                        updated_at=now,
                    ),
                    rows,
                )
                changed += result.rowcount
        return changed

    def revive(self, person_ids: Iterable[str]) -> int:
        """A record of these tombstoned people came back (restored): they are people again."""
        revived = 0
        with self._db.write() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                result = connection.execute(
                    people.update()
                    .where(people.c.id.in_(batch), people.c.tombstoned_at.is_not(None))
                    .values(tombstoned_at=None, updated_at=self._db.now())
                )
                revived += result.rowcount
        return revived

    def ids(self, *, after: str = "", limit: int = 1000) -> list[str]:
        """Ids of people not merged away nor tombstoned, after ``after`` in id order."""
        query = (
            select(people.c.id)
            .where(
                people.c.id > after,
                people.c.merged_into.is_(None),
                people.c.tombstoned_at.is_(None),
            )
            .order_by(people.c.id)
            .limit(limit)
        )
        with self._db.read() as connection:
            return list(connection.execute(query).scalars())

    def count(self) -> int:
        """How many people are stored, merged ones included."""
        with self._db.read() as connection:
            return int(connection.execute(select(func.count()).select_from(people)).scalar_one())
