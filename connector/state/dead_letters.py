"""Dead letters: writes a CRM refused, kept for retry on later runs with exponential backoff."""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.engine import Row

from connector.errors import System
from connector.funnel import SourceRef
from connector.logs import redact
from connector.state._db import Db, chunks, keyed_in, upsert
from connector.state.models import Backoff, DeadLetter, NewDeadLetter, frozen_mapping
from connector.state.schema import dead_letters

__all__ = ["DECISION", "DeadLetterStore", "field_key"]

DECISION = "decision"
"""The fingerprint of a dead letter that waits on an admin's decision (a create a Salesforce
duplicate rule refused), not on the mapping or the schema."""

_MESSAGE_LIMIT = 2000


def _not_decision() -> ColumnElement[bool]:
    return or_(dead_letters.c.fingerprint.is_(None), dead_letters.c.fingerprint != DECISION)


def field_key(fields: Iterable[str]) -> str:
    """The uniqueness key of a field set: order and repeats do not matter."""
    return hashlib.sha256("\n".join(sorted(set(fields))).encode()).hexdigest()


def _dead_letter(row: Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        ref=SourceRef(
            system=System(row.system), object_type=row.object_type, record_id=row.record_id
        ),
        fields=tuple(row.fields),
        person_id=row.person_id,
        payload=frozen_mapping(row.payload),
        error_class=row.error_class,
        code=row.code,
        message=row.message,
        attempts=row.attempts,
        next_retry_at=row.next_retry_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        waiting=row.waiting,
        fingerprint=row.fingerprint,
    )


def _key(letter: NewDeadLetter) -> tuple[str, str, str, str]:
    ref = letter.ref
    return (ref.system.value, ref.object_type, ref.record_id, field_key(letter.fields))


