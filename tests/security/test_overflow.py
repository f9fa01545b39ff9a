"""Sums past 2**63 pence: once they broke a fund for good; now they cannot be written.

Each posting was capped (``MAX_PENCE``, £10 trillion), but nothing capped how many there
were: 9,224 contributions of the cap took the pool's sum past 2**63, and on SQLite every
position, close, ``verify`` and export of the fund then failed with "integer overflow". A
fund's movement (the sum of the absolute amounts of its postings, which bounds every sum over
them in any order) is now capped at ``MAX_MOVEMENT``, checked in the write transaction
before anything of a request is appended.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carepool.errors import LedgerError
from carepool.ledger import (
    Allocate,
    ClosePeriod,
    Contribute,
    Ledger,
    LedgerRequest,
    Reverse,
    Settle,
    Spend,
)
from carepool.ledger.records.money import MAX_PENCE
from carepool.ledger.store import database
from carepool.ledger.store.schema import postings
from carepool.ledger.store.writer import MAX_MOVEMENT, MAX_SETTLED_MOVEMENT, moved_after
from tests.ledger.conftest import entries, open_fund

#: Contributions of the largest amount a posting may carry that take the pool past 2**63.
PAST_2_63 = 2**63 // MAX_PENCE + 1
#: Contributions of that amount that fit in a fund's movement (each moves 2 * MAX_PENCE).
FIT = MAX_MOVEMENT // (2 * MAX_PENCE)


def contributions(count: int, prefix: str = "c") -> list[LedgerRequest]:
    return [
        LedgerRequest.of(
            Contribute(partner="NHS", amount_pence=MAX_PENCE),
            actor="t.nhs",
            request_id=f"{prefix}{i}",
        )
        for i in range(count)
    ]


def reports_work(ledger: Ledger, fund: str, tmp_path: Path) -> int:
    """Position, verify and export all answer; the pool's balance."""
    position = ledger.position(fund, actor="t.auditor")
    assert position.totals["balanced"]
    check = ledger.verify(fund)
    assert check.ok, check.problem
    exported = ledger.export(fund, tmp_path / "journal.jsonl", actor="t.auditor")
    assert exported.digest == check.digest
    return int(position.totals["unallocated_pence"])


def stored_movement(ledger: Ledger, fund: str) -> int:
    with database.reading(ledger.engine) as connection:
        return moved_after(connection, fund, 0)


def test_the_limits_keep_every_sum_below_2_63() -> None:
    assert MAX_MOVEMENT < MAX_SETTLED_MOVEMENT < 2**63
    # a settlement moves at most twice what the fund moved before it
    assert MAX_MOVEMENT * 3 <= MAX_SETTLED_MOVEMENT
    assert FIT * 2 * MAX_PENCE <= MAX_MOVEMENT < (FIT + 1) * 2 * MAX_PENCE
    assert PAST_2_63 > FIT  # the attack needs more than a fund may hold


def test_a_batch_that_would_sum_past_2_63_is_refused_whole(ledger: Ledger, tmp_path: Path) -> None:
    fund = open_fund(ledger)
    with pytest.raises(LedgerError, match=f"request {FIT + 1} .*ledger's limit") as refused:
        ledger.submit(fund, contributions(PAST_2_63))
    assert refused.value.exit_code == 8
    assert entries(ledger, fund) == 1  # only the opening: nothing of the batch was written
    assert reports_work(ledger, fund, tmp_path) == 0


