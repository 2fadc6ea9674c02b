"""The sync engine's buffer: observations, dirty people, activities.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("object_type", sa.String(80), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("modified_at", _TS, nullable=False),
        sa.Column("record_values", sa.JSON(), nullable=False),
        sa.Column("merged_values", sa.JSON(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("system", "object_type", "record_id", name="pk_observations"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_observations_person_id_people"
        ),
    )
    op.create_index("ix_observations_person_id", "observations", ["person_id"])

    op.create_table(
        "dirty_people",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("since", _TS, nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_dirty_people"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_dirty_people_person_id_people"
        ),
    )
    op.create_index("ix_dirty_people_since", "dirty_people", ["since"])

    op.create_table(
        "activities",
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("activity_id", sa.String(64), nullable=False),
        sa.Column("record_type", sa.String(80), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("occurred_at", _TS, nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint(
            "system", "activity_id", "record_type", "record_id", name="pk_activities"
        ),
    )
    op.create_index("ix_activities_record", "activities", ["system", "record_type", "record_id"])


def downgrade() -> None:
    for table in ("activities", "dirty_people", "observations"):
        op.drop_table(table)
