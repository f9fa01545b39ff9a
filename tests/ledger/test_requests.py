"""Typed requests: each operation's fields declared once, checked when built, and digested
exactly as the ledger has always digested them (so a retry of any request ever posted still
replays, and a journal posted before reads back to the same digest)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from carepool.errors import LedgerError, LoadRejected
from carepool.ledger import (
    REQUESTS,
    Allocate,
    Approve,
    ChangeUser,
    ClosePeriod,
    Commit,
    Contribute,
    Forecast,
    Ledger,
    LedgerRequest,
    Operation,
    Reverse,
    Settle,
    Spend,
    Virement,
    canonical,
    parse_fields,
    read_allocations,
)
from carepool.ledger.requests import request_digest
from tests.ledger.conftest import fund_spec
from tests.ledger.test_rules import CROSS_SERVICE

#: One request of each kind, with the digest the ledger gave it before typed requests
#: existed (``ledger.contribute(...)`` and the other keyword methods, which sent every
#: field). Never change a digest here: a changed digest means retries of requests already
#: posted would be refused, and journals already written would no longer replay.
PINNED: list[tuple[Operation, str]] = [
    (
        Contribute(partner="NHS", amount_pence=10_000),
        "7858a970209aad9d6060173d8b5e92a4803f5a0ef464457680c465a27ad8d0df",
    ),
    (
        Allocate(
            allocations=[("acute", 6_000), ("asc", 4_000)],
            period="2026-05",
            description="First allocation",
        ),
        "ba8bae3f02929da1a99904f5b52765e194f6ce3401eec1764ba5bfb80485d36d",
    ),
    (
        Spend(line="asc", amount_pence=1_234, commitment=7),
        "faf92e2ab97c096f4771f5d8667e6c182759b48aa1c7e2e31c315b99c0d3fb48",
    ),
    (
        Commit(line="acute", amount_pence=500),
        "4f7860238819568aa83022714f02e3865456234f678740e880d71a14b9ad70f5",
    ),
    (
        Virement(from_line="acute", to_line="asc", amount_pence=500, reason="winter pressures"),
        "b282c12d6ad2a9c69d48d1915a96e53da3fa87ec90863ad61caa9d19d23f473e",
    ),
    (
        Approve(hold=9, reason="winter plan"),
        "73598f15c63a7090c22159210d187e81c5e4c52798bea4027f9b2525f09117f5",
    ),
    (
        Forecast(line="asc", outturn_pence=4_800),
        "373e98e8912f7a423192284f070487d3f0d59312c5379466c0df537257bcd432",
    ),
    (
        Reverse(entry=5, reason="posted twice"),
        "9b2e66f1377713533e53989e758bd3362c804352d9626662d24af613c9b58e47",
    ),
    (ClosePeriod(), "1544ff9ebf9ce777e22099693fb48618fd2ae66099310a133dadbe41e6ba345d"),
    (Settle(), "47d8b2dfddc55af8edd84051bfa03c19d211c0ea8ae1b77e964bd65f1afcfeda"),
    (
        ChangeUser(name="t.new", roles=["finance"], partner="C1", reason="new starter"),
        "7cdd79570aaeecd979486f38d0c0877d32abca5d1d73d5bdce3348bac54ee4e4",
    ),
]

#: Requests sent as raw fields keep exactly the fields they were given, as the
#: demonstration's batches send them (no ``period`` for a contribution, no ``commitment``
#: for a spend): their digests, as before.
PINNED_RAW: list[tuple[LedgerRequest, str]] = [
    (
        LedgerRequest(
            "contribute",
            "finance.icb",
            "contribution-X",
            {"partner": "X", "amount_pence": 5, "description": "Annual contribution"},
        ),
        "8f26e5f964691cc3970e1fe2e62bbfd6c445c3e8bba81725e94b81f85c521502",
    ),
    (
        LedgerRequest(
            "spend",
            "finance.icb",
            "s",
            {
                "line": "l",
                "amount_pence": 5,
                "period": "2026-04",
                "description": "Spend on l, 2026-04",
            },
        ),
        "9cc5558c8b270323426fcb3c737b04c515b60401a3a0522150fe3b36ada9839d",
    ),
    (
        LedgerRequest(
            "forecast", "finance.icb", "f", {"line": "l", "outturn_pence": 5, "period": "2026-12"}
        ),
        "1bd424d9e5a9c744d886c184d9ea39fc22063d3b50be8118e3aa78432c76d485",
    ),
]


def test_every_operation_has_one_typed_request() -> None:
    assert sorted(REQUESTS) == sorted(type(request).operation for request, _ in PINNED)
    assert sorted(REQUESTS) == [
        "allocate",
        "approve",
        "close_period",
        "commit",
        "contribute",
        "forecast",
        "reverse",
        "settle",
        "spend",
        "user",
        "virement",
    ]


@pytest.mark.parametrize(("request_", "digest"), PINNED, ids=lambda x: type(x).__name__)
def test_a_typed_request_digests_as_it_always_has(request_: Operation, digest: str) -> None:
    sent = LedgerRequest.of(request_, actor="t.actor", request_id="rid")
    assert sent.digest() == digest
    assert sent.parse() == request_  # what is sent reads back to the same request


@pytest.mark.parametrize(("sent", "digest"), PINNED_RAW, ids=lambda x: getattr(x, "operation", ""))
def test_a_request_of_raw_fields_digests_the_fields_it_was_given(
    sent: LedgerRequest, digest: str
) -> None:
    assert sent.digest() == digest


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Spend(line="asc", amount_pence=0), "amount_pence: expected a positive amount"),
        (lambda: Spend(line="asc", amount_pence=5, commitment=0), "commitment: expected an entry"),
        (lambda: Contribute(partner="C1", amount_pence=True), "amount_pence: expected a whole"),
        (lambda: Allocate(allocations=[]), "allocations: expected a list"),
        (lambda: Allocate(allocations=[("asc", -1)]), r"allocations\[0\]\.amount_pence"),
        (lambda: Virement(from_line="a", to_line="a", amount_pence=1, reason="r"), "to_line"),
        (lambda: Virement(from_line="a", to_line="b", amount_pence=1, reason=" "), "reason"),
        (lambda: Approve(hold=3, reason="fine", approve="yes"), "approve: expected true"),  # type: ignore[arg-type]
        (lambda: Reverse(entry=-1, reason="r"), "entry: expected an entry number"),
        (lambda: Forecast(line="asc", outturn_pence=-1), "outturn_pence"),
        (lambda: ClosePeriod(period=4), "period: expected a month"),  # type: ignore[arg-type]
        (lambda: Settle(reason="a\x00b"), "reason: text may not contain a NUL"),
        (lambda: ChangeUser(name="x", roles="board", reason="r"), "roles: expected a list"),
        (lambda: ChangeUser(name="x", roles=[], partner="C1", reason="r"), "has no partner"),
    ],
)
def test_a_bad_field_is_refused_when_the_request_is_built(build: Any, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        build()


def test_fields_sent_as_data_are_read_into_the_typed_request() -> None:
    assert parse_fields("spend", {"line": "asc", "amount_pence": 5}) == Spend(
        line="asc", amount_pence=5
    )
    with pytest.raises(LedgerError, match="amount: not a field of a spend request"):
        parse_fields("spend", {"line": "asc", "amount": 5})
    with pytest.raises(LedgerError, match="amount_pence: expected a whole number of pence"):
        parse_fields("spend", {"line": "asc"})
    with pytest.raises(LedgerError, match="unknown operation 'spent'"):
        LedgerRequest("spent", "t.council", "x", {})


def test_allocations_are_read_from_a_csv_file_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "allocations.csv"
    path.write_text("line,amount\nacute,700000\nsocial-care,50.5\n", encoding="utf-8")
    assert read_allocations(path) == [("acute", 70_000_000), ("social-care", 5_050)]
    path.write_text("line,amount\nacute,1.001\n,5\nmh,ten\ncare,1\n", encoding="utf-8")
    with pytest.raises(LoadRejected) as rejected:
        read_allocations(path)
    # every bad row at once, as a load lists them
    assert [str(p).replace(str(path), "F") for p in rejected.value.problems] == [
        "F:row 1: amount: '1.001' has a fraction of a penny (pounds take at most two decimal "
        "places, pence none)",
        "F:row 2:line: empty; expected a budget line",
        "F:row 3: amount: 'ten' is not an amount; write pounds (1234.56 or 1,234.56) or pence "
        "(123456p)",
    ]
    assert str(rejected.value).endswith("rejected with 3 problem(s); nothing was posted")


def _fixed_clock() -> datetime:
    return datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _counted_salts() -> Callable[[], str]:
    """Salts that are the same on every run: 1, 2, 3 ... as 64 hex digits."""
    count = itertools.count(1)
    return lambda: f"{next(count):064x}"


@pytest.fixture
def clocked(ledger_target: tuple[str, str | None]) -> Iterator[Ledger]:
    url, schema = ledger_target
    opened = Ledger.connect(url, schema=schema, clock=_fixed_clock, salts=_counted_salts())
    yield opened
    opened.close()


def test_a_year_of_every_operation_writes_the_journal_it_always_has(clocked: Ledger) -> None:
    """The same requests at the same moments, with the same salts, chain to the same digest
    on every run and database: every payload, description and request digest is pinned."""
    ledger, fund = clocked, "pinned-2026-27"
    ledger.open_fund(fund_spec(fund, rules=[CROSS_SERVICE]), actor="t.admin", request_id="open")
    post = ledger.post
    post(fund, Contribute(partner="NHS", amount_pence=10_000), actor="t.nhs", request_id="c1")
    post(
        fund,
        Contribute(
            partner="C1", amount_pence=5_000, period="2026-04", description="Annual contribution"
        ),
        actor="t.council",
        request_id="c2",
    )
    post(
        fund,
        Allocate(allocations=[("acute", 6_000), ("mh", 3_000), ("asc", 4_500), ("ph", 1_500)]),
        actor="t.nhs",
        request_id="a1",
    )
    order = post(fund, Commit(line="asc", amount_pence=1_000), actor="t.council", request_id="k1")
    post(
        fund,
        Spend(line="asc", amount_pence=600, commitment=order.seq),
        actor="t.council",
        request_id="s1",
    )
    paid = post(
        fund,
        Spend(line="ph", amount_pence=100, description="Invoice 17"),
        actor="t.council",
        request_id="s2",
    )
    post(fund, Forecast(line="asc", outturn_pence=4_800), actor="t.council", request_id="f1")
    post(fund, Reverse(entry=paid.seq, reason="posted twice"), actor="t.council", request_id="r1")
    held = post(
        fund,
        Virement(from_line="acute", to_line="asc", amount_pence=500, reason="winter"),
        actor="t.nhs",
        request_id="v1",
    )
    post(fund, Approve(hold=held.seq, reason="winter plan"), actor="t.board1", request_id="d1")
    post(
        fund,
        ChangeUser(name="t.new", roles=["finance"], partner="C1", reason="new starter"),
        actor="t.admin",
        request_id="u1",
    )
    for period in ledger.spec(fund).periods():
        close = ClosePeriod(period=None if period == "2026-04" else period)
        post(fund, close, actor="t.nhs", request_id=f"close-{period}")
    post(fund, Settle(), actor="t.board1", request_id="settle")
    check = ledger.verify(fund)
    assert (check.ok, check.entries) == (True, 27)
    assert check.digest == "80cf7cde1b7911088686d7df30e8a97fc9b1e374b25896e1d2b97550b1df489d"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"line": "asc", "amount_pence": 5, "description": 'Ünïcode "quoted" \\ back'},
        {"allocations": [["a", 1], ["b", 2]], "period": None},
    ],
)
def test_a_requests_digest_and_record_are_its_canonical_json(fields: dict[str, Any]) -> None:
    """Assembled from the fields' JSON written once, they are exactly the canonical JSON of
    the whole (what earlier entries were hashed and recorded with)."""
    request = LedgerRequest("spend", "t.ü", "r1", fields)
    assert request.digest() == request_digest("spend", "t.ü", fields)
    assert request.recorded() == canonical({"operation": "spend", "fields": fields})
