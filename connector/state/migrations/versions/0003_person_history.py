"""Stage pins and disqualification dates on the stored person, recovered from the history.

Before this revision a pinned stage held for one run only, and nothing told the rules since
when a person was disqualified (a recycle rule on engagement never fired). From the stage
transitions:

* a person whose latest transition was a pin (``... set by hand in <crm> (rule: pin)``) and
  who still stands on that stage gets ``stage_pinned``;
* a person who is disqualified gets ``disqualified_at``: when they last became disqualified.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from connector.state._db import chunks
from connector.state._types import UtcDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

PIN_SUFFIX = "(rule: pin)"
Change = Callable[[str, str, dict[str, Any]], dict[str, Any] | None]

_transitions = sa.table(
    "stage_transitions",
    sa.column("id", sa.Integer),
    sa.column("person_id", sa.String),
    sa.column("to_stage", sa.String),
    sa.column("reasons", sa.JSON),
    sa.column("at", UtcDateTime),
)
_people = sa.table(
    "people", sa.column("id", sa.String), sa.column("stage", sa.String), sa.column("data", sa.JSON)
)


def _pinned_by_history(connection: sa.Connection) -> dict[str, str]:
    """Person id -> the stage their latest transition pinned."""
    latest = sa.select(sa.func.max(_transitions.c.id)).group_by(_transitions.c.person_id)
    rows = connection.execute(
        sa.select(_transitions.c.person_id, _transitions.c.to_stage, _transitions.c.reasons).where(
            _transitions.c.id.in_(latest)
        )
    )
    found: dict[str, str] = {}
    for person_id, to_stage, reasons in rows:
        if isinstance(reasons, list) and reasons and str(reasons[0]).endswith(PIN_SUFFIX):
            found[person_id] = to_stage
    return found


def _disqualified_since(connection: sa.Connection) -> dict[str, datetime]:
    """Person id -> when their latest transition into ``disqualified`` happened."""
    into = _transitions.c.to_stage == "disqualified"
    latest = (
        sa.select(sa.func.max(_transitions.c.id)).where(into).group_by(_transitions.c.person_id)
    )
    rows = connection.execute(
        sa.select(_transitions.c.person_id, _transitions.c.at).where(_transitions.c.id.in_(latest))
    )
    return {person_id: at for person_id, at in rows}


def _rewrite(connection: sa.Connection, ids: list[str], change: Change) -> None:
    """Apply ``change(person id, stage, data) -> new data | None`` to these people's records."""
    for chunk in chunks(ids):
        query = sa.select(_people.c.id, _people.c.stage, _people.c.data).where(
            _people.c.id.in_(chunk)
        )
        for person_id, stage, data in connection.execute(query).all():
            if not isinstance(data, dict):
                continue
            new = change(person_id, stage, data)
            if new is not None:
                connection.execute(
                    sa.update(_people).where(_people.c.id == person_id).values(data=new)
                )


def upgrade() -> None:
    connection = op.get_bind()
    pinned = _pinned_by_history(connection)
    since = _disqualified_since(connection)

    def recover(person_id: str, stage: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if data.get("stage") != stage:
            return None  # the row and its record disagree: leave it to the next evaluation
        new = dict(data)
        if pinned.get(person_id) == stage:  # still on the stage pinned (not moved on since)
            new["stage_pinned"] = True
        if stage == "disqualified" and person_id in since and not data.get("disqualified_at"):
            new["disqualified_at"] = since[person_id].astimezone(UTC).isoformat()
        return new if new != data else None

    _rewrite(connection, sorted(set(pinned) | set(since)), recover)


def downgrade() -> None:
    # Older code refuses unknown keys in a stored person: take both out again.
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.select(_people.c.id))]

    added = ("stage_pinned", "disqualified_at")

    def strip(_: str, __: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if not any(key in data for key in added):
            return None
        return {key: value for key, value in data.items() if key not in added}

    _rewrite(connection, ids, strip)
