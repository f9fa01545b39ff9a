"""Many writers at once: no lost update, no double posting, no rule broken, the chain intact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from carepool.errors import LedgerError, RuleRefused
from carepool.ledger import Ledger, Receipt, Spend, Virement
from tests.ledger.conftest import entries, funded

WRITERS = 8
PER_WRITER = 25


def test_concurrent_writers_with_retries_post_each_request_once(ledger: Ledger) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)

    def writer(w: int) -> list[Receipt]:
        receipts = []
        for k in range(PER_WRITER):
            # every request is sent by its own writer and again, as a retry, by the next
            for owner in (w, (w + 1) % WRITERS):
                receipts.append(
                    ledger.post(
                        fund,
                        Spend(line="asc", amount_pence=owner * 100 + k + 1),
                        actor="t.council",
                        request_id=f"w{owner}-{k}",
                    )
                )
        return receipts

    with ThreadPoolExecutor(WRITERS) as pool:
        receipts = [r for batch in pool.map(writer, range(WRITERS)) for r in batch]
    by_request: dict[str, set[tuple[int, str]]] = {}
    for receipt in receipts:
        by_request.setdefault(receipt.request_id, set()).add((receipt.seq, receipt.hash))
    assert len(by_request) == WRITERS * PER_WRITER
    assert all(len(results) == 1 for results in by_request.values())  # one result per request
    assert sum(not r.replayed for r in receipts) == WRITERS * PER_WRITER
    check = ledger.verify(fund)
    assert check.ok
    assert check.entries == before + WRITERS * PER_WRITER
    expected = sum(w * 100 + k + 1 for w in range(WRITERS) for k in range(PER_WRITER))
    position = ledger.position(fund, actor="t.auditor")
    assert position.lines.set_index("line").loc["asc", "actual_pence"] == expected
    assert position.totals["balanced"]


def test_racing_virements_never_overdraw_a_line(ledger: Ledger) -> None:
    fund = funded(ledger)  # ph budget 1,500

    def move(i: int) -> str:
        try:
            ledger.post(
                fund,
                Virement(from_line="ph", to_line="asc", amount_pence=400, reason="race"),
                actor="t.council",
                request_id=f"v{i}",
            )
        except LedgerError:
            return "refused"
        return "posted"

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(move, range(WRITERS)))
    assert outcomes.count("posted") == 3
    lines = ledger.position(fund, actor="t.auditor").lines.set_index("line")
    assert lines.loc["ph", "available_pence"] == 300
    assert ledger.verify(fund).ok


@pytest.mark.parametrize("floor", [2_000])
def test_racing_virements_never_break_a_floor(ledger: Ledger, floor: int) -> None:
    rule = {
        "name": "mh-floor",
        "kind": "floor",
        "scope": {"service": "mental_health"},
        "floor_pence": floor,
        "reason": "mental health floor",
    }
    fund = funded(ledger, rules=[rule])  # mh budget 3,000

    def move(i: int) -> str:
        try:
            ledger.post(
                fund,
                Virement(from_line="mh", to_line="acute", amount_pence=300, reason="race"),
                actor="t.nhs",
                request_id=f"m{i}",
            )
        except RuleRefused:
            return "refused"
        return "posted"

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(move, range(WRITERS)))
    assert outcomes.count("posted") == 3
    budget = ledger.position(fund, actor="t.auditor").lines.set_index("line")["budget_pence"]
    assert budget["mh"] == 2_100 >= floor
