"""Attacks on the journal by someone who can write to the ledger's database directly.

Each once left ``verify`` passing; each is detected now, and ``verify`` names the entry:

- a forged entry appended with a correct hash chain, that no rule allowed (a virement that
  breaks a ring-fence floor; a spend by a user with no finance role);
- postings inserted without an entry (SQLite with its foreign keys switched off; PostgreSQL
  with its triggers bypassed by a superuser), which changed balances but not the digest;
- the fund's specification edited to drop its rules, a posting made, and the spec restored;
- the actor behind each entry recovered from the published export by guessing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from carepool.ledger import Contribute, Ledger, Spend, Virement
from carepool.ledger.records.chain import canonical, sha256
from carepool.ledger.records.fund import FundContext
from carepool.ledger.requests import request_digest
from tests.ledger.conftest import funded

FLOOR = {
    "name": "mental-health-floor",
    "kind": "floor",
    "scope": {"service": "mental_health"},
    "floor_pence": 2_800,
    "reason": "mental health spending is protected",
}
BREAKING = Virement(from_line="mh", to_line="acute", amount_pence=500, reason="winter pressures")


def _forger(ledger_target: tuple[str, str | None], fund: str, **spec_changes: object) -> Ledger:
    """A writer with INSERT on the tables that believes the fund's spec is otherwise: what
    it writes is correctly chained, salted and recorded, as a forger's rows would be."""
    url, schema = ledger_target
    forger = Ledger.connect(url, schema=schema)
    real = forger.spec(fund)
    forger._contexts[fund] = FundContext(real.model_copy(update=spec_changes))
    return forger


def test_a_forged_virement_that_breaks_a_floor_is_named_by_verify(
    ledger: Ledger, ledger_target: tuple[str, str | None]
) -> None:
    fund = funded(ledger, rules=[FLOOR])
    with pytest.raises(Exception, match="floor"):
        ledger.post(fund, BREAKING, actor="t.nhs", request_id="v-honest")
    forger = _forger(ledger_target, fund, rules=())
    forged = forger.post(fund, BREAKING, actor="t.nhs", request_id="v-forged")
    forger.close()

    check = ledger.verify(fund)

    assert not check.ok
    assert check.first_bad_entry == forged.seq
    assert "refused" in (check.problem or "")
    assert "mental-health-floor" in (check.problem or "")


def test_a_forged_spend_by_a_user_without_the_role_is_named_by_verify(
    ledger: Ledger, ledger_target: tuple[str, str | None]
) -> None:
    fund = funded(ledger)
    users = ledger.spec(fund).users
    promoted = tuple(
        u.model_copy(update={"roles": ("finance",), "partner": "C1"}) if u.name == "t.public" else u
        for u in users
    )
    forger = _forger(ledger_target, fund, users=promoted)
    forged = forger.post(
        fund, Spend(line="asc", amount_pence=100), actor="t.public", request_id="s-forged"
    )
    forger.close()

    check = ledger.verify(fund)

    assert (check.ok, check.first_bad_entry) == (False, forged.seq)
    assert "t.public" in (check.problem or "")


def test_postings_without_an_entry_are_found(
    ledger: Ledger, backend: str, ledger_target: tuple[str, str | None]
) -> None:
    fund = funded(ledger)
    before = ledger.position(fund, actor="t.auditor").lines["budget_pence"].sum()
    url, schema = ledger_target
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        if backend == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        else:  # a superuser switching off the foreign-key triggers
            connection.exec_driver_sql(f"SET search_path = {schema}")
            connection.exec_driver_sql("SET session_replication_role = replica")
        connection.execute(
            text(
                "INSERT INTO postings (fund_id, seq, no, period, account, line_id, partner_id,"
                " category, amount_pence) VALUES (:fund, 999, 1, '2026-04', 'line', 'asc', NULL,"
                " 'budget', 1000000)"
            ),
            {"fund": fund},
        )
    engine.dispose()
    assert ledger.position(fund, actor="t.auditor").lines["budget_pence"].sum() != before

    check = ledger.verify(fund)

    assert (check.ok, check.first_bad_entry) == (False, 999)
    assert "belong to no entry" in (check.problem or "")


def test_a_spec_swapped_out_and_back_leaves_the_posting_it_allowed_exposed(
    ledger: Ledger, backend: str, ledger_target: tuple[str, str | None]
) -> None:
    fund = funded(ledger, rules=[FLOOR])
    url, schema = ledger_target
    stored = ledger.spec(fund).model_dump(mode="json")
    without_rules = canonical({**stored, "rules": []})
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))

    def set_spec(spec_text: str) -> None:
        with engine.begin() as connection:
            if backend == "sqlite":
                connection.exec_driver_sql("DROP TRIGGER IF EXISTS funds_no_update")
            else:  # the tables' owner switching the append-only trigger off
                connection.exec_driver_sql(f"SET search_path = {schema}")
                connection.exec_driver_sql("ALTER TABLE funds DISABLE TRIGGER funds_append_only")
            connection.execute(
                text("UPDATE funds SET spec = :spec WHERE id = :fund"),
                {"spec": spec_text, "fund": fund},
            )
            if backend != "sqlite":
                connection.exec_driver_sql("ALTER TABLE funds ENABLE TRIGGER funds_append_only")

    set_spec(without_rules)
    swapped = Ledger.connect(url, schema=schema)
    posted = swapped.post(fund, BREAKING, actor="t.nhs", request_id="v-during-swap")
    swapped.close()
    set_spec(canonical(stored))
    engine.dispose()

    check = Ledger.connect(url, schema=schema).verify(fund)

    assert (check.ok, check.first_bad_entry) == (False, posted.seq)
    assert "mental-health-floor" in (check.problem or "")


def test_who_posted_cannot_be_recovered_from_the_public_export(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The attacker knows every user, every request id and each request's exact content
    (so its request digest): the strongest position short of the ledger's salts. The
    unsalted commitment gave every actor back; the salted one gives back none."""
    fund = funded(ledger)
    users = [u.name for u in ledger.spec(fund).users]
    export = tmp_path / "journal.jsonl"
    ledger.export(fund, export, actor="t.public")
    published = [json.loads(line) for line in export.read_text().splitlines()[1:-1]]
    known = {  # what the attacker knows of each entry: the requests, as they were sent
        2: ("c-nhs", Contribute(partner="NHS", amount_pence=10_000)),
        3: ("c-c1", Contribute(partner="C1", amount_pence=5_000)),
    }
    assert {entry["seq"] for entry in published} >= set(known)
    for entry in published:
        if entry["seq"] not in known:
            continue
        request_id, request = known[entry["seq"]]
        recovered = [
            user
            for user in users
            if entry["private"]
            == sha256(
                canonical(
                    [user, request_id, request_digest(request.operation, user, request.fields())]
                )
            )
        ]
        assert recovered == [], f"entry {entry['seq']} gives away {recovered}"
        assert not {"actor", "request_id", "salt", "request"} & set(entry)


def test_an_auditor_still_sees_who_posted(ledger: Ledger) -> None:
    fund = funded(ledger)
    register = ledger.journal(fund, actor="t.auditor")
    assert list(register["actor"][:4]) == ["t.admin", "t.nhs", "t.council", "t.nhs"]
    with pytest.raises(Exception, match="auditor"):
        ledger.journal(fund, actor="t.public")
