"""A writer with a database login reaching round the ledger, on PostgreSQL.

Each attack here once worked against the ledger's first set of database checks:

- shadowing ``pg_class`` (or ``journal``) with a temporary table so the checks believed
  the writer owned the tables, then posting as an admin (or slipping postings under an old
  entry);
- acting as a group role with ``SET ROLE``, through a fund user named after it;
- inserting, as oneself, a ``user`` entry promoting oneself, or ``close`` entries closing
  the year, which the live ledger honoured at once; or a malformed one that broke every
  write to the fund;
- writing registries: a fund's lines after it opened; a fund opened by SQL by a non-admin;
- crafted entries that made ``verify`` crash instead of naming them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from carepool.errors import CarepoolError, PermissionDenied
from carepool.ledger import Approve, ChangeUser, Ledger, Spend, Virement
from carepool.ledger.records.chain import canonical, entry_hash, private_digest, public_content
from tests.ledger.conftest import POSTGRES_URL, fund_spec, login_url
from tests.security.logins import as_login, run_as


def _forged(
    owner: Ledger,
    fund: str,
    *,
    kind: str,
    actor: str,
    payload: Any,
    period: str = "2026-04",
    request: str | None = None,
    postings: Sequence[Sequence[Any]] = (),
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A journal row (and its postings) correctly chained after the fund's head, as anyone
    who can read the journal can compute it."""
    head = owner.verify(fund)
    seq, prev = head.entries + 1, head.digest
    rows = [[i + 1, period, *p] for i, p in enumerate(postings)]
    salt, request_id, digest = "00" * 32, f"forged-{seq}", "x" * 64
    text_payload = payload if isinstance(payload, str) else canonical(payload)
    content = public_content(
        fund=fund,
        seq=seq,
        kind=kind,
        period=period,
        posted_at="2026-05-01T00:00:00.000000Z",
        description="forged",
        ref_seq=None,
        payload=payload,
        postings=rows,
        private=private_digest(actor, request_id, digest, salt),
    )
    entry = {
        "fund_id": fund,
        "seq": seq,
        "kind": kind,
        "period": period,
        "posted_at": content["posted_at"],
        "actor": actor,
        "request_id": request_id,
        "request_digest": digest,
        "description": "forged",
        "ref_seq": None,
        "payload": text_payload,
        "prev_hash": prev,
        "hash": entry_hash(prev, content),
        "salt": salt,
        "request": request,
    }
    names = ("no", "period", "account", "line_id", "partner_id", "category", "amount_pence")
    lines = [{"fund_id": fund, "seq": seq, **dict(zip(names, r, strict=True))} for r in rows]
    return entry, lines


def _insert(
    connection: Connection, entry: dict[str, Any], lines: Sequence[dict[str, Any]] = ()
) -> None:
    for table, rows in (("journal", [entry]), ("postings", list(lines))):
        for row in rows:
            columns = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


