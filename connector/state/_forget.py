"""Erasing one human from the state store (an erasure request)."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Connection

from connector.state._db import keyed_in
from connector.state.models import ForgetResult
from connector.state.schema import (
    activities,
    dead_letters,
    dirty_people,
    field_provenance,
    links,
    observations,
    people,
    stage_transitions,
)

__all__ = ["forget_people", "people_for_email"]


def people_for_email(connection: Connection, email: str) -> set[str]:
    """Everyone stored under ``email``, plus the people merged with them (the same human)."""
    found = set(connection.execute(select(people.c.id).where(people.c.email == email)).scalars())
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


def forget_people(connection: Connection, ids: set[str]) -> ForgetResult:
    """Delete these people and every row about them; children first for the foreign keys."""
    if not ids:
        return ForgetResult()
    records = connection.execute(
        select(links.c.system, links.c.object_type, links.c.record_id)
        .where(links.c.person_id.in_(ids))
        .distinct()
    ).all()
    record_keys = [tuple(record) for record in records]
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
    link_count = connection.execute(delete(links).where(links.c.person_id.in_(ids))).rowcount
    # Break merged_into references among the people being erased before deleting them.
    connection.execute(people.update().where(people.c.id.in_(ids)).values(merged_into=None))
    person_count = connection.execute(delete(people).where(people.c.id.in_(ids))).rowcount
    return ForgetResult(
        people=person_count,
        links=link_count,
        provenance=provenance,
        transitions=transitions,
        dead_letters=letters,
        observations=observation_count,
        activities=activity_count,
    )