def test_a_fund_at_its_limit_refuses_more_and_still_reports(
    ledger: Ledger, ledger_target: tuple[str, str | None], tmp_path: Path
) -> None:
    fund = open_fund(ledger)
    ledger.submit(fund, contributions(FIT))
    assert stored_movement(ledger, fund) == FIT * 2 * MAX_PENCE
    with pytest.raises(LedgerError, match="past the ledger's limit"):
        ledger.post(
            fund,
            Contribute(partner="C1", amount_pence=MAX_PENCE),
            actor="t.council",
            request_id="x",
        )
    # another process, which has not seen the fund, adds up its postings: it posts exactly
    # the room that is left, and then not a penny more
    room = (MAX_MOVEMENT - FIT * 2 * MAX_PENCE) // 2
    url, schema = ledger_target
    with Ledger.connect(url, schema=schema) as other:
        last = Contribute(partner="NHS", amount_pence=room)
        assert other.post(fund, last, actor="t.nhs", request_id="room").status == "posted"
        penny = Contribute(partner="NHS", amount_pence=1)
        with pytest.raises(LedgerError, match="past the ledger's limit"):
            other.post(fund, penny, actor="t.nhs", request_id="penny")
    assert stored_movement(ledger, fund) == MAX_MOVEMENT
    assert entries(ledger, fund) == FIT + 2
    pool = FIT * MAX_PENCE + room
    assert reports_work(ledger, fund, tmp_path) == pool
    # money that moves nothing more (a close) is never refused for room, nor is settlement
    for month in range(12):
        ledger.post(fund, ClosePeriod(), actor="t.nhs", request_id=f"close-{month}")
    settled = ledger.post(fund, Settle(), actor="t.board1", request_id="settle")
    assert settled.status == "posted"
    assert FIT * 2 * MAX_PENCE < stored_movement(ledger, fund) <= MAX_SETTLED_MOVEMENT
    position = ledger.position(fund, actor="t.auditor")
    assert abs(position.totals["settlement_pence"]) == pool  # the pool, handed back
    assert reports_work(ledger, fund, tmp_path) == 0
    trailer = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    assert json.loads(trailer)["entries"] == FIT + 2 + 12 + 2


def test_concurrent_writers_cannot_pass_the_limit_together(ledger: Ledger) -> None:
    """Requests grouped into one transaction each see the movement of those before them."""
    fund = open_fund(ledger)
    ledger.submit(fund, contributions(FIT - 4))
    outcomes: list[str] = []

    def post(i: int) -> None:
        request = Contribute(partner="NHS", amount_pence=MAX_PENCE)
        try:
            ledger.post(fund, request, actor="t.nhs", request_id=f"t{i}")
            outcomes.append("posted")
        except LedgerError:
            outcomes.append("refused")

    threads = [threading.Thread(target=post, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["posted"] * 4 + ["refused"] * 8
    assert stored_movement(ledger, fund) == FIT * 2 * MAX_PENCE


def test_the_movement_a_writer_remembers_is_the_postings(
    ledger: Ledger, ledger_target: tuple[str, str | None]
) -> None:
    """Two processes writing one fund in turn: each one's remembered movement, brought up to
    date from the postings the other wrote, is what the postings add up to."""
    fund = open_fund(ledger)
    url, schema = ledger_target
    with Ledger.connect(url, schema=schema) as other:
        ledger.post(
            fund, Contribute(partner="NHS", amount_pence=9_000), actor="t.nhs", request_id="a"
        )
        other.post(
            fund, Contribute(partner="C1", amount_pence=1_000), actor="t.council", request_id="b"
        )
        allocation = Allocate(allocations=[("acute", 4_000), ("asc", 3_000)])
        seq = ledger.post(fund, allocation, actor="t.nhs", request_id="c").seq
        other.post(fund, Spend(line="asc", amount_pence=500), actor="t.council", request_id="d")
        ledger.post(fund, Spend(line="acute", amount_pence=700), actor="t.nhs", request_id="e")
        other.post(fund, Reverse(entry=seq + 2, reason="wrong line"), actor="t.nhs", request_id="f")
        with database.reading(ledger.engine) as connection:
            expected = connection.execute(
                select(func.sum(func.abs(postings.c.amount_pence))).where(
                    postings.c.fund_id == fund
                )
            ).scalar_one()
        assert expected == 2 * (9_000 + 1_000 + 7_000 + 500 + 700 + 700)
        for writer in (ledger, other):
            writer.post(fund, ClosePeriod(), actor="t.nhs", request_id=f"close-{id(writer)}")
            known = writer._movements.at(fund)
            assert known is not None
            assert known[2] == expected
