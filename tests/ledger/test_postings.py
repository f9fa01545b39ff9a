"""Double entry in pence: what each operation posts, and what the position derives from it."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carepool.errors import LedgerError, PermissionDenied
from carepool.ledger import (
    Allocate,
    ClosePeriod,
    Commit,
    Contribute,
    Entry,
    Forecast,
    Ledger,
    LedgerRequest,
    Posting,
    Reverse,
    Settle,
    Spend,
)
from tests.ledger.conftest import entries, funded, open_fund


def test_contributions_allocations_and_spend_give_the_position(ledger: Ledger) -> None:
    fund = funded(ledger, nhs=10_000, council=5_000)
    ledger.post(fund, Spend(line="asc", amount_pence=1_234), actor="t.council", request_id="s1")
    ledger.post(fund, Commit(line="acute", amount_pence=500), actor="t.nhs", request_id="k1")
    ledger.post(fund, Forecast(line="asc", outturn_pence=4_800), actor="t.council", request_id="f1")
    position = ledger.position(fund, actor="t.public")
    lines = position.lines.set_index("line")
    assert lines.loc["asc", "budget_pence"] == 4_500
    assert lines.loc["asc", "actual_pence"] == 1_234
    assert lines.loc["asc", "available_pence"] == 4_500 - 1_234
    assert lines.loc["asc", "forecast_pence"] == 4_800
    assert lines.loc["acute", "committed_pence"] == 500
    assert lines.loc["acute", "available_pence"] == 6_000 - 500
    assert pd_isna(lines.loc["mh", "forecast_pence"])
    totals = position.totals
    assert totals["contributed_pence"] == 15_000
    assert totals["budget_pence"] == 15_000
    assert totals["unallocated_pence"] == 0
    assert totals["balanced"]
    contributed = position.partners.set_index("partner")["contributed_pence"]
    assert contributed.to_dict() == {"NHS": 10_000, "C1": 5_000}


def pd_isna(value: object) -> bool:
    return value is None or value is pd.NA


def test_a_new_forecast_replaces_the_last(ledger: Ledger) -> None:
    fund = funded(ledger)
    ledger.post(fund, Forecast(line="mh", outturn_pence=3_000), actor="t.nhs", request_id="f1")
    ledger.post(fund, Forecast(line="mh", outturn_pence=2_500), actor="t.nhs", request_id="f2")
    lines = ledger.position(fund, actor="t.public").lines.set_index("line")
    assert lines.loc["mh", "forecast_pence"] == 2_500


def test_a_forecast_of_zero_is_a_forecast_not_its_absence(ledger: Ledger) -> None:
    fund = funded(ledger)
    ledger.post(fund, Forecast(line="ph", outturn_pence=0), actor="t.council", request_id="f0")
    position = ledger.position(fund, actor="t.public")
    lines = position.lines.set_index("line")
    assert lines.loc["ph", "forecast_pence"] == 0
    assert lines["forecast_pence"].isna()["asc"]  # never forecast
    assert position.totals["forecast_pence"] == 0
    assert [r["forecast_pence"] for r in position.as_json()["lines"] if r["line"] == "ph"] == [0]


def test_forecast_variance_counts_only_lines_with_a_forecast(ledger: Ledger) -> None:
    """One line forecast to overspend, the others not forecast at all: the fund's variance is
    that overspend, not the budgets of the silent lines taken as an underspend."""
    fund = funded(ledger, nhs=10_000, council=5_000)
    ledger.post(fund, Forecast(line="asc", outturn_pence=5_000), actor="t.council", request_id="f")
    position = ledger.position(fund, actor="t.public")
    lines = position.lines.set_index("line")
    assert lines.loc["asc", "forecast_variance_pence"] == 4_500 - 5_000
    assert pd_isna(lines.loc["acute", "forecast_variance_pence"])
    assert position.totals["forecast_variance_pence"] == -500
    assert position.totals["forecast_lines"] == 1
    assert position.totals["lines"] == len(lines)
    by_partner = position.summed("partner").set_index("partner")
    council = by_partner.loc[str(lines.loc["asc", "partner"])]
    assert council["forecast_variance_pence"] == -500
    assert council["forecast_lines"] == 1


def test_spend_against_a_commitment_releases_it(ledger: Ledger) -> None:
    fund = funded(ledger)
    order = ledger.post(
        fund, Commit(line="asc", amount_pence=1_000), actor="t.council", request_id="k"
    )
    ledger.post(
        fund,
        Spend(line="asc", amount_pence=600, commitment=order.seq),
        actor="t.council",
        request_id="s1",
    )
    ledger.post(
        fund,
        Spend(line="asc", amount_pence=700, commitment=order.seq),
        actor="t.council",
        request_id="s2",
    )
    asc = ledger.position(fund, actor="t.public").lines.set_index("line").loc["asc"]
    assert asc["committed_pence"] == 0  # 600 then the remaining 400 released
    assert asc["actual_pence"] == 1_300
    assert asc["available_pence"] == 4_500 - 1_300
    with pytest.raises(LedgerError, match="nothing outstanding"):
        ledger.post(
            fund,
            Spend(line="asc", amount_pence=1, commitment=order.seq),
            actor="t.council",
            request_id="s3",
        )


def test_position_as_at_a_period(ledger: Ledger) -> None:
    fund = funded(ledger)
    ledger.post(
        fund,
        Spend(line="asc", amount_pence=100, period="2026-04"),
        actor="t.council",
        request_id="a",
    )
    ledger.post(
        fund,
        Spend(line="asc", amount_pence=200, period="2026-06"),
        actor="t.council",
        request_id="b",
    )
    april = ledger.position(fund, actor="t.public", period="2026-04").lines.set_index("line")
    june = ledger.position(fund, actor="t.public", period="2026-06").lines.set_index("line")
    assert april.loc["asc", "actual_pence"] == 100
    assert june.loc["asc", "actual_pence"] == 300


def test_a_retried_request_posts_once_and_returns_the_first_result(ledger: Ledger) -> None:
    fund = funded(ledger)
    first = ledger.post(
        fund, Spend(line="ph", amount_pence=50), actor="t.council", request_id="same"
    )
    again = ledger.post(
        fund, Spend(line="ph", amount_pence=50), actor="t.council", request_id="same"
    )
    assert again.replayed
    assert not first.replayed
    assert (again.seq, again.hash, again.status) == (first.seq, first.hash, first.status)
    assert (
        ledger.position(fund, actor="t.public").lines.set_index("line").loc["ph", "actual_pence"]
        == 50
    )


def test_a_request_id_reused_for_other_content_is_refused(ledger: Ledger) -> None:
    fund = funded(ledger)
    ledger.post(fund, Spend(line="ph", amount_pence=50), actor="t.council", request_id="same")
    before = entries(ledger, fund)
    with pytest.raises(LedgerError, match="used before for a different request"):
        ledger.post(fund, Spend(line="ph", amount_pence=51), actor="t.council", request_id="same")
    assert entries(ledger, fund) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"line": "nope", "amount_pence": 5}, "'nope' is not a line of fund"),
        ({"line": "asc", "amount_pence": -5}, "positive amount"),
        ({"line": "asc", "amount_pence": 0}, "positive amount"),
        ({"line": "asc", "amount_pence": 1.5}, "whole number of pence"),
        ({"line": "asc", "amount_pence": "5"}, "whole number of pence"),
        ({"line": "asc", "amount_pence": True}, "whole number of pence"),
        ({"line": "asc", "amount_pence": 5, "period": "2027-04"}, "not a month of the fund's year"),
    ],
)
def test_bad_spend_is_refused_and_nothing_is_written(
    ledger: Ledger, fields: dict[str, object], message: str
) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    with pytest.raises(LedgerError, match=message):
        ledger.post_one(fund, LedgerRequest("spend", "t.council", "bad", fields))
    assert entries(ledger, fund) == before


def test_unknown_partner_is_refused(ledger: Ledger) -> None:
    fund = open_fund(ledger)
    with pytest.raises(LedgerError, match="'C9' is not a partner"):
        ledger.post(
            fund, Contribute(partner="C9", amount_pence=5), actor="t.council", request_id="x"
        )


def test_posting_into_a_closed_period_is_refused(ledger: Ledger) -> None:
    fund = funded(ledger)
    ledger.post(fund, ClosePeriod(), actor="t.nhs", request_id="close-apr")
    before = entries(ledger, fund)
    with pytest.raises(
        LedgerError, match="period 2026-04 is closed; the first open period is 2026-05"
    ):
        ledger.post(
            fund,
            Spend(line="asc", amount_pence=5, period="2026-04"),
            actor="t.council",
            request_id="late",
        )
    assert entries(ledger, fund) == before
    receipt = ledger.post(
        fund, Spend(line="asc", amount_pence=5), actor="t.council", request_id="ok"
    )
    assert receipt.status == "posted"


def test_periods_close_in_order(ledger: Ledger) -> None:
    fund = funded(ledger)
    with pytest.raises(LedgerError, match="close 2026-04 before 2026-06"):
        ledger.post(fund, ClosePeriod(period="2026-06"), actor="t.nhs", request_id="c")


def test_a_batch_is_all_or_nothing(ledger: Ledger) -> None:
    fund = funded(ledger)
    before = entries(ledger, fund)
    batch = [
        LedgerRequest("spend", "t.council", "b1", {"line": "asc", "amount_pence": 10}),
        LedgerRequest("spend", "t.council", "b2", {"line": "asc", "amount_pence": -1}),
    ]
    with pytest.raises(LedgerError, match=r"request 2 \(b2\): amount_pence"):
        ledger.submit(fund, batch)
    assert entries(ledger, fund) == before
    good = [
        LedgerRequest("spend", "t.council", f"g{i}", {"line": "asc", "amount_pence": 10})
        for i in range(5)
    ]
    receipts = ledger.submit(fund, good)
    assert [r.seq for r in receipts] == list(range(before + 1, before + 6))


def test_allocation_cannot_exceed_the_unallocated_pool(ledger: Ledger) -> None:
    fund = open_fund(ledger)
    ledger.post(fund, Contribute(partner="NHS", amount_pence=100), actor="t.nhs", request_id="c")
    with pytest.raises(LedgerError, match=r"exceeds the fund's unallocated £1\.00"):
        ledger.post(
            fund, Allocate(allocations=[("acute", 60), ("mh", 41)]), actor="t.nhs", request_id="a"
        )


def test_an_unbalanced_entry_cannot_be_built() -> None:
    with pytest.raises(LedgerError, match="unbalanced spend entry: postings sum to 5 pence"):
        Entry("spend", "2026-04", "x", (Posting("spend", 5, "spend", line="asc"),))


def test_a_reversal_undoes_an_entry_once(ledger: Ledger) -> None:
    fund = funded(ledger)
    spent = ledger.post(
        fund, Spend(line="asc", amount_pence=999), actor="t.council", request_id="s"
    )
    ledger.post(
        fund, Reverse(entry=spent.seq, reason="posted twice"), actor="t.council", request_id="r"
    )
    asc = ledger.position(fund, actor="t.public").lines.set_index("line").loc["asc"]
    assert asc["actual_pence"] == 0
    with pytest.raises(LedgerError, match="already been reversed"):
        ledger.post(
            fund, Reverse(entry=spent.seq, reason="again"), actor="t.council", request_id="r2"
        )


def test_a_contribution_already_allocated_cannot_be_reversed(ledger: Ledger) -> None:
    fund = open_fund(ledger)
    paid = ledger.post(
        fund, Contribute(partner="NHS", amount_pence=100), actor="t.nhs", request_id="c"
    )
    ledger.post(fund, Allocate(allocations=[("acute", 100)]), actor="t.nhs", request_id="a")
    with pytest.raises(LedgerError, match=r"the unallocated pool holds £0\.00"):
        ledger.post(fund, Reverse(entry=paid.seq, reason="error"), actor="t.nhs", request_id="r")


def test_the_database_refuses_updates_and_deletes(ledger: Ledger) -> None:
    fund = funded(ledger)
    for statement in (
        "UPDATE postings SET amount_pence = amount_pence + 1",
        "DELETE FROM postings",
        "UPDATE journal SET description = 'changed'",
        "DELETE FROM journal",
        "UPDATE lines SET partner_id = 'C1'",
        "DELETE FROM funds",
    ):
        with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as connection:
            connection.execute(text(statement))
    assert ledger.verify(fund).ok


def test_roles_limit_who_posts_where(ledger: Ledger) -> None:
    fund = funded(ledger)
    with pytest.raises(PermissionDenied, match="only those of C1 may record spend"):
        ledger.post(fund, Spend(line="asc", amount_pence=5), actor="t.nhs", request_id="x")
    with pytest.raises(PermissionDenied, match="needs the finance role"):
        ledger.post(fund, Spend(line="asc", amount_pence=5), actor="t.auditor", request_id="y")
    with pytest.raises(PermissionDenied, match="only those of NHS may record a contribution"):
        ledger.post(
            fund, Contribute(partner="NHS", amount_pence=5), actor="t.council", request_id="z"
        )
    with pytest.raises(PermissionDenied, match="not a user of fund"):
        ledger.post(fund, Spend(line="asc", amount_pence=5), actor="someone", request_id="w")
    with pytest.raises(PermissionDenied, match="only those of NHS may close a period"):
        ledger.post(fund, ClosePeriod(), actor="t.council", request_id="v")
    with pytest.raises(PermissionDenied, match="needs the board role"):
        ledger.post(fund, Settle(), actor="t.nhs", request_id="u")


def test_only_the_host_allocates_a_pooled_fund(ledger: Ledger) -> None:
    fund = open_fund(ledger)
    ledger.post(fund, Contribute(partner="C1", amount_pence=100), actor="t.council", request_id="c")
    with pytest.raises(PermissionDenied, match="only those of NHS may allocate"):
        ledger.post(fund, Allocate(allocations=[("asc", 100)]), actor="t.council", request_id="a")


def test_a_partner_cannot_reverse_what_takes_from_another(ledger: Ledger) -> None:
    fund = funded(ledger)
    allocation = 4  # to the NHS's and the council's lines
    with pytest.raises(PermissionDenied, match="only those of NHS may reverse"):
        ledger.post(
            fund, Reverse(entry=allocation, reason="mine"), actor="t.council", request_id="r"
        )


def test_reversing_a_spend_restores_its_commitment(ledger: Ledger) -> None:
    fund = funded(ledger)
    order = ledger.post(
        fund, Commit(line="asc", amount_pence=1_000), actor="t.council", request_id="k"
    )
    paid = ledger.post(
        fund,
        Spend(line="asc", amount_pence=400, commitment=order.seq),
        actor="t.council",
        request_id="s",
    )
    ledger.post(
        fund, Reverse(entry=paid.seq, reason="wrong invoice"), actor="t.council", request_id="r"
    )
    ledger.post(
        fund,
        Spend(line="asc", amount_pence=1_000, commitment=order.seq),
        actor="t.council",
        request_id="s2",
    )
    asc = ledger.position(fund, actor="t.public").lines.set_index("line").loc["asc"]
    assert asc["committed_pence"] == 0
    assert asc["actual_pence"] == 1_000


def test_closing_a_month_does_not_change_the_position(ledger: Ledger) -> None:
    fund = funded(ledger)
    ledger.post(fund, Spend(line="asc", amount_pence=321), actor="t.council", request_id="s")
    ledger.post(fund, Forecast(line="mh", outturn_pence=2_900), actor="t.nhs", request_id="f")
    before = ledger.position(fund, actor="t.public")
    ledger.post(fund, ClosePeriod(), actor="t.nhs", request_id="close-april")
    ledger.post(fund, Spend(line="asc", amount_pence=1), actor="t.council", request_id="may")
    after = ledger.position(fund, actor="t.public", period="2026-04")
    pd.testing.assert_frame_equal(before.lines, after.lines)
    assert ledger.position(fund, actor="t.public").totals["actual_pence"] == 322
    assert ledger.verify(fund).ok
