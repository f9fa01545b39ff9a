"""The ledger's tables, as SQLAlchemy Core metadata.

Every table here is append-only: rows are inserted and never updated or deleted (the
migration installs triggers that make the database refuse it). Balances are never stored;
they are sums over ``postings``. The registries (partners, users, funds, lines, rules) are
also written once, when a fund is opened, and the fund's opening journal entry records the
same configuration so the hash chain covers it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: Tables that the database refuses to update or delete from.
APPEND_ONLY = ("partners", "users", "funds", "lines", "rules", "journal", "postings")

#: Foreign keys that exist on SQLite only: on PostgreSQL the statement-level checks of
#: migrations 0003 and 0004 prove the same once per insert instead of once per row.
SQLITE_ONLY_KEYS = frozenset({"entry_fund", "posting_entry"})

PARTNER_KINDS = ("council", "nhs_commissioner", "nhs_provider", "other")

partners = Table(
    "partners",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    CheckConstraint(
        "kind IN ('council', 'nhs_commissioner', 'nhs_provider', 'other')", name="partner_kind"
    ),
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("partner_id", String(32), nullable=True),
    #: comma-separated, sorted: finance, board, auditor, public, admin, analyst
    Column("roles", Text, nullable=False),
    ForeignKeyConstraint(["partner_id"], ["partners.id"], name="user_partner"),
)

funds = Table(
    "funds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("host_partner_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("year", String(7), nullable=False),
    #: the fund's specification as canonical JSON (partners, lines, rules, risk share)
    Column("spec", Text, nullable=False),
    ForeignKeyConstraint(["host_partner_id"], ["partners.id"], name="fund_host"),
    CheckConstraint("kind IN ('pooled', 'aligned')", name="fund_kind"),
)

lines = Table(
    "lines",
    metadata,
    Column("fund_id", String(64), primary_key=True),
    Column("id", String(96), primary_key=True),
    Column("service", String(64), nullable=False),
    Column("place", String(32), nullable=False),
    Column("partner_id", String(32), nullable=False),
    ForeignKeyConstraint(["fund_id"], ["funds.id"], name="line_fund"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"], name="line_partner"),
)

rules = Table(
    "rules",
    metadata,
    Column("fund_id", String(64), primary_key=True),
    Column("name", String(96), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("spec", Text, nullable=False),
    ForeignKeyConstraint(["fund_id"], ["funds.id"], name="rule_fund"),
)

journal = Table(
    "journal",
    metadata,
    Column("fund_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("period", String(16), nullable=False),
    Column("posted_at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("request_digest", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("ref_seq", BigInteger, nullable=True),
    #: the entry's details (a virement's reason, a decision's approvers ...) as canonical JSON
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    #: the salt of the entry's private commitment (hex); NULL only before migration 0002
    Column("salt", String(64), nullable=True),
    #: the request that made the entry, as canonical JSON {"operation", "fields"}, so that
    #: ``verify`` can post it again under the rules; on the first entry of each request only
    Column("request", Text, nullable=True),
    ForeignKeyConstraint(["fund_id"], ["funds.id"], name="entry_fund"),
    UniqueConstraint("fund_id", "request_id", name="entry_request"),
    Index("journal_kind", "kind", "fund_id", "period"),
)

postings = Table(
    "postings",
    metadata,
    Column("fund_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("no", Integer, primary_key=True, autoincrement=False),
    Column("period", String(16), nullable=False),
    #: pool, contrib, line, spend, commit, forecast, forecast_offset
    Column("account", String(16), nullable=False),
    Column("line_id", String(96), nullable=True),
    Column("partner_id", String(32), nullable=True),
    #: what the movement is: contribution, budget, spend, commitment, forecast, settlement
    Column("category", String(16), nullable=False),
    Column("amount_pence", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["fund_id", "seq"], ["journal.fund_id", "journal.seq"], name="posting_entry"
    ),
    Index("postings_line", "line_id", "fund_id", "account"),
    Index("postings_period", "fund_id", "period"),
)


#: Views (migration 0003), described apart from the tables so that the migrations' check
#: against :data:`metadata` compares tables only.
views = MetaData()

#: ``user`` and ``close`` entries with who made them: what every reader needs to know a
#: fund's users and closed months (the public may not read the journal's ``actor`` column).
journal_standing = Table(
    "journal_standing",
    views,
    Column("fund_id", String(64)),
    Column("seq", BigInteger),
    Column("kind", String(16)),
    Column("period", String(16)),
    Column("actor", String(64)),
    Column("payload", Text),
)
