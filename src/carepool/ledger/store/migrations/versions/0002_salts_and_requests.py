"""Salted private commitments, and the request behind each entry kept for replay.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no default) on both databases: SQLite needs no table copy,
    # so its append-only triggers stay as they are
    op.add_column("journal", sa.Column("salt", sa.String(64), nullable=True))
    op.add_column("journal", sa.Column("request", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal") as batch:
        batch.drop_column("request")
        batch.drop_column("salt")
