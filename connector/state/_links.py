"""Link rows: conversions between rows and ``Link`` values, and moving links with history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from connector.errors import System
from connector.funnel import SourceRef
from connector.state._db import chunks, keyed_in
from connector.state.models import Link, LinkReason
from connector.state.schema import links

__all__ = [
    "active_links",
    "close_links",
    "link_from_row",
    "move_all_links",
    "open_links",
    "ref_key",
]


def ref_key(ref: SourceRef) -> tuple[str, str, str]:
    return (ref.system.value, ref.object_type, ref.record_id)


def link_from_row(row: Row[Any]) -> Link:
    return Link(
        id=row.id,
        ref=SourceRef(
            system=System(row.system), object_type=row.object_type, record_id=row.record_id
        ),
        person_id=row.person_id,
        active=row.active,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        reason=LinkReason(row.reason),
    )


def active_links(connection: Connection, refs: Iterable[SourceRef]) -> dict[SourceRef, Link]:
    """The active link of each ref that has one (one statement per thousand refs)."""
    wanted = {ref_key(ref): ref for ref in refs}
    found: dict[SourceRef, Link] = {}
    key = (links.c.system, links.c.object_type, links.c.record_id)
    for matching in keyed_in(key, wanted):
        query = select(links).where(links.c.active, matching)
        for row in connection.execute(query):
            found[wanted[(row.system, row.object_type, row.record_id)]] = link_from_row(row)
    return found


def close_links(connection: Connection, link_ids: Iterable[int], at: datetime) -> None:
    for batch in chunks(link_ids):
        connection.execute(
            links.update().where(links.c.id.in_(batch)).values(active=False, valid_to=at)
        )


def open_links(
    connection: Connection, items: Iterable[tuple[SourceRef, str, LinkReason]], at: datetime
) -> int:
    rows = [
        {
            "system": ref.system.value,
            "object_type": ref.object_type,
            "record_id": ref.record_id,
            "person_id": person_id,
            "active": True,
            "valid_from": at,
            "valid_to": None,
            "reason": reason.value,
        }
        for ref, person_id, reason in items
    ]
    if rows:
        connection.execute(links.insert(), rows)
    return len(rows)


def move_all_links(
    connection: Connection, from_person: str, to_person: str, reason: LinkReason, at: datetime
) -> int:
    """Close every active link of ``from_person`` and open the same records on ``to_person``."""
    current = [
        link_from_row(row)
        for row in connection.execute(
            select(links).where(links.c.person_id == from_person, links.c.active)
        )
    ]
    close_links(connection, (link.id for link in current), at)
    return open_links(connection, ((link.ref, to_person, reason) for link in current), at)
