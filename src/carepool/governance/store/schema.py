"""The portal's tables: accounts, sessions and API tokens, sign-in attempts, the audit log,
consultations and their comments.

They live apart from the ledger's (their own database, ``portal.sqlite`` in the data
directory by default, or ``CAREPOOL_PORTAL_DATABASE_URL``): the ledger is the fund's
append-only book, these are the portal's working records. The audit log alone is
append-only (triggers refuse ``UPDATE`` and ``DELETE``, as in the ledger). Secrets are never
stored: a session's or token's secret is kept as its SHA-256, a password as its Argon2id hash.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

NAME = 64
#: The longest comment a resident may leave (characters).
COMMENT_CHARS = 2000

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("roles", sa.Text, nullable=False),
    sa.Column("partner", sa.String(32), nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("disabled_at", sa.String(32), nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("secret_hash", sa.String(64), primary_key=True),
    sa.Column("account", sa.String(NAME), sa.ForeignKey("accounts.name"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.String(32), nullable=False),
    sa.Column("last_seen_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32), nullable=True),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("account", sa.String(NAME), sa.ForeignKey("accounts.name"), nullable=False),
    sa.Column("label", sa.String(120), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32), nullable=True),
)

attempts = sa.Table(
    "signin_attempts",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Index("attempts_by_name", "name", "at"),
    sa.Index("attempts_by_client", "client", "at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("principal", sa.String(NAME), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
)

consultations = sa.Table(
    "consultations",
    metadata,
    sa.Column("id", sa.String(NAME), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("proposal", sa.Text, nullable=False),
    sa.Column("opens_on", sa.String(10), nullable=False),
    sa.Column("closes_on", sa.String(10), nullable=False),
    sa.Column("created_by", sa.String(NAME), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("consultation", sa.String(NAME), sa.ForeignKey("consultations.id"), nullable=False),
    sa.Column("account", sa.String(NAME), sa.ForeignKey("accounts.name"), nullable=False),
    sa.Column("body", sa.String(COMMENT_CHARS), nullable=False),
    sa.Column("submitted_at", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("moderated_by", sa.String(NAME), nullable=True),
    sa.Column("moderated_at", sa.String(32), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.CheckConstraint("status IN ('pending', 'published', 'rejected')", name="comment_status"),
    sa.Index("comments_by_consultation", "consultation", "status"),
)
