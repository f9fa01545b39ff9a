"""Year-end settlement by the fund's risk-share rule, in whole pence that add up."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.errors import ConfigError, LedgerError
from carepool.ledger import ClosePeriod, Ledger, RiskShare, Settle, Spend, split_pence
from carepool.ledger.riskshare import settlement_shares
from tests.ledger.conftest import fund_spec, funded


def close_year(ledger: Ledger, fund: str) -> None:
    for period in ledger.context(fund).periods:
        ledger.post(fund, ClosePeriod(period=period), actor="t.nhs", request_id=f"close-{period}")


def overspend_year(ledger: Ledger, **overrides: Any) -> str:
    """NHS put in 10,000, the council 5,000; asc overspends by 1,500, acute underspends 600."""
    fund = funded(ledger, **overrides)
    ledger.post(fund, Spend(line="asc", amount_pence=6_000), actor="t.council", request_id="asc")
    ledger.post(fund, Spend(line="acute", amount_pence=5_400), actor="t.nhs", request_id="acute")
    ledger.post(fund, Spend(line="mh", amount_pence=3_000), actor="t.nhs", request_id="mh")
    ledger.post(fund, Spend(line="ph", amount_pence=1_500), actor="t.council", request_id="ph")
    close_year(ledger, fund)
    return fund


@pytest.mark.parametrize(
    ("risk_share", "expected"),
    [
        ({"rule": "proportional"}, {"NHS": -600, "C1": -300}),
        ({"rule": "host"}, {"NHS": -900, "C1": 0}),
        ({"rule": "own"}, {"NHS": 600, "C1": -1_500}),
        ({"rule": "fixed", "shares": {"NHS": 0.5, "C1": 0.5}}, {"NHS": -450, "C1": -450}),
        ({"rule": "capped", "cap_pence": 300, "excess_to": "C1"}, {"NHS": -200, "C1": -700}),
    ],
)
def test_settlement_shares_the_variance_by_the_agreed_rule(
    ledger: Ledger, risk_share: dict[str, Any], expected: dict[str, int]
) -> None:
    fund = overspend_year(ledger, risk_share=risk_share)
    receipt = ledger.post(fund, Settle(), actor="t.board1", request_id="settle")
    assert receipt.status == "posted"
    position = ledger.position(fund, actor="t.public")
    settled = position.partners.set_index("partner")["settlement_pence"].to_dict()
    # settlement_pence is what each partner paid in (+) or got back (-) at settlement
    assert {p: -v for p, v in settled.items()} == expected
    assert position.totals["available_pence"] == 0
    assert position.totals["unallocated_pence"] == 0
    assert position.totals["balanced"]
    register = ledger.decisions(fund, actor="t.public")
    assert register.iloc[-1]["status"] == "settled"
    with pytest.raises(LedgerError, match="is settled"):
        ledger.post(fund, Spend(line="asc", amount_pence=1), actor="t.council", request_id="late")
    assert ledger.verify(fund).ok


def test_settlement_waits_for_every_period_to_close(ledger: Ledger) -> None:
    fund = funded(ledger)
    with pytest.raises(LedgerError, match="2026-04 and 11 more are open"):
        ledger.post(fund, Settle(), actor="t.board1", request_id="s")


contributions = st.dictionaries(
    st.sampled_from(["A", "B", "C", "D", "E"]), st.integers(1, 10**12), min_size=1
)


@given(total=st.integers(-(10**12), 10**12), weights=contributions)
def test_splits_sum_exactly_and_follow_the_weights(total: int, weights: dict[str, int]) -> None:
    parts = split_pence(total, weights)
    assert sum(parts.values()) == total
    scale = sum(weights.values())
    for key, weight in weights.items():
        assert abs(parts[key] - total * weight / scale) < 1 + 1e-6 * abs(total)


@given(variance=st.integers(-(10**10), 10**10), weights=contributions, cap=st.integers(0, 10**10))
def test_every_rule_shares_exactly_the_variance(
    variance: int, weights: dict[str, int], cap: int
) -> None:
    host = sorted(weights)[0]
    own = {key: variance // len(weights) for key in weights}
    for rule in (
        RiskShare(rule="proportional"),
        RiskShare(rule="host"),
        RiskShare(rule="own"),
        RiskShare(rule="capped", cap_pence=cap),
    ):
        shares = settlement_shares(
            rule, variance=variance, own=own, contributions=weights, host=host
        )
        assert sum(shares.values()) == variance, rule.rule


def test_own_lines_settle_even_when_the_fund_nets_to_nothing() -> None:
    shares = settlement_shares(
        RiskShare(rule="own"),
        variance=0,
        own={"NHS": 1_500, "C1": -1_500},
        contributions={"NHS": 10_000, "C1": 5_000},
        host="NHS",
    )
    assert shares == {"C1": -1_500, "NHS": 1_500}


def test_a_gain_share_settles_its_own_lines_and_the_fund_rule_the_rest(ledger: Ledger) -> None:
    """asc overspends by 1,500: under the agreement NHS bears 60% (-900) and the council 40%
    (-600). The rest (+600) goes by contributions, 2:1: NHS +400, council +200."""
    gain_share = {
        "name": "prevention-gain-share",
        "scope": {"line": "asc"},
        "shares": {"NHS": 0.6, "C1": 0.4},
        "reason": "the schedule agreed for the prevention portfolio",
    }
    fund = overspend_year(ledger, gain_shares=[gain_share])
    receipt = ledger.post(fund, Settle(), actor="t.board1", request_id="settle")
    assert receipt.status == "posted"
    position = ledger.position(fund, actor="t.public")
    settled = position.partners.set_index("partner")["settlement_pence"].to_dict()
    assert {p: -v for p, v in settled.items()} == {"NHS": -500, "C1": -400}
    assert position.totals["balanced"]
    assert ledger.verify(fund).ok


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shares": {"NHS": 0.6, "C1": 0.3}}, "sum to 1"),
        ({"shares": {"NHS": 0.6, "C9": 0.4}}, "unknown partners"),
        ({"scope": {"service": "dentistry"}}, "covers no line"),
        ({"shares": {"NHS": 1.5, "C1": -0.5}}, "greater than or equal to 0"),
    ],
)
def test_a_gain_share_that_cannot_settle_is_refused_at_opening(
    change: dict[str, Any], message: str
) -> None:
    base = {
        "name": "g",
        "scope": {"service": "adult_social_care"},
        "shares": {"NHS": 0.5, "C1": 0.5},
        "reason": "test",
    }
    with pytest.raises(ConfigError, match=message):
        fund_spec(gain_shares=[{**base, **change}])
    twice = [base, {**base, "name": "h"}]
    with pytest.raises(ConfigError, match="in two gain shares"):
        fund_spec(gain_shares=twice)


def test_a_fund_without_gain_shares_is_written_as_before() -> None:
    assert "gain_shares" not in fund_spec().model_dump(mode="json")
