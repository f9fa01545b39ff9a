"""Ring-fences and approvals: refused with the rule's name, or held for the board."""

from __future__ import annotations

from typing import Any

import pytest

from carepool.errors import LedgerError, PermissionDenied, RuleRefused
from carepool.ledger import Approve, Ledger, LedgerRequest, Reverse, Spend, Virement
from tests.ledger.conftest import entries, funded

MH_FLOOR: dict[str, Any] = {
    "name": "mental-health-floor",
    "kind": "floor",
    "scope": {"service": "mental_health"},
    "floor_pence": 2_800,
    "reason": "mental health may not fall below last year's budget plus growth",
}
NHS_TO_SOCIAL_CARE: dict[str, Any] = {
    "name": "nhs-minimum-to-social-care",
    "kind": "floor",
    "scope": {"service": "adult_social_care", "partner_kind": "council"},
    "floor_pence": 4_000,
    "action": "hold",
    "reason": "the minimum contribution to adult social care",
}
CROSS_SERVICE: dict[str, Any] = {
    "name": "cross-service-virements",
    "kind": "virement",
    "across": "service",
    "reason": "moving money between services needs the board's approval",
}
LARGE: dict[str, Any] = {
    "name": "large-virements",
    "kind": "virement",
    "min_pence": 1_000,
    "approvers": 2,
    "reason": "virements of £10 or more need two board members",
}
NO_RAID_ON_MH: dict[str, Any] = {
    "name": "no-raid-on-mental-health",
    "kind": "virement",
    "from_scope": {"service": "mental_health"},
    "action": "refuse",
    "reason": "money may not be moved out of mental health",
}


def vire(ledger: Ledger, fund: str, source: str, target: str, amount: int, rid: str) -> Any:
    return ledger.post(
        fund,
        Virement(from_line=source, to_line=target, amount_pence=amount, reason="winter pressures"),
        actor="t.nhs",
        request_id=rid,
    )


def test_a_floor_refuses_a_virement_that_breaks_it(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[MH_FLOOR])  # mh budget 3,000
    assert vire(ledger, fund, "mh", "acute", 200, "ok").status == "posted"
    before = entries(ledger, fund)
    with pytest.raises(RuleRefused, match="mental-health-floor") as caught:
        vire(ledger, fund, "mh", "acute", 1, "too-far")
    assert "below the floor of £28.00" in caught.value.reason
    assert entries(ledger, fund) == before


def test_a_floor_does_not_stop_money_flowing_in(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[{**MH_FLOOR, "floor_pence": 10**6}])
    assert vire(ledger, fund, "acute", "mh", 100, "in").status == "posted"


def test_a_floor_also_guards_reversals(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[{**MH_FLOOR, "floor_pence": 3_000}])
    allocation = 4  # open, two contributions, then the allocation
    with pytest.raises(RuleRefused, match="mental-health-floor"):
        ledger.post(
            fund, Reverse(entry=allocation, reason="mistake"), actor="t.nhs", request_id="r"
        )


def test_a_cross_service_virement_is_held_then_approved_by_another_board_member(
    ledger: Ledger,
) -> None:
    fund = funded(ledger, rules=[CROSS_SERVICE])
    held = vire(ledger, fund, "acute", "asc", 500, "v")
    assert held.status == "held"
    assert held.detail["rules"][0]["rule"] == "cross-service-virements"
    budget = ledger.position(fund, actor="t.public").lines.set_index("line")["budget_pence"]
    assert budget["asc"] == 4_500  # nothing moved yet
    with pytest.raises(PermissionDenied, match="needs the board role"):
        ledger.post(fund, Approve(hold=held.seq, reason="fine"), actor="t.nhs", request_id="a0")
    decided = ledger.post(
        fund, Approve(hold=held.seq, reason="winter plan"), actor="t.board1", request_id="a1"
    )
    assert decided.detail == {"outcome": "approved", "posted_seq": decided.seq + 1}
    budget = ledger.position(fund, actor="t.public").lines.set_index("line")["budget_pence"]
    assert (budget["acute"], budget["asc"]) == (6_000 - 500, 4_500 + 500)
    register = ledger.decisions(fund, actor="t.public").set_index("decision")
    assert register.loc[held.seq, "status"] == "approved"
    assert register.loc[held.seq, "approvers"] == "t.board1"
    assert register.loc[held.seq, "posted_entry"] == decided.seq + 1
    with pytest.raises(LedgerError, match="already approved"):
        ledger.post(fund, Approve(hold=held.seq, reason="again"), actor="t.board2", request_id="a2")