class DeadLetterStore:
    def __init__(self, db: Db, backoff: Backoff) -> None:
        self._db = db
        self._backoff = backoff

    def add(self, letter: NewDeadLetter) -> DeadLetter:
        """Record a failure; the same record and field set again counts one more attempt."""
        with self._db.transaction(), self._db.write() as connection:
            self.add_many([letter])
            system, object_type, record_id, fields = _key(letter)
            row = connection.execute(
                select(dead_letters).where(
                    dead_letters.c.system == system,
                    dead_letters.c.object_type == object_type,
                    dead_letters.c.record_id == record_id,
                    dead_letters.c.field_key == fields,
                )
            ).one()
        return _dead_letter(row)

    def add_many(self, letters: Iterable[NewDeadLetter]) -> int:
        """Record many failures (two statements); returns how many were given."""
        wanted = {_key(letter): letter for letter in letters}
        if not wanted:
            return 0
        now = self._db.now()
        # By record (the unique key's first columns); other field sets' rows are not asked.
        key = (dead_letters.c.system, dead_letters.c.object_type, dead_letters.c.record_id)
        records = {wanted_key[:3] for wanted_key in wanted}
        with self._db.transaction(), self._db.write() as connection:
            attempts: dict[tuple[str, str, str, str], int] = {}
            unchanged: set[tuple[str, str, str, str]] = set()
            for matching in keyed_in(key, records):
                query = select(
                    dead_letters.c.system,
                    dead_letters.c.object_type,
                    dead_letters.c.record_id,
                    dead_letters.c.field_key,
                    dead_letters.c.attempts,
                    dead_letters.c.waiting,
                    dead_letters.c.fingerprint,
                    dead_letters.c.payload,
                ).where(matching)
                for row in connection.execute(query):
                    found = (row.system, row.object_type, row.record_id, row.field_key)
                    attempts[found] = row.attempts
                    letter = wanted.get(found)
                    if (
                        letter is not None
                        and letter.waiting
                        and row.waiting
                        and row.fingerprint == letter.fingerprint
                        and row.payload == dict(letter.payload)
                    ):
                        # The same value held back again, nothing changed: not an attempt.
                        unchanged.add(found)
            rows = [
                self._row(letter, attempts.get(k, 0) + (0 if k in unchanged else 1), now)
                for k, letter in wanted.items()
            ]
            statement = upsert(connection, dead_letters)
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=[
                    dead_letters.c.system,
                    dead_letters.c.object_type,
                    dead_letters.c.record_id,
                    dead_letters.c.field_key,
                ],
                set_={
                    name: excluded[name]
                    for name in (
                        "person_id",
                        "payload",
                        "error_class",
                        "code",
                        "message",
                        "attempts",
                        "next_retry_at",
                        "updated_at",
                        "waiting",
                        "fingerprint",
                    )
                },
            )
            connection.execute(statement, rows)
        return len(rows)

    def _row(self, letter: NewDeadLetter, attempts: int, now: datetime) -> dict[str, Any]:
        return {
            "system": letter.ref.system.value,
            "object_type": letter.ref.object_type,
            "record_id": letter.ref.record_id,
            "field_key": field_key(letter.fields),
            "fields": sorted(set(letter.fields)),
            "person_id": letter.person_id,
            "payload": dict(letter.payload),
            "error_class": letter.error_class,
            "code": letter.code,
            # Callers redact already; this second pass is cheap insurance for a table users see.
            "message": redact(letter.message)[:_MESSAGE_LIMIT],
            "attempts": attempts,
            "next_retry_at": now + self._backoff.delay(attempts),
            "created_at": now,
            "updated_at": now,
            "waiting": letter.waiting,
            "fingerprint": letter.fingerprint,
        }

    def list(self, *, system: System | None = None) -> list[DeadLetter]:
        """Every dead letter, oldest first."""
        query = select(dead_letters).order_by(dead_letters.c.created_at, dead_letters.c.id)
        if system is not None:
            query = query.where(dead_letters.c.system == system.value)
        with self._db.read() as connection:
            return [_dead_letter(row) for row in connection.execute(query)]

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        query = select(dead_letters).where(dead_letters.c.id == dead_letter_id)
        with self._db.read() as connection:
            row = connection.execute(query).first()
        return _dead_letter(row) if row is not None else None

    def due(
        self, now: datetime | None = None, *, limit: int | None = None
    ) -> builtins.list[DeadLetter]:
        """Dead letters whose next retry time has come (default: the store's clock)."""
        moment = now if now is not None else self._db.now()
        query = (
            select(dead_letters)
            .where(dead_letters.c.next_retry_at <= moment, dead_letters.c.waiting.is_(False))
            .order_by(dead_letters.c.next_retry_at, dead_letters.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as connection:
            return [_dead_letter(row) for row in connection.execute(query)]

    def changed_since_refused(
        self, current: Callable[[System, str], str]
    ) -> builtins.list[DeadLetter]:
        """Waiting dead letters whose fingerprint no longer matches ``current(system,
        object_type)``: the mapping or the schema changed, so the refusal may not recur.
        Letters waiting on a decision (:data:`DECISION`) are not among them."""
        query = select(dead_letters).where(dead_letters.c.waiting.is_(True), _not_decision())
        with self._db.read() as connection:
            letters = [_dead_letter(row) for row in connection.execute(query)]
        return [
            letter
            for letter in letters
            if letter.fingerprint != current(letter.ref.system, letter.ref.object_type)
        ]

    def waiting_on_decision(self, person_ids: Iterable[str]) -> dict[str, set[System]]:
        """Per person, the systems where a create waits on an admin's decision."""
        found: dict[str, set[System]] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = select(dead_letters.c.person_id, dead_letters.c.system).where(
                    dead_letters.c.person_id.in_(batch),
                    dead_letters.c.waiting.is_(True),
                    dead_letters.c.fingerprint == DECISION,
                )
                for person_id, system in connection.execute(query):
                    found.setdefault(person_id, set()).add(System(system))
        return found

    def settle_decisions(self, moot: Iterable[tuple[str, System]]) -> int:
        """Drop the letters waiting on a decision of these (person, system) pairs."""
        wanted = set(moot)
        ids: list[int] = []
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person for person, _ in wanted)):
                query = select(
                    dead_letters.c.id, dead_letters.c.person_id, dead_letters.c.system
                ).where(
                    dead_letters.c.person_id.in_(batch),
                    dead_letters.c.waiting.is_(True),
                    dead_letters.c.fingerprint == DECISION,
                )
                ids.extend(
                    row.id
                    for row in connection.execute(query)
                    if (row.person_id, System(row.system)) in wanted
                )
        return self.drop(ids) if ids else 0

    def settle_waiting(self, person_ids: Iterable[str], *, keep: Iterable[NewDeadLetter]) -> int:
        """These people were just planned: their waiting dead letters that were not held back
        again (``keep``) are settled (fixed in the CRM, or no longer wanted). Returns how many
        went."""
        kept = {_key(letter) for letter in keep}
        gone: list[int] = []
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = select(
                    dead_letters.c.id,
                    dead_letters.c.system,
                    dead_letters.c.object_type,
                    dead_letters.c.record_id,
                    dead_letters.c.field_key,
                ).where(
                    dead_letters.c.person_id.in_(batch),
                    dead_letters.c.waiting.is_(True),
                    _not_decision(),
                )
                gone.extend(
                    row.id
                    for row in connection.execute(query)
                    if (row.system, row.object_type, row.record_id, row.field_key) not in kept
                )
        return self.drop(gone) if gone else 0

    def retry_now(self, dead_letter_ids: Iterable[int] | None = None) -> int:
        """Make dead letters due at once (all when ``dead_letter_ids`` is None), waiting ones
        included; returns how many."""
        statement = dead_letters.update().values(next_retry_at=self._db.now(), waiting=False)
        changed = 0
        with self._db.write() as connection:
            if dead_letter_ids is None:
                return connection.execute(statement).rowcount
            for batch in chunks(dict.fromkeys(dead_letter_ids)):
                changed += connection.execute(
                    statement.where(dead_letters.c.id.in_(batch))
                ).rowcount
        return changed

    def mark_retried(self, dead_letter_ids: Iterable[int]) -> int:
        """Count one more failed attempt and push each retry back; returns how many exist."""
        ids = list(dict.fromkeys(dead_letter_ids))
        now = self._db.now()
        with self._db.transaction(), self._db.write() as connection:
            current: list[tuple[int, int]] = []
            for batch in chunks(ids):
                query = select(dead_letters.c.id, dead_letters.c.attempts).where(
                    dead_letters.c.id.in_(batch)
                )
                current.extend((row.id, row.attempts) for row in connection.execute(query))
            if current:
                connection.execute(
                    dead_letters.update()
                    .where(dead_letters.c.id == bindparam("letter_id"))
                    .values(
                        attempts=bindparam("new_attempts"),
                        next_retry_at=bindparam("retry_at"),
                        updated_at=now,
                    ),
                    [
                        {
                            "letter_id": letter_id,
                            "new_attempts": attempts + 1,
                            "retry_at": now + self._backoff.delay(attempts + 1),
                        }
                        for letter_id, attempts in current
                    ],
                )
        return len(current)

    def drop(self, dead_letter_ids: Iterable[int]) -> int:
        """Delete dead letters (retried successfully, or given up); returns how many."""
        dropped = 0
        with self._db.write() as connection:
            for batch in chunks(dict.fromkeys(dead_letter_ids)):
                result = connection.execute(
                    dead_letters.delete().where(dead_letters.c.id.in_(batch))
                )
                dropped += result.rowcount
        return dropped

    def clear_records(self, refs: Iterable[SourceRef]) -> int:
        """Delete the dead letters of these records (they have since synced), one statement
        per thousand; returns how many. Letters waiting for a change stay: the write that went
        out did not carry the value they hold back (``settle_waiting`` settles those)."""
        key = (dead_letters.c.system, dead_letters.c.object_type, dead_letters.c.record_id)
        wanted = {(ref.system.value, ref.object_type, ref.record_id) for ref in refs}
        cleared = 0
        with self._db.write() as connection:
            for matching in keyed_in(key, wanted):
                result = connection.execute(
                    dead_letters.delete().where(matching, dead_letters.c.waiting.is_(False))
                )
                cleared += result.rowcount
        return cleared
