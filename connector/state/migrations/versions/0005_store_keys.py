"""Secrets the state store keeps for itself (the key that signs plan files).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # No key is made here: the store makes each on first use (connector/state/keys.py).
    op.create_table(
        "store_keys",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_store_keys"),
    )


def downgrade() -> None:
    # Plans signed with the dropped key can no longer be applied: make them again.
    op.drop_table("store_keys")