def test_nobody_approves_their_own_request(ledger: Ledger) -> None:
    spec_users = [
        {"name": "t.admin", "roles": ["admin"]},
        {"name": "t.nhs", "partner": "NHS", "roles": ["finance"]},
        {"name": "t.council", "partner": "C1", "roles": ["finance"]},
        {"name": "t.chair", "partner": "NHS", "roles": ["finance", "board"]},
        {"name": "t.board1", "roles": ["board"]},
    ]
    fund = funded(ledger, rules=[CROSS_SERVICE], users=spec_users)
    held = ledger.post(
        fund,
        Virement(from_line="acute", to_line="asc", amount_pence=5, reason="r"),
        actor="t.chair",
        request_id="v",
    )
    with pytest.raises(PermissionDenied, match=r"made request .* and may not decide it"):
        ledger.post(fund, Approve(hold=held.seq, reason="mine"), actor="t.chair", request_id="a")


def test_two_approvers_when_the_rule_asks(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[LARGE])
    held = vire(ledger, fund, "acute", "mh", 1_000, "big")
    first = ledger.post(
        fund, Approve(hold=held.seq, reason="ok"), actor="t.board1", request_id="a1"
    )
    assert first.detail == {"outcome": "approval"}
    with pytest.raises(PermissionDenied, match="already approved"):
        ledger.post(fund, Approve(hold=held.seq, reason="ok"), actor="t.board1", request_id="a1b")
    second = ledger.post(
        fund, Approve(hold=held.seq, reason="agreed"), actor="t.board2", request_id="a2"
    )
    assert second.detail["outcome"] == "approved"
    register = ledger.decisions(fund, actor="t.public").set_index("decision")
    assert register.loc[held.seq, "approvers"] == "t.board1, t.board2"
    assert vire(ledger, fund, "mh", "acute", 999, "small").status == "posted"  # another line


def test_a_rejected_request_moves_nothing(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[CROSS_SERVICE])
    held = vire(ledger, fund, "acute", "asc", 500, "v")
    decided = ledger.post(
        fund,
        Approve(hold=held.seq, reason="not now", approve=False),
        actor="t.board1",
        request_id="no",
    )
    assert decided.detail == {"outcome": "rejected"}
    budget = ledger.position(fund, actor="t.public").lines.set_index("line")["budget_pence"]
    assert budget["acute"] == 6_000
    assert ledger.decisions(fund, actor="t.public").iloc[0]["status"] == "rejected"


def test_a_ban_refuses_outright(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[NO_RAID_ON_MH, CROSS_SERVICE])
    with pytest.raises(RuleRefused, match="no-raid-on-mental-health"):
        vire(ledger, fund, "mh", "asc", 5, "raid")


def test_a_held_floor_goes_to_the_board(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[NHS_TO_SOCIAL_CARE])  # asc budget 4,500, floor 4,000
    ledger.post(
        fund,
        Virement(from_line="asc", to_line="ph", amount_pence=600, reason="r"),
        actor="t.council",
        request_id="v",
    )
    register = ledger.decisions(fund, actor="t.public")
    assert register.iloc[0]["rules"] == "nhs-minimum-to-social-care"
    assert register.iloc[0]["status"] == "pending"


def test_a_virement_cannot_take_more_than_the_line_has(ledger: Ledger) -> None:
    fund = funded(ledger)
    ledger.post(fund, Spend(line="ph", amount_pence=1_400), actor="t.council", request_id="s")
    with pytest.raises(LedgerError, match=r"line ph has £1\.00 not spent or committed"):
        ledger.post(
            fund,
            Virement(from_line="ph", to_line="asc", amount_pence=101, reason="r"),
            actor="t.council",
            request_id="v",
        )


def test_a_large_virement_split_in_two_is_still_held(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[LARGE])  # two approvers from £10.00 a month out of one line
    assert vire(ledger, fund, "acute", "mh", 600, "first").status == "posted"
    assert vire(ledger, fund, "acute", "mh", 600, "second").status == "held"


def test_reversing_an_allocation_cannot_dodge_a_virement_rule(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[CROSS_SERVICE])
    allocation = 4  # open, two contributions, then the allocation
    with pytest.raises(RuleRefused, match="ask for a virement instead"):
        ledger.post(
            fund, Reverse(entry=allocation, reason="re-plan"), actor="t.nhs", request_id="r"
        )


def test_a_decision_must_be_true_or_false(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[CROSS_SERVICE])
    held = vire(ledger, fund, "acute", "asc", 5, "v")
    fields = {"hold": held.seq, "reason": "r", "approve": "false"}
    with pytest.raises(LedgerError, match="expected true or false"):
        ledger.post_one(fund, LedgerRequest("approve", "t.board1", "d", fields))
