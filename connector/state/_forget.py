"""Erasing one human from the state store (an erasure request)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Connection

from connector.state._db import chunks, keyed_in
from connector.state.models import ForgetResult
from connector.state.schema import (
    activities,
    dead_letters,
    dirty_people,
    field_provenance,
    gone_records,
    identity_issues,
    links,
    observations,
    people,
    stage_transitions,
    write_intents,
)

__all__ = ["erase_personal_data", "forget_people", "people_for_email", "related_people"]


def people_for_email(connection: Connection, email: str) -> set[str]:
    """Everyone stored under ``email``, plus the people merged with them (the same human)."""
    found = set(connection.execute(select(people.c.id).where(people.c.email == email)).scalars())
    return related_people(connection, found)


def related_people(connection: Connection, found: set[str]) -> set[str]:
    """These people and everyone merged with them, transitively (the same human)."""
    found = set(found)
    frontier = set(found)
    while frontier:
        related = connection.execute(
            select(people.c.id, people.c.merged_into).where(
                or_(people.c.id.in_(frontier), people.c.merged_into.in_(frontier))
            )
        )
        reached: set[str] = set()
        for person_id, merged_into in related:
            reached.add(person_id)
            if merged_into is not None:
                reached.add(merged_into)
        frontier = reached - found
        found |= reached
    return found


def _record_keys(connection: Connection, ids: set[str]) -> list[tuple[str, str, str]]:
    """Every CRM record these people ever had: their links (history too) and gone records."""
    found: dict[tuple[str, str, str], None] = {}
    for table in (links, gone_records):
        rows = connection.execute(
            select(table.c.system, table.c.object_type, table.c.record_id)
            .where(table.c.person_id.in_(ids))
            .distinct()
        )
        found.update({(row[0], row[1], row[2]): None for row in rows})
    return list(found)


def erase_personal_data(connection: Connection, ids: set[str]) -> ForgetResult:
    """Delete every row about these people that holds personal data or depends on it: values
    seen and written, activity, stage history, dead letters (their payloads), the sync buffer
    and write intents. The people rows, links and gone records (ids only) stay."""
    if not ids:
        return ForgetResult()
    record_keys = _record_keys(connection, ids)
    letters = connection.execute(
        delete(dead_letters).where(dead_letters.c.person_id.in_(ids))
    ).rowcount
    letter_key = (dead_letters.c.system, dead_letters.c.object_type, dead_letters.c.record_id)
    for matching in keyed_in(letter_key, record_keys):
        letters += connection.execute(delete(dead_letters).where(matching)).rowcount
    transitions = connection.execute(
        delete(stage_transitions).where(stage_transitions.c.person_id.in_(ids))
    ).rowcount
    provenance = connection.execute(
        delete(field_provenance).where(field_provenance.c.person_id.in_(ids))
    ).rowcount
    activity_count = 0
    activity_key = (activities.c.system, activities.c.record_type, activities.c.record_id)
    for matching in keyed_in(activity_key, record_keys):
        activity_count += connection.execute(delete(activities).where(matching)).rowcount
    observation_count = connection.execute(
        delete(observations).where(observations.c.person_id.in_(ids))
    ).rowcount
    connection.execute(delete(dirty_people).where(dirty_people.c.person_id.in_(ids)))
    connection.execute(delete(write_intents).where(write_intents.c.person_id.in_(ids)))
    return ForgetResult(
        provenance=provenance,
        transitions=transitions,
        dead_letters=letters,
        observations=observation_count,
        activities=activity_count,
    )


def forget_people(connection: Connection, ids: set[str]) -> ForgetResult:
    """Delete these people and every row about them; children first for the foreign keys."""
    if not ids:
        return ForgetResult()
    record_keys = _record_keys(connection, ids)
    erased = erase_personal_data(connection, ids)
    connection.execute(delete(gone_records).where(gone_records.c.person_id.in_(ids)))
    for batch in chunks(["/".join(key) for key in record_keys]):
        connection.execute(
            delete(identity_issues).where(
                or_(identity_issues.c.record.in_(batch), identity_issues.c.other.in_(batch))
            )
        )
    link_count = connection.execute(delete(links).where(links.c.person_id.in_(ids))).rowcount
    # Break merged_into references among the people being erased before deleting them.
    connection.execute(people.update().where(people.c.id.in_(ids)).values(merged_into=None))
    person_count = connection.execute(delete(people).where(people.c.id.in_(ids))).rowcount
    return replace(erased, people=person_count, links=link_count)
