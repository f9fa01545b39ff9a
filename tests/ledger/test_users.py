"""Who may use a fund changes over its year: admins give, change and withdraw access, in the
journal, and every writer and reader sees the change at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carepool.errors import LedgerError, PermissionDenied
from carepool.ledger import Approve, ChangeUser, Ledger, LedgerRequest, Receipt, Spend
from carepool.ledger.store import writer
from tests.ledger.conftest import entries, funded
from tests.ledger.test_rules import CROSS_SERVICE, vire


def _grant(ledger: Ledger, fund: str, name: str, *roles: str, **extra: str) -> Receipt:
    reason = extra.pop("reason", "staff change")
    actor = extra.pop("actor", "t.admin")
    return ledger.post(
        fund,
        ChangeUser(name=name, roles=list(roles), reason=reason, **extra),
        actor=actor,
        request_id=f"user-{name}-{'-'.join(roles) or 'removed'}",
    )


def test_a_new_finance_officer_can_post_once_given_access(ledger: Ledger) -> None:
    fund = funded(ledger)
    with pytest.raises(PermissionDenied, match="not a user"):
        ledger.post(fund, Spend(line="asc", amount_pence=5), actor="t.new", request_id="early")
    receipt = _grant(ledger, fund, "t.new", "finance", partner="C1")
    assert receipt.kind == "user"
    spent = ledger.post(fund, Spend(line="asc", amount_pence=5), actor="t.new", request_id="s")
    assert spent.seq == receipt.seq + 1
    users = ledger.users(fund, actor="t.auditor").set_index("name")
    assert users.loc["t.new", "roles"] == "finance"
    assert users.loc["t.new", "partner"] == "C1"
    assert ledger.verify(fund).ok


def test_changed_roles_and_withdrawn_access_take_effect_for_writes_and_reads(
    ledger: Ledger,
) -> None:
    fund = funded(ledger)
    _grant(ledger, fund, "t.council", "auditor")
    with pytest.raises(PermissionDenied, match="finance"):
        ledger.post(fund, Spend(line="asc", amount_pence=5), actor="t.council", request_id="s")
    assert ledger.position(fund, actor="t.council").totals["balanced"]  # auditors read
    _grant(ledger, fund, "t.public")  # no roles: access withdrawn
    with pytest.raises(PermissionDenied, match="not a user"):
        ledger.position(fund, actor="t.public")
    assert "t.public" not in set(ledger.users(fund, actor="t.auditor")["name"])


def test_only_admins_change_users_and_never_their_own_admin_role(ledger: Ledger) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    with pytest.raises(PermissionDenied, match="admin"):
        _grant(ledger, fund, "t.new", "board", actor="t.nhs")
    with pytest.raises(LedgerError, match="their own access"):
        _grant(ledger, fund, "t.admin", "auditor")
    with pytest.raises(LedgerError, match="their own access"):  # no self-promotion either
        _grant(ledger, fund, "t.admin", "admin", "board")
    assert entries(ledger, fund) == before


@pytest.mark.parametrize(
    ("name", "roles", "extra", "message"),
    [
        ("t.new", ["finance"], {}, "finance role but no partner"),
        ("t.new", ["king"], {}, "king"),
        ("t.new", ["finance"], {"partner": "NOWHERE"}, "not a partner"),
        ("t.new", ["board"], {"reason": " "}, "say why"),
        ("bad name!", ["board"], {}, "bad name"),
        ("t.nobody", [], {}, "not a user"),
        ("t.public", [], {"partner": "C1"}, "has no partner"),
    ],
)
def test_a_bad_user_change_is_refused_and_nothing_written(
    ledger: Ledger, name: str, roles: list[str], extra: dict[str, str], message: str
) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    with pytest.raises(LedgerError, match=message):
        _grant(ledger, fund, name, *roles, **extra)
    assert entries(ledger, fund) == before


def test_another_process_sees_a_user_change_at_once(ledger: Ledger) -> None:
    fund = funded(ledger)
    other = Ledger(ledger.engine)  # its own cache of the fund, as another process has
    other.position(fund, actor="t.public")
    _grant(ledger, fund, "t.new", "finance", partner="C1")
    other.post(fund, Spend(line="asc", amount_pence=5), actor="t.new", request_id="s")
    _grant(ledger, fund, "t.new")
    with pytest.raises(PermissionDenied):
        other.post(fund, Spend(line="asc", amount_pence=5), actor="t.new", request_id="s2")


def test_a_grant_and_a_posting_in_one_group(ledger: Ledger) -> None:
    fund = funded(ledger)
    grant = LedgerRequest(
        "user",
        "t.admin",
        "g",
        {"name": "t.new", "roles": ["finance"], "partner": "C1", "reason": "new starter"},
    )
    spend = LedgerRequest("spend", "t.new", "s", {"line": "asc", "amount_pence": 5})
    outcomes = ledger._post_group(fund, [(r, r.digest()) for r in (grant, spend)])
    assert [type(o).__name__ for o in outcomes] == ["Receipt", "Receipt"]


def test_user_changes_are_published_in_the_journal(ledger: Ledger, tmp_path: Path) -> None:
    fund = funded(ledger)
    _grant(ledger, fund, "t.new", "board", reason="joined the board")
    path = tmp_path / "journal.jsonl"
    assert ledger.export(fund, path, actor="t.public").ok
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    change = [e for e in lines if e.get("kind") == "user"]
    assert len(change) == 1
    assert change[0]["payload"]["name"] == "t.new"
    assert change[0]["payload"]["roles"] == ["board"]
    assert change[0]["payload"]["reason"] == "joined the board"


def test_a_long_batch_replaying_an_old_grant_does_not_restore_withdrawn_access(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fund = funded(ledger)
    _grant(ledger, fund, "t.new", "finance", partner="C1")  # request id user-t.new-finance
    _grant(ledger, fund, "t.new")  # and withdrawn
    # a batch long enough that some request ids are looked up beyond the opening query
    monkeypatch.setattr(writer, "OPENING_IDS", 2)
    grant_again = LedgerRequest(
        "user",
        "t.admin",
        "user-t.new-finance",
        {"name": "t.new", "roles": ["finance"], "partner": "C1", "reason": "staff change"},
    )
    batch = [
        LedgerRequest("spend", "t.council", "b1", {"line": "asc", "amount_pence": 1}),
        LedgerRequest("spend", "t.council", "b2", {"line": "asc", "amount_pence": 1}),
        grant_again,  # a retry: answered from the journal, not applied again
        LedgerRequest("spend", "t.new", "b3", {"line": "asc", "amount_pence": 1}),
    ]
    before = entries(ledger, fund)
    with pytest.raises(PermissionDenied, match="not a user"):
        ledger.submit(fund, batch)
    assert entries(ledger, fund) == before


def test_someone_who_is_not_a_user_learns_nothing_about_request_ids(ledger: Ledger) -> None:
    fund = funded(ledger)
    probe = LedgerRequest("contribute", "mallory", "c-nhs", {"partner": "NHS", "amount_pence": 1})
    with pytest.raises(PermissionDenied, match="not a user"):
        ledger.post_one(fund, probe)


def test_a_request_whose_maker_has_left_can_be_rejected_not_approved(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[CROSS_SERVICE])
    held = vire(ledger, fund, "acute", "asc", 500, "v")  # by t.nhs
    assert held.status == "held"
    _grant(ledger, fund, "t.nhs")
    with pytest.raises(PermissionDenied, match="no longer has access"):
        ledger.post(fund, Approve(hold=held.seq, reason="ok"), actor="t.board1", request_id="a")
    rejected = ledger.post(
        fund,
        Approve(hold=held.seq, reason="maker left", approve=False),
        actor="t.board1",
        request_id="r",
    )
    assert rejected.detail["outcome"] == "rejected"
