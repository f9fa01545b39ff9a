"""PostgreSQL: the journal's and postings' references checked once per statement, not per row.

A fund's writes are serialised, so the time a write holds the fund's lock bounds its
throughput, and PostgreSQL checks a foreign key with a trigger that runs a lookup for every
row inserted: on a group of eight requests that is two dozen lookups, a fifth of the
insert's time. Both references are already proved by the statement-level checks of
migration 0003, or can be with one more lookup:

* ``posting_entry`` (a posting's entry exists): ``postings_checked`` requires every posting's
  entry to have been written in the posting's own transaction, so it exists;
* ``entry_fund`` (an entry's fund exists): ``journal_checked`` requires each entry to follow
  the entry before it in its fund's chain, so every entry but the first is tied to an entry
  of the same fund; this migration adds that a fund's first entry needs the fund.

Rows are never deleted (the append-only triggers refuse it), so what was checked on insert
stays true. The two foreign keys are dropped and ``carepool_check_entries`` replaced by one
that also checks first entries' funds. SQLite keeps its foreign keys: it has no
statement-level triggers, and its writes are a single user's.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from importlib import import_module

from alembic import op

# migration 0003's function text, which (a migration once released) never changes
previous = import_module("carepool.ledger.store.migrations.versions.0003_principals_and_privileges")

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: The first entry of a fund needs the fund: with the chain check, every entry has one.
FUND_CHECK = """
    SELECT n.seq INTO found_seq FROM new_entries n
    WHERE n.seq = 1 AND NOT EXISTS (SELECT 1 FROM {schema}.funds f WHERE f.id = n.fund_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'carepool ledger: an entry names a fund that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$
"""

#: Migration 0003's function, replaced in place (its trigger stays), and the same with the
#: fund check before it returns.
PREVIOUS_CHECK = previous.CHECK_ENTRIES.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
CHECK_ENTRIES = PREVIOUS_CHECK.replace("    RETURN NULL;\nEND\n$$\n", FUND_CHECK, 1)
assert CHECK_ENTRIES != PREVIOUS_CHECK, "migration 0003's check no longer ends as expected"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
    op.execute(CHECK_ENTRIES.replace("{schema}", schema))
    op.drop_constraint("posting_entry", "postings", type_="foreignkey")
    op.drop_constraint("entry_fund", "journal", type_="foreignkey")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
    op.create_foreign_key("entry_fund", "journal", "funds", ["fund_id"], ["id"])
    op.create_foreign_key(
        "posting_entry", "postings", "journal", ["fund_id", "seq"], ["fund_id", "seq"]
    )
    op.execute(PREVIOUS_CHECK.replace("{schema}", schema))
