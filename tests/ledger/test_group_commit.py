"""Group commit: concurrent requests share a transaction, and each keeps its own outcome."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.exc import OperationalError

from carepool.errors import LedgerError, PermissionDenied, RuleRefused
from carepool.ledger import Ledger, LedgerRequest, Receipt, Spend
from carepool.ledger.operations import OPERATIONS
from carepool.ledger.store import database
from carepool.ledger.store.group_commit import GroupCommit, _Ticket
from tests.ledger.conftest import entries, funded

# -- the coordinator on its own --------------------------------------------------------------


def test_each_caller_gets_its_own_outcome_and_groups_form_under_load() -> None:
    groups: list[list[int]] = []

    def run(key: str, requests: list[int]) -> list[int | BaseException]:
        groups.append(list(requests))
        time.sleep(0.005)  # a transaction's worth of time, so that callers queue meanwhile
        return [ValueError(f"odd {r}") if r % 2 else r * 10 for r in requests]

    commit: GroupCommit[int, int] = GroupCommit(run)

    def call(r: int) -> int | str:
        try:
            return commit.post("fund", r)
        except ValueError as exc:
            return str(exc)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(64)))
    assert results == [f"odd {r}" if r % 2 else r * 10 for r in range(64)]
    assert sorted(r for group in groups for r in group) == list(range(64))  # each ran once
    assert max(len(group) for group in groups) > 1  # and some shared a transaction


def test_a_failed_group_fails_every_caller_in_it_and_the_next_group_still_runs() -> None:
    calls = 0
    started = threading.Event()
    release = threading.Event()

    def run(key: str, requests: list[str]) -> list[str | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:  # hold the first group until the others are queued behind it
            started.set()
            release.wait(5)
            return [f"{r} ok" for r in requests]
        if calls == 2:
            raise RuntimeError("the database went away")
        return [f"{r} ok" for r in requests]

    commit: GroupCommit[str, str] = GroupCommit(run)

    def call(r: str) -> str:
        try:
            return commit.post("fund", r)
        except RuntimeError as exc:
            return f"{r}: {exc}"

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(call, "a")
        assert started.wait(5)
        queued = [pool.submit(call, r) for r in ("b", "c")]
        while len(commit._queue("fund").waiting) < 2:  # both queued behind the first group
            time.sleep(0.001)
        release.set()
        assert first.result() == "a ok"
        assert [f.result() for f in queued] == [
            "b: the database went away",
            "c: the database went away",
        ]
        assert pool.submit(call, "d").result() == "d ok"  # the lead passed on; not stuck


def test_groups_are_capped_and_keys_do_not_share_a_group() -> None:
    seen: list[tuple[str, int]] = []
    gate = threading.Event()

    def run(key: str, requests: list[int]) -> list[int | BaseException]:
        gate.wait(5)
        seen.append((key, len(requests)))
        return list(requests)

    commit: GroupCommit[int, int] = GroupCommit(run, max_group=3)
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(commit.post, f"fund{r % 2}", r) for r in range(14)]
        time.sleep(0.05)
        gate.set()
        assert [f.result() for f in futures] == list(range(14))
    assert all(size <= 3 for _, size in seen)
    assert sum(size for _, size in seen) == 14


# -- the ledger's group transaction ----------------------------------------------------------


def _spend(
    request_id: str, amount: int, actor: str = "t.council", line: str = "asc"
) -> LedgerRequest:
    return LedgerRequest("spend", actor, request_id, {"line": line, "amount_pence": amount})


def _group(
    ledger: Ledger, fund: str, requests: list[LedgerRequest]
) -> list[Receipt | BaseException]:
    return ledger._post_group(fund, [(r, r.digest()) for r in requests])


def test_a_refused_request_leaves_the_rest_of_its_group_posted(ledger: Ledger) -> None:
    rule = {
        "name": "mh-floor",
        "kind": "floor",
        "scope": {"service": "mental_health"},
        "floor_pence": 2_500,
        "reason": "mental health floor",
    }
    fund = funded(ledger, rules=[rule])  # mh budget 3,000
    before = entries(ledger, fund)
    move = {"from_line": "mh", "to_line": "acute", "amount_pence": 400, "reason": "winter"}
    outcomes = _group(
        ledger,
        fund,
        [
            _spend("g1", 100),
            _spend("g2", 200, actor="t.nhs"),  # the NHS may not spend a council's line
            LedgerRequest("virement", "t.nhs", "g3", move),  # 3,000 → 2,600: allowed
            LedgerRequest("virement", "t.nhs", "g4", move),  # 2,600 → 2,200: below the floor
            _spend("g5", 300),
        ],
    )
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds == ["Receipt", "PermissionDenied", "Receipt", "RuleRefused", "Receipt"]
    assert isinstance(outcomes[1], PermissionDenied)
    assert isinstance(outcomes[3], RuleRefused)
    posted = [o for o in outcomes if isinstance(o, Receipt)]
    assert [r.seq for r in posted] == [before + 1, before + 2, before + 3]  # no gap in the chain
    check = ledger.verify(fund)
    assert check.ok
    assert check.entries == before + 3
    lines = ledger.position(fund, actor="t.auditor").lines.set_index("line")
    assert lines.loc["asc", "actual_pence"] == 400
    assert lines.loc["mh", "budget_pence"] == 2_600


def test_a_retry_in_the_same_group_posts_once_and_a_clash_is_refused(ledger: Ledger) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    outcomes = _group(
        ledger,
        fund,
        [_spend("r1", 100), _spend("r1", 100), _spend("r1", 999), _spend("r2", 50)],
    )
    first, retry, clash, other = outcomes
    assert isinstance(first, Receipt)
    assert not first.replayed
    assert isinstance(retry, Receipt)
    assert retry.replayed
    assert (retry.seq, retry.hash) == (first.seq, first.hash)
    assert isinstance(clash, LedgerError)
    assert "used before for a different request" in str(clash)
    assert isinstance(other, Receipt)
    assert other.seq == first.seq + 1
    assert entries(ledger, fund) == before + 2
    # and a later retry, in a group of its own, gets the same first receipt
    again = ledger.post_one(fund, _spend("r1", 100))
    assert again.replayed
    assert again.seq == first.seq


def test_when_the_group_transaction_fails_each_request_is_posted_alone(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    real = database.run_write
    failures = iter([OperationalError("INSERT ...", None, Exception("connection reset"))])

    def flaky(engine, work):  # type: ignore[no-untyped-def]
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(engine, work)

    monkeypatch.setattr(database, "run_write", flaky)
    outcomes = _group(ledger, fund, [_spend("a1", 10), _spend("a2", 10, actor="t.nhs")])
    assert isinstance(outcomes[0], Receipt)
    assert not outcomes[0].replayed
    assert isinstance(outcomes[1], PermissionDenied)
    assert entries(ledger, fund) == before + 1
    assert ledger.verify(fund).ok


def test_many_threads_posting_one_request_each_share_transactions(ledger: Ledger) -> None:
    fund = funded(ledger, nhs=10**9, council=10**9)
    before = entries(ledger, fund)
    sizes: list[int] = []
    run = ledger._groups._run

    def counting(key: str, group: list[tuple[LedgerRequest, str]]) -> list[Receipt | BaseException]:
        sizes.append(len(group))
        return run(key, group)

    ledger._groups._run = counting

    def writer(w: int) -> list[Receipt]:
        return [
            ledger.post(
                fund, Spend(line="asc", amount_pence=1), actor="t.council", request_id=f"w{w}-{k}"
            )
            for k in range(20)
        ]

    with ThreadPoolExecutor(8) as pool:
        receipts = [r for batch in pool.map(writer, range(8)) for r in batch]
    assert sorted(r.seq for r in receipts) == list(range(before + 1, before + 161))
    assert sum(sizes) == 160
    assert ledger.verify(fund).ok


def test_an_interrupted_caller_leaves_the_queue_and_passes_on_the_lead() -> None:
    commit: GroupCommit[int, int] = GroupCommit(lambda key, requests: list(requests))
    queue = commit._queue("fund")
    promoted: _Ticket[int, int] = _Ticket(1, leads=True)
    behind: _Ticket[int, int] = _Ticket(2)
    other: _Ticket[int, int] = _Ticket(3)
    queue.busy, queue.waiting = True, [promoted, behind]
    commit._abandon(queue, promoted)  # made leader, then interrupted before it could lead
    assert queue.waiting == [behind]
    assert behind.leads
    assert behind.ready.is_set()
    queue.waiting.append(other)
    commit._abandon(queue, other)  # interrupted while merely queued
    assert queue.waiting == [behind]
    assert not other.leads
    commit._abandon(queue, behind)  # the last one: nobody left to lead
    assert queue.waiting == []
    assert not queue.busy
    assert commit.post("fund", 7) == 7  # and the fund takes requests again


def test_an_unexpected_error_in_one_request_falls_back_to_one_transaction_each(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    spend = OPERATIONS["spend"]

    def fragile(tx, user, request):  # type: ignore[no-untyped-def]
        if request.amount_pence == 13:
            raise RuntimeError("unlucky")
        return spend(tx, user, request)

    monkeypatch.setitem(OPERATIONS, "spend", fragile)
    outcomes = _group(ledger, fund, [_spend("u1", 10), _spend("u2", 13), _spend("u3", 20)])
    assert isinstance(outcomes[0], Receipt)
    assert isinstance(outcomes[1], RuntimeError)
    assert isinstance(outcomes[2], Receipt)
    assert entries(ledger, fund) == before + 2
    assert ledger.verify(fund).ok


@pytest.mark.parametrize(
    ("request_id", "fields", "message"),
    [
        ("n1", {"line": "asc", "amount_pence": 5, "description": "a\x00b"}, "NUL"),
        ("n\x002", {"line": "asc", "amount_pence": 5}, "NUL"),
        ("n3", {"line": "asc", "amount_pence": 5, "commitment": 2**70}, "entry number"),
    ],
)
def test_text_with_nul_and_entry_numbers_out_of_range_are_refused_on_both_databases(
    ledger: Ledger, request_id: str, fields: dict[str, object], message: str
) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    with pytest.raises(LedgerError, match=message):
        ledger.post_one(fund, LedgerRequest("spend", "t.council", request_id, fields))
    assert entries(ledger, fund) == before
