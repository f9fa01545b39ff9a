"""PostgreSQL: the database checks who posts, and each role gets only what it needs.

Run by the tables' owner (``carepool db migrate``), never by the application. Afterwards:

* four group roles: ``carepool_writer`` (officers and board members, who post),
  ``carepool_opener`` (the admins who open funds, writers too), ``carepool_auditor`` (reads
  everything, writes nothing) and ``carepool_public`` (reads what is published). Each
  person logs in as their own role, named as their user in the fund; an entry's actor must
  be a role that can log in, so nobody acts as a group by ``SET ROLE``;
* nobody but the owner may change the tables, their triggers or their privileges; the
  writers may only insert, and every insert is checked by the database itself: an entry's
  actor must be the login inserting it (no posting as somebody else), each entry must
  follow the entry before it in the chain, and postings may only be written with their
  entry, in its transaction (none slipped in under an old entry); a fund's lines and rules
  only with the fund; nothing larger than the ledger ever writes;
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

GROUPS = ("carepool_writer", "carepool_opener", "carepool_auditor", "carepool_public")
TABLES = ("partners", "users", "funds", "lines", "rules", "journal", "postings")
REGISTRIES = ("partners", "users", "funds", "lines", "rules")
PUBLIC_JOURNAL = (
    "fund_id, seq, kind, period, posted_at, description, ref_seq, payload, prev_hash, hash"
)

#: The checks run as the inserting login, with a fixed search path that puts pg_catalog first
#: and the session's temporary schema last: a login cannot shadow pg_class or the journal
#: with a temporary table of its own to fool them. ``{schema}`` is the ledger's schema.
CHECK_ENTRIES = """
CREATE FUNCTION carepool_check_entries() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
    found_seq bigint;
    found_actor text;
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user,
            (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                       WHERE r.rolname = current_user AND r.rolcanlogin) THEN
            RAISE EXCEPTION 'carepool ledger: % is a group, not a person: log in as yourself',
                current_user USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT n.seq, n.actor INTO found_seq, found_actor FROM new_entries n
        WHERE n.actor IS DISTINCT FROM current_user::text LIMIT 1;
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
        (SELECT p.hash FROM {schema}.journal p
         WHERE p.fund_id = n.fund_id AND p.seq = n.seq - 1) END
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'carepool ledger: entry % does not follow the entry before it',
            found_seq USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$
"""

#: This transaction's id as ``xmin`` shows it (the low 32 bits of the 64-bit id).
THIS_TRANSACTION = "pg_catalog.pg_current_xact_id()::text::bigint % 4294967296"

CHECK_POSTINGS = f"""
CREATE FUNCTION carepool_check_postings() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
DECLARE
    found_seq bigint;
    this_transaction bigint := {THIS_TRANSACTION};
BEGIN
    SELECT p.seq INTO found_seq FROM new_postings p
    WHERE NOT EXISTS (
        SELECT 1 FROM {{schema}}.journal j
        WHERE j.fund_id = p.fund_id AND j.seq = p.seq
          AND j.xmin::text::bigint = this_transaction)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'carepool ledger: postings of entry % must be written with the entry, '
            'in its transaction', found_seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$
"""

CHECK_FUND_PARTS = f"""
CREATE FUNCTION carepool_check_fund_parts() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {{schema}}, pg_temp AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_parts p
        WHERE NOT EXISTS (
            SELECT 1 FROM {{schema}}.funds f
            WHERE f.id = p.fund_id AND f.xmin::text::bigint = {THIS_TRANSACTION})) THEN
        RAISE EXCEPTION 'carepool ledger: a fund''s % are written when it opens, never after',
            TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$
"""

#: The entries that change who may use a fund and which months are closed, with who made
#: them: every reader needs them to know the fund's users and closed months, honouring only
#: the ones their makers had the right to make. (Changing access and closing months are
#: acts of office, published like the approvers in the decisions register.)
STANDING_VIEW = (
    "CREATE VIEW journal_standing AS SELECT fund_id, seq, kind, period, actor, payload "
    "FROM journal WHERE kind IN ('user', 'close')"
)

CREATE_GROUPS = """
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['carepool_writer', 'carepool_opener', 'carepool_auditor',
                                'carepool_public'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', name);
        END IF;
    END LOOP;
END
$$
"""

GRANT_SCHEMA = """
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO carepool_writer, carepool_opener, '
                   'carepool_auditor, carepool_public', current_schema());
