"""The model's public figures, computed once when the model is built or the demonstration
runs: places, allocations and why, indicators and gaps (through disclosure control), and the
prevention appraisals and portfolio (their cohort counts through it too)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from carepool.allocation import Allocation
from carepool.indicators import HES_RULE, gap_table, indicator_table, protect
from carepool.prevention import (
    InterventionAppraisal,
    PortfolioPlan,
    appraisal_record,
    portfolio_record,
)
from carepool.warehouse import Tables

PLACE_COLUMNS = ["place", "name", "level", "population", "need_index", "target_share"]
ALLOCATION_COLUMNS = ["place", "name", "target", "allocation", "per_head", "distance_from_target"]


def allocation_tables(allocation: Allocation) -> dict[str, pd.DataFrame]:
    places = allocation.places
    steps = allocation.steps.rename(columns={"amount": "running_total_pounds"})
    allocations = places[ALLOCATION_COLUMNS].rename(
        columns={
            "target": "target_pounds",
            "allocation": "allocation_pounds",
            "per_head": "per_head_pounds",
        }
    )
    return {
        "places": places[PLACE_COLUMNS].rename(columns={"population": "residents"}),
        "allocations": allocations,
        "allocation_steps": steps.rename(
            columns={"change": "change_pounds", "per_head": "per_head_pounds"}
        ),
    }


#: The outcomes whose gaps within each place are published (cancer, the first priority, is in
#: premature mortality; the other priorities' indicators are too sparse for a gap per place).
PLACE_GAP_INDICATORS = (
    "life_expectancy_male",
    "life_expectancy_female",
    "u75_mortality_all_causes",
    "u75_mortality_cancer",
    "emergency_admissions",
)
PLACE_GAP_MEASURES = ("place_minus_england", "q1_minus_q5", "sii")


def place_gap_table(warehouse: Tables, places: list[str], year: str) -> pd.DataFrame:
    """Each place's inequality in the latest year: against England, between its most and
    least deprived fifths, and its slope index across its own deprivation deciles, through
    the disclosure rule (a hidden figure stays missing)."""
    frames = []
    for place in places:
        gaps = gap_table(
            warehouse, place=place, indicators=PLACE_GAP_INDICATORS, years=[year], rule=HES_RULE
        )
        gaps = gaps[(gaps["period"] == year) & gaps["measure"].isin(PLACE_GAP_MEASURES)]
        frames.append(gaps.assign(place=place))
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    first = ["place", "indicator", "period", "measure"]
    return frame[first + [c for c in frame.columns if c not in first]]


def outcome_tables(warehouse: Tables) -> dict[str, pd.DataFrame]:
    """Every indicator for the region and its places, every year, and the region's gaps: both
    through the disclosure rule, as ``carepool indicators`` publishes them."""
    indicators = indicator_table(warehouse, levels=("region", "lad"), rule=HES_RULE)
    gaps = gap_table(warehouse, rule=HES_RULE)
    places = sorted(indicators.loc[indicators["level"] == "lad", "place"].unique())
    latest = str(indicators["period"].max())
    return {
        "indicators": indicators.reset_index(drop=True),
        "gaps": gaps.reset_index(drop=True),
        "place_gaps": place_gap_table(warehouse, places, latest),
        "neighbourhoods": neighbourhood_table(warehouse),
    }


#: The outcomes the map of neighbourhoods can be coloured by.
NEIGHBOURHOOD_INDICATORS = ("emergency_admissions", "u75_mortality_all_causes")


def neighbourhood_table(warehouse: Tables) -> pd.DataFrame:
    """Each neighbourhood (MSOA): its place, deprivation (IoD2025 score, weighted by the
    LSOAs' residents), residents in the model, and the map's outcomes in the latest year,
    through the disclosure rule (a suppressed value stays missing)."""
    lsoa = warehouse.to_pandas(warehouse.table("lsoa"))
    lsoa["weighted"] = lsoa["imd_score"] * lsoa["residents"]
    grouped = lsoa.groupby(["msoa21_code", "msoa21_name", "lad_code", "lad_name"], as_index=False)
    frame = grouped[["weighted", "residents"]].sum()
    frame["imd_score"] = (
        frame.pop("weighted") / frame["residents"].where(frame["residents"] > 0)
    ).round(2)
    frame = frame.rename(
        columns={
            "msoa21_code": "neighbourhood",
            "msoa21_name": "name",
            "lad_code": "place",
            "lad_name": "place_name",
        }
    )
    outcomes = indicator_table(
        warehouse, indicators=NEIGHBOURHOOD_INDICATORS, levels=("msoa",), rule=HES_RULE
    )
    latest = outcomes[outcomes["period"] == outcomes["period"].max()]
    wide = latest.pivot_table(index="place", columns="indicator", values="value", dropna=False)
    wide = wide.reindex(columns=list(NEIGHBOURHOOD_INDICATORS)).round(1)
    frame = frame.merge(wide, left_on="neighbourhood", right_index=True, how="left")
    frame["period"] = str(latest["period"].max()) if len(latest) else None
    return frame.sort_values("neighbourhood").reset_index(drop=True)


def prevention_tables(
    appraisals: Sequence[InterventionAppraisal], plan: PortfolioPlan | None
) -> dict[str, pd.DataFrame]:
    """The appraisals and the portfolio as tables. An intervention's cohort is a count of
    people: it passes the disclosure rule like any other (a cohort of 1-7 is hidden)."""
    records = [appraisal_record(a) for a in appraisals]
    summary = pd.DataFrame(
        [
            {
                "intervention": r["id"],
                "name": r["name"],
                "year": r["year"],
                "cohort": r["cohort"],
                "participants": r["participants"],
                "cost_pence": r["cost_pence"],
                "benefit_pence": r["benefit_pence"],
                "npv_pence": r["npv_pence"],
                "bcr": r["bcr"],
                "qalys": r["qalys"],
                "cost_per_qaly": r["cost_per_qaly"],
                "p_npv_positive": r["p_npv_positive"],
                "fair_shares": r["fair_shares"]["statement"],
            }
            for r in records
        ]
    )
    if not summary.empty:
        summary = protect(summary, count="cohort", derived=["participants"]).drop(
            columns=["suppressed"], errors="ignore"
        )
    partners = pd.DataFrame(
        [{"intervention": r["id"], **p} for r in records for p in r["by_partner"]]
    )
    tables = {"interventions": summary, "intervention_partners": partners}
    if plan is not None:
        record = portfolio_record(plan)
        tables["portfolio"] = pd.DataFrame(record["chosen"])
        tables["portfolio_partners"] = pd.DataFrame(record["partners"])
    return tables
