"""The baseline: accounts, sessions, tokens, sign-in attempts, audit log, consultations.

A new database is made from the declared tables and stamped with the newest revision
(:func:`carepool.governance.store.database.migrate`, Alembic's "build an up-to-date
database from scratch"), so this baseline never runs; later revisions change existing
databases by explicit operations.

Revision ID: p0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: a database older than the baseline does not exist."""


def downgrade() -> None:
    """Nothing to undo."""
