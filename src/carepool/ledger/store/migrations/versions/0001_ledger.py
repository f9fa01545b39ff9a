"""The pooled-fund ledger: registries, journal and postings, all append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("partners", "users", "funds", "lines", "rules", "journal", "postings")


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.CheckConstraint(
            "kind IN ('council', 'nhs_commissioner', 'nhs_provider', 'other')",
            name="partner_kind",
        ),
    )
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(32), nullable=True),
        sa.Column("roles", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name="user_partner"),
    )
    op.create_table(
        "funds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("host_partner_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["host_partner_id"], ["partners.id"], name="fund_host"),
        sa.CheckConstraint("kind IN ('pooled', 'aligned')", name="fund_kind"),
    )
    op.create_table(
        "lines",
        sa.Column("fund_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(96), primary_key=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("place", sa.String(32), nullable=False),
        sa.Column("partner_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name="line_fund"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name="line_partner"),
    )
    op.create_table(
        "rules",
        sa.Column("fund_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(96), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name="rule_fund"),
    )
    op.create_table(
        "journal",
        sa.Column("fund_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("posted_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("ref_seq", sa.BigInteger, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name="entry_fund"),
        sa.UniqueConstraint("fund_id", "request_id", name="entry_request"),
    )
    op.create_index("journal_kind", "journal", ["kind", "fund_id", "period"])
    op.create_table(
        "postings",
        sa.Column("fund_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("account", sa.String(16), nullable=False),
        sa.Column("line_id", sa.String(96), nullable=True),
        sa.Column("partner_id", sa.String(32), nullable=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("amount_pence", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["fund_id", "seq"], ["journal.fund_id", "journal.seq"], name="posting_entry"
        ),
    )
    op.create_index("postings_line", "postings", ["line_id", "fund_id", "account"])
    op.create_index("postings_period", "postings", ["fund_id", "period"])
    _refuse_changes()
    _keep_statistics_fresh()


def _keep_statistics_fresh() -> None:
    """Let PostgreSQL re-analyse the growing tables often.

    A new fund's rows are invisible to stale statistics, and the planner then scans the
    whole journal to find one entry; analysing after every 1% of growth keeps lookups on
    their indexes.
    """
    if op.get_bind().dialect.name == "postgresql":
        for table in ("journal", "postings"):
            op.execute(
                f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0.01, "
                "autovacuum_analyze_threshold = 1000)"
            )
        # The position groups postings by these columns; without joint statistics the planner
        # multiplies their distinct counts, expects millions of groups, and sorts on disk.
        op.execute(
            "CREATE STATISTICS postings_groups (ndistinct) "
            "ON fund_id, line_id, partner_id, account, category FROM postings"
        )


def _refuse_changes() -> None:
    """Make the database itself refuse UPDATE and DELETE on every ledger table."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION carepool_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'carepool ledger: % on % refused; the ledger is append-only',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$ LANGUAGE plpgsql
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION carepool_append_only()"
            )
    elif dialect == "sqlite":
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'carepool ledger: {action} on {table} refused; "
                    "the ledger is append-only'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS postings_groups")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS carepool_append_only()")
    for table in reversed(APPEND_ONLY):
        op.drop_table(table)