def test_a_temporary_pg_class_does_not_fool_the_actor_check(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    entry, _ = _forged(
        owner,
        fund,
        kind="user",
        actor="t.admin",
        payload={"name": "t.council", "partner": "NHS", "roles": ["finance"], "reason": "x"},
    )

    def shadow_and_insert(connection: Connection) -> None:
        connection.exec_driver_sql("CREATE TEMP TABLE pg_class (oid oid, relowner oid)")
        connection.exec_driver_sql(
            "INSERT INTO pg_temp.pg_class SELECT 'journal'::regclass, oid FROM pg_roles "
            "WHERE rolname = current_user"
        )
        _insert(connection, entry)

    with pytest.raises(DBAPIError, match=r"may not post as t\.admin"):
        run_as("t.council", postgres_schema, shadow_and_insert)


def test_a_temporary_journal_does_not_let_postings_under_an_old_entry(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    def shadow_and_insert(connection: Connection) -> None:
        connection.exec_driver_sql(
            "CREATE TEMP TABLE journal AS SELECT fund_id, seq, xmin AS x FROM "
            f"{postgres_schema}.journal WHERE false"
        )
        connection.exec_driver_sql(
            f"INSERT INTO pg_temp.journal VALUES ('{fund}', 4, txid_current()::text::xid)"
        )
        connection.exec_driver_sql(
            f"INSERT INTO {postgres_schema}.postings (fund_id, seq, no, period, account, "
            f"line_id, partner_id, category, amount_pence) VALUES ('{fund}', 4, 99, '2026-04', "
            "'line', 'asc', NULL, 'budget', 500000)"
        )

    with pytest.raises(DBAPIError, match="must be written with the entry"):
        run_as("t.council", postgres_schema, shadow_and_insert)


def test_nobody_acts_as_a_group_role(owner: Ledger, fund: str, postgres_schema: str) -> None:
    with pytest.raises(CarepoolError, match="belong to the database's own roles"):
        owner.post(
            fund,
            ChangeUser(name="carepool_writer", roles=("board",), reason="committee clerk"),
            actor="t.admin",
            request_id="clerk",
        )
    entry, _ = _forged(owner, fund, kind="spend", actor="carepool_writer", payload={})

    def as_group(connection: Connection) -> None:
        connection.exec_driver_sql("SET ROLE carepool_writer")
        _insert(connection, entry)

    with pytest.raises(DBAPIError, match="is a group, not a person"):
        run_as("t.nhs", postgres_schema, as_group)


def test_a_user_entry_a_writer_inserts_as_themselves_promotes_nobody(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    promotion = {"name": "t.council", "partner": "NHS", "roles": ["finance", "admin"]}
    entry, _ = _forged(owner, fund, kind="user", actor="t.council", payload=promotion)
    run_as("t.council", postgres_schema, lambda c: _insert(c, entry))
    with as_login("t.council", postgres_schema) as council:
        with pytest.raises(PermissionDenied, match="finance officer of C1"):
            council.post(
                fund,
                Virement(from_line="acute", to_line="asc", amount_pence=50, reason="mine"),
                actor="t.council",
                request_id="grab",
            )
        users = council.users(fund, actor="t.council").set_index("name")
        assert users.loc["t.council", "roles"] == "finance"
    check = owner.verify(fund)
    assert (check.ok, check.first_bad_entry) == (False, entry["seq"])


def test_malformed_or_unauthorised_entries_break_nothing_but_verify(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    """A user entry that is not a change, a deeply nested payload and forged closes of the
    whole year, each inserted by a writer as themselves."""
    first, _ = _forged(owner, fund, kind="user", actor="t.council", payload={"nom": "x"})
    run_as("t.council", postgres_schema, lambda c: _insert(c, first))
    deep, _ = _forged(owner, fund, kind="spend", actor="t.council", payload="[" * 100_000)
    run_as("t.council", postgres_schema, lambda c: _insert(c, deep))
    for period in (*owner.context(fund).periods, "year-end"):
        close, _ = _forged(
            owner, fund, kind="close", actor="t.council", period=period, payload={"totals": []}
        )
        run_as("t.council", postgres_schema, partial(_insert, entry=close))

    with as_login("t.nhs", postgres_schema) as nhs:
        posted = nhs.post(fund, Spend(line="acute", amount_pence=1), actor="t.nhs", request_id="s")
        assert posted.status == "posted"
        assert not nhs.users(fund, actor="t.nhs").empty
        assert nhs.position(fund, actor="t.nhs").totals["balanced"]
        nhs.decisions(fund, actor="t.nhs")
    check = owner.verify(fund)
    assert (check.ok, check.first_bad_entry) == (False, first["seq"])


def test_a_writer_cannot_add_to_a_funds_registries(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    line = f"INSERT INTO lines VALUES ('{fund}', 'extra', 'acute', 'C1', 'NHS')"  # after opening
    with pytest.raises(DBAPIError, match="permission denied"):
        run_as("t.nhs", postgres_schema, lambda c: c.exec_driver_sql(line))
    with pytest.raises(DBAPIError, match="written when it opens"):
        run_as("t.admin", postgres_schema, lambda c: c.exec_driver_sql(line), "carepool_opener")
    squat = "INSERT INTO funds VALUES ('next-year', 'x', 'NHS', 'pooled', '2027-28', '{}')"
    with pytest.raises(DBAPIError, match="permission denied"):
        run_as("t.nhs", postgres_schema, lambda c: c.exec_driver_sql(squat))


def test_an_opener_opens_funds_and_a_writer_does_not(postgres_schema: str) -> None:
    spec = fund_spec()
    with as_login("t.admin", postgres_schema) as writer, pytest.raises(PermissionDenied):
        writer.open_fund(spec, actor="t.admin", request_id="open")
    with as_login("t.admin", postgres_schema, "carepool_opener") as opener:
        assert opener.open_fund(spec, actor="t.admin", request_id="open").seq == 1
        assert opener.verify(spec.fund.id).ok


def test_the_replay_refuses_a_fund_opened_by_someone_not_its_admin(tmp_path: Any) -> None:
    """SQLite, written directly: an opening entry by a user who is no admin of the fund."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    spec = fund_spec()
    with Ledger.connect(url) as ledger:
        ledger.open_fund(spec, actor="t.admin", request_id="open")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER journal_no_update")
        connection.execute(
            text("UPDATE journal SET actor = 't.council' WHERE seq = 1 AND fund_id = :f"),
            {"f": spec.fund.id},
        )
    engine.dispose()
    with Ledger.connect(url) as ledger:
        check = ledger.verify(spec.fund.id)
    assert (check.ok, check.first_bad_entry) == (False, 1)


@pytest.mark.parametrize(
    ("payload", "recorded"),
    [
        ("[" * 100_000, None),
        ({}, "[" * 100_000),
        (
            {},
            '{"fields":{"amount_pence":1,"commitment":null,"description":"\\ud800",'
            '"line":"asc","period":null},"operation":"spend"}',
        ),
    ],
    ids=["deep-payload", "deep-request", "lone-surrogate"],
)
def test_verify_names_a_crafted_entry_instead_of_crashing(
    owner: Ledger, fund: str, postgres_schema: str, payload: Any, recorded: str | None
) -> None:
    entry, _ = _forged(owner, fund, kind="spend", actor="t.council", payload=payload)
    entry["request"] = recorded
    run_as("t.council", postgres_schema, lambda c: _insert(c, entry))
    check = owner.verify(fund)
    assert (check.ok, check.first_bad_entry) == (False, entry["seq"])


def test_verify_names_a_bad_rule_row_instead_of_crashing(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    superuser = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with superuser.begin() as connection:  # the owner, round its own triggers
        connection.exec_driver_sql(f"SET search_path = {postgres_schema}")
        connection.exec_driver_sql("SET session_replication_role = replica")
        connection.exec_driver_sql(f"INSERT INTO rules VALUES ('{fund}', 'zz', 9, 'floor', 'x')")
    superuser.dispose()
    check = owner.verify(fund)
    assert (check.ok, check.first_bad_entry) == (False, 1)
    assert "rules differ" in (check.problem or "")


def test_a_request_sent_as_data_with_bad_text_is_refused() -> None:
    from carepool.ledger import LedgerRequest

    with pytest.raises(CarepoolError, match="not a request's fields"):
        LedgerRequest("spend", "t.nhs", "r1", {"line": "asc", "description": "\ud800"})
    nested: Any = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(CarepoolError, match="not a request's fields"):
        LedgerRequest("spend", "t.nhs", "r2", {"line": nested})


def test_approving_ones_own_request_as_a_group_is_refused(
    owner: Ledger, fund: str, postgres_schema: str
) -> None:
    with as_login("t.nhs", postgres_schema) as nhs:
        held = nhs.post(
            fund,
            Virement(from_line="acute", to_line="mh", amount_pence=500, reason="winter"),
            actor="t.nhs",
            request_id="v1",
        )
    url = login_url(POSTGRES_URL, "t.nhs") + "?options=-crole%3Dcarepool_writer"
    with Ledger.connect(url, schema=postgres_schema) as alias, pytest.raises(CarepoolError):
        alias.post(
            fund,
            Approve(hold=held.seq, reason="fine by me"),
            actor="carepool_writer",
            request_id="ok",
        )
