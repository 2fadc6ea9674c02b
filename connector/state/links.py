"""Links from CRM records to canonical people, with their history.

A record has at most one active link. Moving a record to another person (a Salesforce lead
conversion, a HubSpot merge, a person merge) closes the old link (``valid_to``) and opens a new
one, so the history of who a record belonged to, and why, is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from connector.errors import StateError, System
from connector.funnel import SourceRef
from connector.state._db import Db, chunks, keyed_in
from connector.state._links import (
    active_links,
    close_links,
    link_from_row,
    move_all_links,
    open_links,
    ref_key,
)
from connector.state.models import Link, LinkReason
from connector.state.schema import links

__all__ = ["LinkStore"]


class LinkStore:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, ref: SourceRef, person_id: str, reason: LinkReason) -> Link:
        """Link a record to a person. Linking it again to the same person changes nothing; a
        record linked to someone else raises ``StateError`` (use :meth:`move`)."""
        self.add_many([(ref, person_id, reason)])
        link = self.active(ref)
        if link is None:
            raise StateError("a link just written could not be read back")
        return link

    def add_many(self, items: Iterable[tuple[SourceRef, str, LinkReason]]) -> int:
        """Link many records at once (two statements); returns how many links were created."""
        wanted: dict[SourceRef, tuple[SourceRef, str, LinkReason]] = {}
        for item in items:
            previous = wanted.setdefault(item[0], item)
            if previous[1] != item[1]:
                raise StateError(f"{item[0]} given twice with different people")
        with self._db.transaction(), self._db.write() as connection:
            existing = active_links(connection, wanted)
            for ref, link in existing.items():
                if link.person_id != wanted[ref][1]:
                    raise StateError(f"{ref} is already linked to another person; move it instead")
            new = [item for ref, item in wanted.items() if ref not in existing]
            return open_links(connection, new, self._db.now())

    def move(self, ref: SourceRef, person_id: str, reason: LinkReason) -> Link:
        """Point a record at another person, closing its current link (kept as history).

        A record with no active link is simply linked; one already on ``person_id`` is left.
        """
        with self._db.transaction(), self._db.write() as connection:
            current = active_links(connection, [ref]).get(ref)
            if current is not None and current.person_id == person_id:
                return current
            now = self._db.now()
            if current is not None:
                close_links(connection, [current.id], now)
            open_links(connection, [(ref, person_id, reason)], now)
            link = active_links(connection, [ref])[ref]
        return link

    def move_person(self, from_person: str, to_person: str, reason: LinkReason) -> int:
        """Move every active link of one person to another; returns how many moved."""
        with self._db.transaction(), self._db.write() as connection:
            return move_all_links(connection, from_person, to_person, reason, self._db.now())

    def close(self, ref: SourceRef) -> bool:
        """End a record's active link (the record was deleted); ``False`` if it had none."""
        return self.close_many([ref]) == 1

    def close_many(self, refs: Iterable[SourceRef]) -> int:
        """End the active links of many records at once; returns how many were open."""
        with self._db.transaction(), self._db.write() as connection:
            current = active_links(connection, refs)
            close_links(connection, (link.id for link in current.values()), self._db.now())
            return len(current)

    def active(self, ref: SourceRef) -> Link | None:
        return self.resolve([ref]).get(ref)

    def resolve(self, refs: Iterable[SourceRef]) -> dict[SourceRef, Link]:
        """The active link of each record that has one, for a whole page at once."""
        with self._db.read() as connection:
            return active_links(connection, refs)

    def linked(self, refs: Iterable[SourceRef]) -> set[SourceRef]:
        """Which of ``refs`` have an active link: :meth:`resolve` without building the links
        (the engine asks this for every record of every chunk)."""
        wanted = {ref_key(ref): ref for ref in refs}
        found: set[SourceRef] = set()
        key = (links.c.system, links.c.object_type, links.c.record_id)
        with self._db.read() as connection:
            for matching in keyed_in(key, wanted):
                query = select(*key).where(links.c.active, matching)
                found.update(wanted[(row[0], row[1], row[2])] for row in connection.execute(query))
        return found

    def active_records(self, system: System, object_type: str) -> list[str]:
        """The ids of every actively linked record of one object type."""
        query = (
            select(links.c.record_id)
            .where(
                links.c.system == system.value,
                links.c.object_type == object_type,
                links.c.active,
            )
            .order_by(links.c.record_id)
        )
        with self._db.read() as connection:
            return list(connection.execute(query).scalars())

    def history(self, ref: SourceRef) -> list[Link]:
        """Every link a record ever had, oldest first."""
        system, object_type, record_id = ref_key(ref)
        query = (
            select(links)
            .where(
                links.c.system == system,
                links.c.object_type == object_type,
                links.c.record_id == record_id,
            )
            .order_by(links.c.valid_from, links.c.id)
        )
        with self._db.read() as connection:
            return [link_from_row(row) for row in connection.execute(query)]

    def systems_of(self, person_ids: Iterable[str]) -> dict[str, frozenset[System]]:
        """The systems in which each person has an active link (one query per thousand)."""
        found: dict[str, set[System]] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = (
                    select(links.c.person_id, links.c.system)
                    .where(links.c.person_id.in_(batch), links.c.active)
                    .distinct()
                )
                for person_id, system in connection.execute(query):
                    found.setdefault(person_id, set()).add(System(system))
        return {person_id: frozenset(systems) for person_id, systems in found.items()}

    def for_people(self, person_ids: Iterable[str]) -> dict[str, list[Link]]:
        """The active links of many people (one query per thousand), oldest first."""
        found: dict[str, list[Link]] = {}
        with self._db.read() as connection:
            for batch in chunks(dict.fromkeys(person_ids)):
                query = (
                    select(links)
                    .where(links.c.person_id.in_(batch), links.c.active)
                    .order_by(links.c.valid_from, links.c.id)
                )
                for row in connection.execute(query):
                    found.setdefault(row.person_id, []).append(link_from_row(row))
        return found

    def for_person(self, person_id: str, *, include_history: bool = False) -> list[Link]:
        """A person's links (active ones only unless ``include_history``), oldest first."""
        if not include_history:
            return self.for_people([person_id]).get(person_id, [])
        query = select(links).where(links.c.person_id == person_id)
        with self._db.read() as connection:
            rows = connection.execute(query.order_by(links.c.valid_from, links.c.id))
            return [link_from_row(row) for row in rows]
