"""Random sequences of operations against a plain in-memory model of the fund.

After every step: each line's budget, spend and balance equal the model's (to the penny);
what partners put in equals what is unallocated, available, committed or spent; the mental
health floor holds; and the chain verifies. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from carepool.errors import LedgerError, PermissionDenied, RuleRefused
from carepool.ledger import Allocate, Ledger, LedgerRequest, Receipt, Reverse, Spend, Virement
from tests.ledger.conftest import open_fund

LINES = {"acute": "NHS", "mh": "NHS", "asc": "C1", "ph": "C1"}
OFFICERS = {"NHS": "t.nhs", "C1": "t.council"}
MH_FLOOR = 500
amounts = st.integers(1, 2_000)
lines = st.sampled_from(sorted(LINES))
partners = st.sampled_from(sorted(OFFICERS))


@dataclass
class Model:
    contributed: dict[str, int] = field(default_factory=lambda: {"NHS": 0, "C1": 0})
    budget: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LINES, 0))
    spent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LINES, 0))
    pool: int = 0
    spends: list[tuple[int, str, int]] = field(default_factory=list)  # (seq, line, amount)
    requests: dict[str, object] = field(default_factory=dict)

    def available(self, line: str) -> int:
        return self.budget[line] - self.spent[line]


class LedgerMachine(RuleBasedStateMachine):
    ledger: Ledger

    def __init__(self) -> None:
        super().__init__()
        rule_spec = {
            "name": "mh-floor",
            "kind": "floor",
            "scope": {"service": "mental_health"},
            "floor_pence": MH_FLOOR,
            "reason": "mental health floor",
        }
        self.fund = open_fund(self.ledger, fund_id=f"s-{uuid.uuid4().hex[:12]}", rules=[rule_spec])
        self.model = Model()
        self.last: tuple[str, dict[str, object], Receipt] | None = None
        self.mh_reached_floor = False

    def _rid(self) -> str:
        return uuid.uuid4().hex

    @rule(partner=partners, amount=amounts)
    def contribute(self, partner: str, amount: int) -> None:
        rid = self._rid()
        fields: dict[str, object] = {"partner": partner, "amount_pence": amount}
        receipt = self.ledger.post_one(
            self.fund, LedgerRequest("contribute", OFFICERS[partner], rid, fields)
        )
        self.model.contributed[partner] += amount
        self.model.pool += amount
        self.last = (rid, {"op": "contribute", "actor": OFFICERS[partner], **fields}, receipt)

    @rule(line=lines, amount=amounts)
    def allocate(self, line: str, amount: int) -> None:
        try:
            self.ledger.post(
                self.fund,
                Allocate(allocations=[(line, amount)]),
                actor="t.nhs",
                request_id=self._rid(),
            )
        except LedgerError:
            assert amount > self.model.pool
            return
        assert amount <= self.model.pool
        self.model.pool -= amount
        self.model.budget[line] += amount

    @rule(line=lines, amount=amounts, right_officer=st.booleans())
    def spend(self, line: str, amount: int, right_officer: bool) -> None:
        owner = LINES[line]
        actor = OFFICERS[owner] if right_officer else OFFICERS["C1" if owner == "NHS" else "NHS"]
        try:
            receipt = self.ledger.post(
                self.fund,
                Spend(line=line, amount_pence=amount),
                actor=actor,
                request_id=self._rid(),
            )
        except PermissionDenied:
            assert not right_officer
            return
        assert right_officer
        self.model.spent[line] += amount
        self.model.spends.append((receipt.seq, line, amount))

    @rule(source=lines, receiver=lines, amount=amounts)
    def vire(self, source: str, receiver: str, amount: int) -> None:
        target = receiver
        if source == target:
            return
        try:
            self.ledger.post(
                self.fund,
                Virement(from_line=source, to_line=target, amount_pence=amount, reason="test"),
                actor="t.nhs",
                request_id=self._rid(),
            )
        except RuleRefused:
            assert source == "mh"
            assert self.model.budget["mh"] - amount < MH_FLOOR
            return
        except LedgerError:
            assert amount > self.model.available(source)
            return
        assert amount <= self.model.available(source)
        assert not (source == "mh" and self.model.budget["mh"] - amount < MH_FLOOR)
        self.model.budget[source] -= amount
        self.model.budget[target] += amount

    @rule(data=st.data())
    def reverse_a_spend(self, data: st.DataObject) -> None:
        if not self.model.spends:
            return
        seq, line, amount = data.draw(st.sampled_from(self.model.spends))
        self.ledger.post(
            self.fund,
            Reverse(entry=seq, reason="error"),
            actor=OFFICERS[LINES[line]],
            request_id=self._rid(),
        )
        self.model.spends.remove((seq, line, amount))
        self.model.spent[line] -= amount

    @rule()
    def retry_the_last_contribution(self) -> None:
        if self.last is None:
            return
        rid, fields, first = self.last
        fields = dict(fields)
        fields.pop("op")
        actor = str(fields.pop("actor"))
        again = self.ledger.post_one(self.fund, LedgerRequest("contribute", actor, rid, fields))
        assert again.replayed
        assert (again.seq, again.hash) == (first.seq, first.hash)

    @invariant()
    def matches_the_model(self) -> None:
        position = self.ledger.position(self.fund, actor="t.auditor")
        lines_ = position.lines.set_index("line")
        for line in LINES:
            assert lines_.loc[line, "budget_pence"] == self.model.budget[line]
            assert lines_.loc[line, "actual_pence"] == self.model.spent[line]
            assert lines_.loc[line, "available_pence"] == self.model.available(line)
        assert position.totals["unallocated_pence"] == self.model.pool
        contributed = position.partners.set_index("partner")["contributed_pence"].to_dict()
        assert contributed == self.model.contributed
        # balances sum to contributions less spend
        held = position.totals["unallocated_pence"] + position.totals["available_pence"]
        assert held == sum(self.model.contributed.values()) - sum(self.model.spent.values())
        assert position.totals["balanced"]

    @invariant()
    def the_floor_holds_once_reached(self) -> None:
        if self.model.budget["mh"] >= MH_FLOOR:
            self.mh_reached_floor = True
        elif self.mh_reached_floor:
            raise AssertionError("mental health fell below its floor")

    @invariant()
    def the_chain_verifies(self) -> None:
        assert self.ledger.verify(self.fund).ok


def test_random_operations_keep_the_books_straight(ledger: Ledger) -> None:
    LedgerMachine.ledger = ledger
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
