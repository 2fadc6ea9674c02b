"""Initial state store schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Plain SQLAlchemy types on purpose: a migration records the schema as it was, so it must not
import models that later change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rules_version", sa.String(64), nullable=False),
        sa.Column("merged_into", sa.String(64), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["people.id"], name="fk_people_merged_into_people"
        ),
    )
    op.create_index("ix_people_email", "people", ["email"])
    op.create_index("ix_people_merged_into", "people", ["merged_into"])

    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("object_type", sa.String(80), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("valid_to", _TS, nullable=True),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_links_person_id_people"),
    )
    op.create_index("ix_links_person_id", "links", ["person_id"])
    op.create_index("ix_links_record", "links", ["system", "object_type", "record_id"])
    op.create_index(
        "uq_links_active_record",
        "links",
        ["system", "object_type", "record_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )

    op.create_table(
        "cursors",
        sa.Column("stream", sa.String(120), nullable=False),
        sa.Column("watermark", _TS, nullable=False),
        sa.Column("tie_break", sa.String(64), nullable=True),
        sa.Column("run_started_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("stream", name="pk_cursors"),
    )

    op.create_table(
        "field_provenance",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("field", sa.String(120), nullable=False),
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("seen_value", sa.JSON(), nullable=True),
        sa.Column("seen_modified_at", _TS, nullable=True),
        sa.Column("written_value", sa.JSON(), nullable=True),
        sa.Column("written_at", _TS, nullable=True),
        sa.Column("written_run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("person_id", "field", "system", name="pk_field_provenance"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_field_provenance_person_id_people"
        ),
    )

    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("job", sa.String(120), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("api_calls", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_job", "runs", ["job"])

    op.create_table(
        "stage_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("from_stage", sa.String(20), nullable=True),
        sa.Column("to_stage", sa.String(20), nullable=False),
        sa.Column("rules_version", sa.String(64), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stage_transitions"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_stage_transitions_person_id_people"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_stage_transitions_run_id_runs"),
    )
    op.create_index("ix_stage_transitions_person_id", "stage_transitions", ["person_id"])
    op.create_index("ix_stage_transitions_run_id", "stage_transitions", ["run_id"])

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("object_type", sa.String(80), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("field_key", sa.String(64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("error_class", sa.String(120), nullable=False),
        sa.Column("code", sa.String(120), nullable=False),
        sa.Column("message", sa.String(2000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_retry_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_dead_letters_person_id_people"
        ),
        sa.UniqueConstraint(
            "system",
            "object_type",
            "record_id",
            "field_key",
            name="uq_dead_letters_system_object_type_record_id_field_key",
        ),
    )
    op.create_index("ix_dead_letters_person_id", "dead_letters", ["person_id"])
    op.create_index("ix_dead_letters_next_retry_at", "dead_letters", ["next_retry_at"])

    op.create_table(
        "run_locks",
        sa.Column("pair", sa.String(120), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("pair", name="pk_run_locks"),
    )


def downgrade() -> None:
    for table in (
        "run_locks",
        "dead_letters",
        "stage_transitions",
        "runs",
        "field_provenance",
        "cursors",
        "links",
        "people",
    ):
        op.drop_table(table)