END
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(STANDING_VIEW)
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT quote_ident(current_schema())").scalar_one()
    op.execute(CREATE_GROUPS)
    for function in (CHECK_ENTRIES, CHECK_POSTINGS, CHECK_FUND_PARTS):
        op.execute(function.replace("{schema}", schema))
    op.execute(
        "CREATE TRIGGER journal_checked AFTER INSERT ON journal REFERENCING NEW TABLE AS "
        "new_entries FOR EACH STATEMENT EXECUTE FUNCTION carepool_check_entries()"
    )
    op.execute(
        "CREATE TRIGGER postings_checked AFTER INSERT ON postings REFERENCING NEW TABLE AS "
        "new_postings FOR EACH STATEMENT EXECUTE FUNCTION carepool_check_postings()"
    )
    for table in ("lines", "rules"):
        op.execute(
            f"CREATE TRIGGER {table}_checked AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
            "new_parts FOR EACH STATEMENT EXECUTE FUNCTION carepool_check_fund_parts()"
        )
    # nothing the ledger writes comes near these; they bound what a direct insert can store
    op.execute(
        "ALTER TABLE journal ADD CONSTRAINT journal_sizes CHECK ("
        "octet_length(payload) <= 16777216 AND octet_length(request) <= 16777216 "
        "AND octet_length(description) <= 65536)"
    )
    op.execute(f"CREATE VIEW public_journal AS SELECT {PUBLIC_JOURNAL} FROM journal")
    op.execute("CREATE VIEW audit_journal AS SELECT * FROM journal")
    everything = ", ".join((*TABLES, "alembic_version"))
    views = "public_journal, audit_journal, journal_standing"
    op.execute(f"REVOKE ALL ON {everything}, {views} FROM PUBLIC")
    op.execute(GRANT_SCHEMA)
    readers = "carepool_writer, carepool_opener, carepool_auditor"
    op.execute(f"GRANT SELECT ON {everything} TO {readers}")
    op.execute("GRANT INSERT ON journal, postings TO carepool_writer, carepool_opener")
    op.execute(f"GRANT INSERT ON {', '.join(REGISTRIES)} TO carepool_opener")
    # SELECT ... FOR UPDATE (a fund's write lock) needs UPDATE on one column; the
    # append-only trigger refuses every actual UPDATE
    op.execute("GRANT UPDATE (name) ON funds TO carepool_writer, carepool_opener")
    published = (*REGISTRIES, "postings", "alembic_version")
    op.execute(f"GRANT SELECT ON {', '.join(published)} TO carepool_public")
    op.execute(f"GRANT SELECT ({PUBLIC_JOURNAL}) ON journal TO carepool_public")
    op.execute(f"GRANT SELECT ON public_journal TO carepool_public, {readers}")
    op.execute("GRANT SELECT ON audit_journal TO carepool_auditor")
    op.execute(f"GRANT SELECT ON journal_standing TO carepool_public, {readers}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS journal_standing")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP VIEW IF EXISTS audit_journal")
    op.execute("DROP VIEW IF EXISTS public_journal")
    op.execute("ALTER TABLE journal DROP CONSTRAINT IF EXISTS journal_sizes")
    for table in ("lines", "rules"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_checked ON {table}")
    op.execute("DROP FUNCTION IF EXISTS carepool_check_fund_parts()")
    op.execute("DROP TRIGGER IF EXISTS postings_checked ON postings")
    op.execute("DROP TRIGGER IF EXISTS journal_checked ON journal")
    op.execute("DROP FUNCTION IF EXISTS carepool_check_postings()")
    op.execute("DROP FUNCTION IF EXISTS carepool_check_entries()")
    for group in GROUPS:
        for table in (*TABLES, "alembic_version"):
            op.execute(f"REVOKE ALL ON {table} FROM {group}")
