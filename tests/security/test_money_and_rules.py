"""Attacks on the ledger's money and rules: each was possible once; each is refused now.

- an amount typed loosely (``1,5``, non-ASCII digits) read as something else;
- a large virement split across months to slip under the board's approval threshold;
- text fields stuffed with megabytes, or with bytes that are not text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carepool.errors import ConfigError, LedgerError
from carepool.ledger import Ledger, Spend, Virement, load_spec, parse_amount, read_allocations
from tests.ledger.conftest import funded

THRESHOLD_RULE = {
    "name": "large-virements",
    "kind": "virement",
    "min_pence": 1_000,
    "reason": "virements of £10 or more need the board",
}


@pytest.mark.parametrize(
    "typed",
    [
        "1,5",  # a decimal comma: once read as £15.00
        "1,50,000",  # separators out of place: once read as £150,000
        "١٢٣",  # Arabic-Indic digits: once accepted
        "１２３",  # fullwidth digits
        "1e3",
        "1_000",
        ".5",
        "5.",
        "+5",
        "12 34",
        "£ 5",
        "9" * 41,
    ],
)
def test_a_loosely_typed_amount_is_refused(typed: str) -> None:
    with pytest.raises(LedgerError, match="is not an amount"):
        parse_amount(typed)


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("1,000,000", 100_000_000),
        ("£400,000.50", 40_000_050),
        ("1234.5", 123_450),
        ("123456p", 123_456),
        ("1,234p", 1_234),
        (" 7 ", 700),
    ],
)
def test_the_one_strict_format_still_reads_what_people_write(typed: str, pence: int) -> None:
    assert parse_amount(typed) == pence


@pytest.mark.parametrize("typed", ["5.001", "5.000", "12.5p"])
def test_a_fraction_of_a_penny_is_refused_not_rounded(typed: str) -> None:
    with pytest.raises(LedgerError, match="fraction of a penny"):
        parse_amount(typed)


def test_a_virement_split_across_months_still_needs_approval(ledger: Ledger) -> None:
    fund = funded(ledger, rules=[THRESHOLD_RULE])
    first = Virement(
        from_line="acute", to_line="mh", amount_pence=600, reason="winter", period="2026-04"
    )
    second = Virement(
        from_line="acute", to_line="mh", amount_pence=600, reason="winter", period="2026-05"
    )
    assert ledger.post(fund, first, actor="t.nhs", request_id="april").status == "posted"
    held = ledger.post(fund, second, actor="t.nhs", request_id="may")
    assert held.status == "held"
    assert "virements of £10 or more" in held.detail["rules"][0]["reason"]


def test_megabytes_of_text_are_refused() -> None:
    with pytest.raises(LedgerError, match="description: at most 2,000 characters"):
        Spend(line="asc", amount_pence=5, description="x" * 1_000_000)


def test_bytes_that_are_not_text_are_refused() -> None:
    smuggled = b"pay \xff".decode("utf-8", errors="surrogateescape")  # as argv delivers them
    with pytest.raises(LedgerError, match="not valid text"):
        Spend(line="asc", amount_pence=5, description=smuggled)


def test_a_file_of_allocations_that_is_not_text_is_refused_by_line(tmp_path: Path) -> None:
    """Once a traceback (UnicodeDecodeError); now a usage error naming the file and line."""
    allocations = tmp_path / "allocations.csv"
    allocations.write_bytes(b"line,amount\nacute,1\n\xff\xfe,2\n")
    with pytest.raises(ConfigError, match=r"allocations\.csv: line 3: byte 0xff is not UTF-8"):
        read_allocations(allocations)


def test_a_fund_specification_that_is_not_text_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "fund.toml"
    spec.write_bytes(b'[fund]\nid = "\xff"\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_spec(spec)
