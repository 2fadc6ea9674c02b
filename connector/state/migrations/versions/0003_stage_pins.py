"""Pins of stages set by hand (``Person.stage_pinned``), recovered from the stage history.

Before this revision a pinned stage held for one run only: nothing on the person remembered
it. Every person whose latest stage transition was a pin (``... set by hand in <crm> (rule:
pin)``) and who still stands on that stage gets ``stage_pinned`` in their stored record, so
upgrading does not let the next evaluation move them off a rep's decision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

PIN_SUFFIX = "(rule: pin)"
_CHUNK = 500

_transitions = sa.table(
    "stage_transitions",
    sa.column("id", sa.Integer),
    sa.column("person_id", sa.String),
    sa.column("to_stage", sa.String),
    sa.column("reasons", sa.JSON),
)
_people = sa.table(
    "people", sa.column("id", sa.String), sa.column("stage", sa.String), sa.column("data", sa.JSON)
)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


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


def _rewrite(connection: sa.Connection, ids: list[str], change: Any) -> None:
    """Apply ``change(stage, data) -> new data | None`` to these people's stored records."""
    for chunk in _chunks(ids):
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

    def pin(person_id: str, stage: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if stage != pinned[person_id] or data.get("stage") != stage:
            return None  # moved on since (closed-won, another rep's stage): no pin
        return {**data, "stage_pinned": True}

    _rewrite(connection, sorted(pinned), pin)


def downgrade() -> None:
    # Older code refuses unknown keys in a stored person: take the pin out again.
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.select(_people.c.id))]

    def unpin(_: str, __: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if "stage_pinned" not in data:
            return None
        return {key: value for key, value in data.items() if key != "stage_pinned"}

    _rewrite(connection, ids, unpin)
