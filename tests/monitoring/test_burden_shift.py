"""The burden-shift monitor flags a place where one partner's cut meets another's rising cost."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from carepool.cli.fund_tables import print_burden_shift
from carepool.cli.support import out
from carepool.config import Settings
from carepool.ledger import Allocate, Ledger, LedgerRequest, Spend
from carepool.monitoring import LINKS, burden_shift, chart, flag_shifts
from carepool.warehouse import connect
from carepool.years import quarter
from tests.ledger.conftest import open_fund

PLACES = ("E08000003", "E08000009")
LINK_ROW_MANCHESTER = 0  # ledger rows come link by link, place by place


def two_place_fund(ledger: Ledger) -> str:
    lines = []
    partners = [{"id": "NHS", "name": "NHS Test ICB", "kind": "nhs_commissioner"}]
    users = [
        {"name": "t.admin", "roles": ["admin"]},
        {"name": "t.nhs", "partner": "NHS", "roles": ["finance"]},
        {"name": "t.public", "roles": ["public"]},
    ]
    for place in PLACES:
        partners.append({"id": place, "name": f"Council {place}", "kind": "council"})
        users.append({"name": f"t.{place}", "partner": place, "roles": ["finance"]})
        lines.append({"id": f"acute:{place}", "service": "acute", "place": place, "partner": "NHS"})
        lines.append(
            {"id": f"asc:{place}", "service": "adult_social_care", "place": place, "partner": place}
        )
    fund = open_fund(ledger, partners=partners, users=users, lines=lines)
    contributors = ["NHS", *PLACES]
    ledger.submit(
        fund,
        [
            LedgerRequest(
                "contribute",
                "t.nhs" if p == "NHS" else f"t.{p}",
                f"c{p}",
                {"partner": p, "amount_pence": 10**6},
            )
            for p in contributors
        ],
    )
    ledger.post(
        fund,
        Allocate(allocations=[(line["id"], 7 * 10**5) for line in lines]),
        actor="t.nhs",
        request_id="a",
    )
    return fund


def spend(ledger: Ledger, fund: str, line: str, period: str, amount: int) -> None:
    owner = "t.nhs" if line.startswith("acute") else f"t.{line.split(':')[1]}"
    ledger.post(
        fund,
        Spend(line=line, amount_pence=amount, period=period),
        actor=owner,
        request_id=f"{line}-{period}",
    )


def a_shift_in_manchester(ledger: Ledger) -> pd.DataFrame:
    """Manchester cuts social care as acute spend rises; Trafford's acute rises alone."""
    fund = two_place_fund(ledger)
    manchester, trafford = PLACES
    for period, asc, acute in (("2026-05", 10_000, 10_000), ("2026-08", 9_000, 11_000)):
        spend(ledger, fund, f"asc:{manchester}", period, asc)
        spend(ledger, fund, f"acute:{manchester}", period, acute)
        spend(ledger, fund, f"asc:{trafford}", period, 10_000)
        spend(ledger, fund, f"acute:{trafford}", period, 10_000 if period == "2026-05" else 12_000)
    return burden_shift(ledger, fund, actor="t.public")


def test_a_cut_in_social_care_with_rising_acute_spend_is_flagged(ledger: Ledger) -> None:
    manchester, trafford = PLACES
    evidence = a_shift_in_manchester(ledger)
    ledger_rows = evidence[evidence["source"] == "ledger"].set_index(["link", "place"])
    link = LINKS[0].name
    assert bool(ledger_rows.loc[(link, manchester), "flagged"])
    row = ledger_rows.reset_index().to_dict("records")[LINK_ROW_MANCHESTER]
    assert (round(row["cut_change"], 12), round(row["rise_change"], 12)) == (-0.1, 0.1)
    assert ledger_rows.loc[(link, manchester), "before"] == "2026-27 Q1"
    # acute rose in Trafford too, but social care was not cut: no shift
    assert not bool(ledger_rows.loc[(link, trafford), "flagged"])


def test_the_table_says_what_each_row_found(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row's finding in words (not one flag word on some rows and nothing on others),
    places by name, and the chart hint only when no chart was written."""
    monkeypatch.setattr(out, "width", 400)  # each cell on one line, to read it whole
    evidence = a_shift_in_manchester(ledger)
    print_burden_shift(evidence, 0.02)
    text = " ".join(capsys.readouterr().out.split())
    assert "shift? both moved more than 2%" in text
    assert "no cut" in text
    assert "Manchester" in text
    assert "Trafford" in text
    assert "E08000003" not in text
    assert "-0.0%" not in text
    assert "chart: --chart FILE" in text
    print_burden_shift(evidence, 0.02, chart_written=True)
    assert "--chart" not in capsys.readouterr().out


def test_activity_from_the_warehouse(ledger: Ledger, small_warehouse: Path) -> None:
    fund = two_place_fund(ledger)
    with connect(Settings(small_warehouse.parent, "duckdb"), warehouse_dir=small_warehouse) as wh:
        evidence = burden_shift(ledger, fund, actor="t.public", warehouse=wh)
    activity = evidence[evidence["source"] == "activity"]
    assert set(activity["place"]) == set(PLACES)
    assert set(activity["rise_measure"]) == {"delayed_discharge_days", "ae_attendances"}
    assert (activity["cut_before"] > 0).all()
    assert list(activity["before"].unique()) == ["2024-25"]


def test_the_rule_in_isolation(tmp_path: Path) -> None:
    spend_table = pd.DataFrame(columns=["place", "service", "partner_kind", "quarter", "pence"])
    activity = pd.DataFrame(
        {
            "place": ["A", "A", "B", "B"],
            "year": ["2024-25", "2025-26", "2024-25", "2025-26"],
            "asc_home_care_hours": [100.0, 97.0, 100.0, 99.0],
            "delayed_discharge_days": [50.0, 52.0, 50.0, 60.0],
            "ae_attendances": [10.0, 10.0, 10.0, 10.0],
        }
    )
    evidence = flag_shifts(spend_table, activity, ["A", "B"], threshold=0.02)
    flags = evidence.set_index(["link", "place"])["flagged"]
    assert bool(flags[(LINKS[0].name, "A")])  # -3% home care, +4% delayed days
    assert not bool(flags[(LINKS[0].name, "B")])  # -1%: under the threshold
    assert not bool(flags[(LINKS[1].name, "A")])  # A&E flat
    path = chart(evidence, tmp_path / "shift.html")
    assert "Burden shifting" in path.read_text(encoding="utf-8")


def test_quarters_follow_the_financial_year() -> None:
    assert quarter("2026-04") == "2026-27 Q1"
    assert quarter("2026-12") == "2026-27 Q3"
    assert quarter("2027-03") == "2026-27 Q4"
