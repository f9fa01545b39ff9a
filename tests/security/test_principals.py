"""Who acts, and what each database role may do, on PostgreSQL.

Each person logs in as their own database role; the ledger takes the actor from the login
and the database checks it again. Once, the actor was a name anyone could type: these
attacks all worked, and each is refused now —

- impersonation: a finance officer approving, or posting, as somebody else;
- self-restoration: a user whose access was removed restoring it by naming an admin;
- an admin's accomplice: a second admin created by an admin, then acted as;
- a writer reaching round the ledger: inserting an entry as someone else, or out of the
  chain; slipping postings under an old entry; updating, deleting, or switching the
  triggers off; running the migrations;
- a public reader reading who posted, the salts or the requests.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from carepool.cli import app
from carepool.errors import CarepoolError, PermissionDenied
from carepool.ledger import Approve, ChangeUser, Ledger, Spend, Virement, migrate
from tests.ledger.conftest import POSTGRES_URL, login_url
from tests.security.logins import as_login, sql_as


def test_a_login_may_not_act_as_another_user(fund: str, postgres_schema: str) -> None:
    with as_login("t.nhs", postgres_schema) as nhs:
        assert nhs.login == "t.nhs"
        with pytest.raises(PermissionDenied, match="may act only as that user"):
            nhs.post(
                fund,
                Spend(line="asc", amount_pence=1),
                actor="t.council",
                request_id="impersonate",
            )
        held = nhs.post(
            fund,
            Virement(from_line="acute", to_line="mh", amount_pence=500, reason="winter"),
            actor="t.nhs",
            request_id="v1",
        )
        assert held.status == "held"
        with pytest.raises(PermissionDenied):
            nhs.post(
                fund,
                Approve(hold=held.seq, reason="fine"),
                actor="t.board1",
                request_id="self-approve",
            )
    with as_login("t.board1", postgres_schema) as board:
        decided = board.post(
            fund,
            Approve(hold=held.seq, reason="winter pressures are real"),
            actor="t.board1",
            request_id="ok",
        )
        assert decided.status == "decided"


def test_a_removed_user_cannot_restore_themselves_by_naming_an_admin(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    owner.post(
        fund,
        ChangeUser(name="t.council", roles=(), reason="left the council"),
        actor="t.admin",
        request_id="rm",
    )
    with as_login("t.council", postgres_schema) as council:
        with pytest.raises(PermissionDenied):
            council.post(
                fund,
                ChangeUser(name="t.council", roles=("finance",), partner="C1", reason="back"),
                actor="t.admin",
                request_id="restore",
            )
        with pytest.raises(CarepoolError, match="not a user"):
            council.post(fund, Spend(line="asc", amount_pence=1), actor="t.council", request_id="s")


def test_a_second_admin_an_admin_creates_cannot_be_acted_as(
    fund: str, postgres_schema: str
) -> None:
    with as_login("t.admin", postgres_schema) as admin:
        admin.post(
            fund,
            ChangeUser(name="t.accomplice", roles=("admin",), reason="help"),
            actor="t.admin",
            request_id="a",
        )
        with pytest.raises(PermissionDenied):
            admin.post(
                fund,
                ChangeUser(
                    name="t.admin", roles=("admin", "finance"), partner="NHS", reason="more"
                ),
                actor="t.accomplice",
                request_id="promote",
            )
    # becoming t.accomplice takes a database login, which only the database's owner makes
    engine = create_engine(
        login_url(POSTGRES_URL, "t.admin").replace("t.admin@", "t.accomplice@", 1)
    )
    with pytest.raises(DBAPIError, match=r"t\.accomplice"), engine.connect():
        pass
    engine.dispose()


def test_the_database_refuses_an_entry_whose_actor_is_not_the_login(
    fund: str, postgres_schema: str, owner: Ledger
) -> None:
    head = owner.verify(fund)
    entry = (
        "INSERT INTO journal (fund_id, seq, kind, period, posted_at, actor, request_id, "
        "request_digest, description, payload, prev_hash, hash) VALUES "
        f"('{fund}', {head.entries + 1}, 'spend', '2026-04', 'now', '{{actor}}', 'forged', "
        f"'x', 'forged', '{{{{}}}}', '{head.digest}', 'h')"
    )
    with pytest.raises(DBAPIError, match=r"may not post as t\.board1"):
        sql_as("t.nhs", postgres_schema, entry.format(actor="t.board1"))
    broken = entry.format(actor="t.nhs").replace(head.digest, "0" * 64)
    with pytest.raises(DBAPIError, match="does not follow the entry before it"):
        sql_as("t.nhs", postgres_schema, broken)


def test_a_writer_cannot_slip_postings_under_an_old_entry(fund: str, postgres_schema: str) -> None:
    posting = (
        "INSERT INTO postings (fund_id, seq, no, period, account, line_id, partner_id, "
        f"category, amount_pence) VALUES ('{fund}', {{seq}}, 99, '2026-04', 'line', 'asc', "
        "NULL, 'budget', 100000)"
    )
    with pytest.raises(DBAPIError, match="must be written with the entry"):
        sql_as("t.nhs", postgres_schema, posting.format(seq=2))
    with pytest.raises(DBAPIError, match="must be written with the entry"):  # no such entry
        sql_as("t.nhs", postgres_schema, posting.format(seq=999))


def test_a_chain_cannot_be_started_for_a_fund_that_does_not_exist(
    fund: str, postgres_schema: str, owner: Ledger
) -> None:
    entry = (
        "INSERT INTO journal (fund_id, seq, kind, period, posted_at, actor, request_id, "
        "request_digest, description, payload, prev_hash, hash) VALUES "
        f"('ghost', {{seq}}, 'spend', '2026-04', 'now', 't.nhs', 'forged', 'x', 'forged', "
        f"'{{{{}}}}', '{'0' * 64}', 'h')"
    )
    with pytest.raises(DBAPIError, match="names a fund that does not exist"):
        sql_as("t.nhs", postgres_schema, entry.format(seq=1))
    for seq in (2, 0, -1):  # no chain can start anywhere but at 1
        with pytest.raises(DBAPIError, match="does not follow the entry before it"):
            sql_as("t.nhs", postgres_schema, entry.format(seq=seq))
    # a whole chain in one statement, each entry following the one before: the fund is missing
    second = entry.format(seq=2).split(" VALUES ", 1)[1]
    second = second.replace("'forged', 'x'", "'forged2', 'x'").replace(f"'{'0' * 64}'", "'h'")
    with pytest.raises(DBAPIError, match="names a fund that does not exist"):
        sql_as("t.nhs", postgres_schema, entry.format(seq=1) + ", " + second)
    owner_entry = entry.format(seq=1).replace("'t.nhs'", "'postgres'")
    with (
        pytest.raises(DBAPIError, match="names a fund that does not exist"),
        owner.engine.begin() as c,
    ):
        c.exec_driver_sql(owner_entry)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_pence = 0",
        "DELETE FROM journal",
        "TRUNCATE postings",
        "ALTER TABLE journal DISABLE TRIGGER ALL",
        "DROP TRIGGER journal_checked ON journal",
        "CREATE TRIGGER sneak BEFORE INSERT ON journal FOR EACH ROW "
        "EXECUTE FUNCTION carepool_append_only()",
        "UPDATE funds SET name = 'renamed'",
    ],
)
def test_a_writer_cannot_change_the_tables_or_their_protections(
    fund: str, postgres_schema: str, statement: str
) -> None:
    with pytest.raises(DBAPIError, match=r"permission denied|must be owner|refused"):
        sql_as("t.nhs", postgres_schema, statement)


def test_a_writer_cannot_grant_what_it_has(fund: str, postgres_schema: str) -> None:
    sql_as("t.nhs", postgres_schema, "GRANT INSERT ON journal TO PUBLIC")  # a warning, no grant
    superuser = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with superuser.connect() as connection:
        granted = connection.execute(
            text("SELECT has_table_privilege('carepool_public', :t, 'INSERT')"),
            {"t": f"{postgres_schema}.journal"},
        ).scalar_one()
    superuser.dispose()
    assert granted is False


def test_a_writer_cannot_run_the_migrations() -> None:
    """Only the owner migrates: a writer pointed at a database without the ledger's tables
    is refused, and nothing is created."""
    superuser = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    schema = f"carepool_unmigrated_{uuid.uuid4().hex[:8]}"
    with superuser.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO carepool_writer")
    try:
        with pytest.raises(PermissionDenied, match="permission denied"):
            migrate(login_url(POSTGRES_URL, "t.nhs"), schema=schema)
        with superuser.connect() as connection:
            tables = connection.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            ).scalar_one()
        assert tables == 0
    finally:
        with superuser.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        superuser.dispose()


def test_the_public_read_what_is_published_and_nothing_private(
    fund: str, postgres_schema: str
) -> None:
    with as_login("t.public", postgres_schema, "carepool_public") as public:
        assert public.position(fund, actor="t.public").lines["budget_pence"].sum() == 15_000
        with pytest.raises(PermissionDenied):
            public.journal(fund, actor="t.public")
        with pytest.raises(PermissionDenied):
            public.post(fund, Spend(line="asc", amount_pence=1), actor="t.public", request_id="s")
    for private in ("actor", "salt", "request", "request_id"):
        with pytest.raises(DBAPIError, match="permission denied"):
            sql_as("t.public", postgres_schema, f"SELECT {private} FROM journal", "carepool_public")
    sql_as("t.public", postgres_schema, "SELECT seq, hash FROM public_journal", "carepool_public")
    with pytest.raises(DBAPIError, match="permission denied"):
        sql_as("t.public", postgres_schema, "SELECT * FROM audit_journal", "carepool_public")


def test_an_auditor_reads_who_posted_and_writes_nothing(fund: str, postgres_schema: str) -> None:
    with as_login("t.auditor", postgres_schema, "carepool_auditor") as auditor:
        assert "t.nhs" in set(auditor.journal(fund, actor="t.auditor")["actor"])
        assert auditor.verify(fund).ok
    sql_as("t.auditor", postgres_schema, "SELECT actor FROM audit_journal", "carepool_auditor")
    with pytest.raises(DBAPIError, match="permission denied"):
        sql_as("t.auditor", postgres_schema, "DELETE FROM postings", "carepool_auditor")


def test_the_command_line_refuses_user_on_postgresql(
    fund: str, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = login_url(POSTGRES_URL, "t.council") + f"?options=-csearch_path%3D{postgres_schema}"
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", url)
    monkeypatch.setenv("CAREPOOL_FUND", fund)
    runner = CliRunner()
    refused = runner.invoke(
        app, ["ledger", "spend", "--line", "asc", "--amount", "1", "--user", "t.nhs"]
    )
    assert refused.exit_code == 2
    assert "refused on a PostgreSQL ledger" in refused.output
    posted = runner.invoke(app, ["ledger", "spend", "--line", "asc", "--amount", "1", "--json"])
    assert posted.exit_code == 0, posted.output
    with Ledger.connect(POSTGRES_URL, schema=postgres_schema) as owner:
        assert list(owner.journal(fund, actor="t.auditor")["actor"])[-1] == "t.council"
