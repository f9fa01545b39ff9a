"""PostgreSQL: the database checks who posts, and each role gets only what it needs.

Run by the tables' owner (``carepool db migrate``), never by the application. Afterwards:

* three group roles: ``carepool_writer`` (officers and board members, who post),
  ``carepool_auditor`` (reads everything, writes nothing) and ``carepool_public`` (reads
  what is published). Each person logs in as their own role, a member of one group, named
  as their user in the fund;
* nobody but the owner may change the tables, their triggers or their privileges; the
  writers may only insert, and every insert is checked by the database itself: an entry's
  actor must be the login inserting it (no posting as somebody else), each entry must
  follow the entry before it in the chain, and postings may only be written with their
  entry, in its transaction (none slipped in under an old entry);
* the public read the journal without who posted it, which request, or the salts that keep
  the private commitments private: column privileges on ``journal``, and a
  ``public_journal`` view; ``audit_journal`` is the whole journal, for auditors.

The owner and superusers are outside these checks (they can switch triggers off): that is
what signed checkpoints are for. On SQLite, the single-user local mode, there is nothing
to do.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GROUPS = ("carepool_writer", "carepool_auditor", "carepool_public")
TABLES = ("partners", "users", "funds", "lines", "rules", "journal", "postings")
PUBLIC_JOURNAL = (
    "fund_id, seq, kind, period, posted_at, description, ref_seq, payload, prev_hash, hash"
)

CHECK_ENTRIES = """
CREATE FUNCTION carepool_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_seq bigint;
    found_actor text;
BEGIN
    IF NOT pg_has_role(current_user,
                       (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        SELECT seq, actor INTO found_seq, found_actor FROM new_entries
        WHERE actor IS DISTINCT FROM current_user::text LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'carepool ledger: % may not post as %: an entry''s actor is the '
                'login that posts it', current_user, found_actor
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    -- correlated lookups, one primary-key probe per new row: the transition table has no
    -- statistics, and a join could be planned as a scan of the whole journal
    SELECT n.seq INTO found_seq FROM new_entries n
    WHERE n.prev_hash IS DISTINCT FROM CASE WHEN n.seq = 1 THEN repeat('0', 64) ELSE
        (SELECT p.hash FROM journal p WHERE p.fund_id = n.fund_id AND p.seq = n.seq - 1) END
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'carepool ledger: entry % does not follow the entry before it',
            found_seq USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$
"""

CHECK_POSTINGS = """
CREATE FUNCTION carepool_check_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_seq bigint;
BEGIN
    SELECT p.seq INTO found_seq FROM new_postings p
    WHERE NOT EXISTS (
        SELECT 1 FROM journal j
        WHERE j.fund_id = p.fund_id AND j.seq = p.seq
          AND j.xmin::text::bigint = pg_current_xact_id()::text::bigint % 4294967296)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'carepool ledger: postings of entry % must be written with the entry, '
            'in its transaction', found_seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$
"""

CREATE_GROUPS = """
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['carepool_writer', 'carepool_auditor', 'carepool_public'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', name);
        END IF;
    END LOOP;
END
$$
"""

GRANT_SCHEMA = """
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO carepool_writer, carepool_auditor, '
                   'carepool_public', current_schema());
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE_GROUPS)
    op.execute(CHECK_ENTRIES)
    op.execute(CHECK_POSTINGS)
    op.execute(
        "CREATE TRIGGER journal_checked AFTER INSERT ON journal REFERENCING NEW TABLE AS "
        "new_entries FOR EACH STATEMENT EXECUTE FUNCTION carepool_check_entries()"
    )
    op.execute(
        "CREATE TRIGGER postings_checked AFTER INSERT ON postings REFERENCING NEW TABLE AS "
        "new_postings FOR EACH STATEMENT EXECUTE FUNCTION carepool_check_postings()"
    )
    op.execute(f"CREATE VIEW public_journal AS SELECT {PUBLIC_JOURNAL} FROM journal")
    op.execute("CREATE VIEW audit_journal AS SELECT * FROM journal")
    everything = ", ".join((*TABLES, "alembic_version"))
    op.execute(f"REVOKE ALL ON {everything}, public_journal, audit_journal FROM PUBLIC")
    op.execute(GRANT_SCHEMA)
    op.execute(f"GRANT SELECT ON {everything} TO carepool_writer, carepool_auditor")
    op.execute(f"GRANT INSERT ON {', '.join(TABLES)} TO carepool_writer")
    # SELECT ... FOR UPDATE (a fund's write lock) needs UPDATE on one column; the
    # append-only trigger refuses every actual UPDATE
    op.execute("GRANT UPDATE (name) ON funds TO carepool_writer")
    published = ("partners", "users", "funds", "lines", "rules", "postings", "alembic_version")
    op.execute(f"GRANT SELECT ON {', '.join(published)} TO carepool_public")
    op.execute(f"GRANT SELECT ({PUBLIC_JOURNAL}) ON journal TO carepool_public")
    op.execute(
        "GRANT SELECT ON public_journal TO carepool_public, carepool_writer, carepool_auditor"
    )
    op.execute("GRANT SELECT ON audit_journal TO carepool_auditor")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP VIEW IF EXISTS audit_journal")
    op.execute("DROP VIEW IF EXISTS public_journal")
    op.execute("DROP TRIGGER IF EXISTS postings_checked ON postings")
    op.execute("DROP TRIGGER IF EXISTS journal_checked ON journal")
    op.execute("DROP FUNCTION IF EXISTS carepool_check_postings()")
    op.execute("DROP FUNCTION IF EXISTS carepool_check_entries()")
    for group in GROUPS:
        for table in (*TABLES, "alembic_version"):
            op.execute(f"REVOKE ALL ON {table} FROM {group}")
