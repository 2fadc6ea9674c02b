"""Data safety: deletions remembered, writes journalled, identity issues and waiting dead letters.

* ``gone_records``: CRM records deleted, archived, merged away or found missing. crmsync never
  re-creates them (unless the delete policy says ``recreate``); a late echo of one is told
  from a restore by its time; a person all of whose records are gone is a tombstone
  (``people.tombstoned_at``: the row keeps its id and nothing personal).
* ``write_intents``: what a run is about to send, written before it goes out and removed once
  the answer is recorded. A run killed in between leaves its intents; the next run confirms
  them against what it pulls, so the dead run's writes are counted and recognised as
  crmsync's own.
* ``identity_issues``: duplicates and merges to resolve, kept until the data changes or an
  admin decides.
* ``dead_letters.waiting`` / ``fingerprint``: a refusal that cannot change on its own (an
  invalid value, a validation rule) waits for a change of its inputs, the mapping or the
  schema instead of a retry time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gone_records",
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("object_type", sa.String(80), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("how", sa.String(20), nullable=False),
        sa.Column("gone_at", _TS, nullable=False),
        sa.Column("seen_at", _TS, nullable=False),
        sa.Column("survivor_id", sa.String(64), nullable=True),
        sa.Column("by_crmsync", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("system", "object_type", "record_id", name="pk_gone_records"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_gone_records_person_id_people"
        ),
    )
    op.create_index("ix_gone_records_person_id", "gone_records", ["person_id"])

    op.create_table(
        "write_intents",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("object_type", sa.String(80), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("intended", sa.JSON(), nullable=False),
        sa.Column("sent_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint(
            "run_id", "system", "object_type", "record_id", name="pk_write_intents"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_write_intents_person_id_people"
        ),
    )
    op.create_index("ix_write_intents_person_id", "write_intents", ["person_id"])

    op.create_table(
        "identity_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("record", sa.String(200), nullable=False),
        sa.Column("other", sa.String(200), nullable=True),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("first_run_id", sa.String(64), nullable=True),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("resolution", sa.String(40), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_issues"),
        sa.UniqueConstraint("key", name="uq_identity_issues_key"),
    )
    op.create_index("ix_identity_issues_record", "identity_issues", ["record"])
    op.create_index("ix_identity_issues_other", "identity_issues", ["other"])
    op.create_index("ix_identity_issues_resolved_at", "identity_issues", ["resolved_at"])

    # Plain ADD COLUMN (no table rebuild: other tables' foreign keys point at these).
    op.add_column(
        "dead_letters",
        sa.Column("waiting", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("dead_letters", sa.Column("fingerprint", sa.String(64), nullable=True))
    op.add_column("people", sa.Column("tombstoned_at", _TS, nullable=True))


def _drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a column in place; alembic would rebuild the table, which the
        # foreign keys pointing at it forbid.
        op.execute(sa.text(f'ALTER TABLE "{table}" DROP COLUMN "{column}"'))
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    _drop_column("people", "tombstoned_at")
    _drop_column("dead_letters", "fingerprint")
    _drop_column("dead_letters", "waiting")
    op.drop_index("ix_identity_issues_resolved_at", table_name="identity_issues")
    op.drop_index("ix_identity_issues_other", table_name="identity_issues")
    op.drop_index("ix_identity_issues_record", table_name="identity_issues")
    op.drop_table("identity_issues")
    op.drop_index("ix_write_intents_person_id", table_name="write_intents")
    op.drop_table("write_intents")
    op.drop_index("ix_gone_records_person_id", table_name="gone_records")
    op.drop_table("gone_records")
