"""The demonstration's story, step by step: the model, its headline outcomes, the pool shared
between the boroughs, and a year of the pooled fund.

Each step is a plain call that returns what a shell shows; ``carepool demo`` prints them in
turn. The demonstration uses the capabilities as any user would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from carepool.allocation import Allocation, AllocationRequest, Formula, resolve, run_allocation
from carepool.demo.fund import ICB
from carepool.demo.posting import DemoRun, run_demo
from carepool.indicators import GAP_LEVELS, gaps_from_table, indicator_table
from carepool.ledger import ChainCheck, Ledger, Position
from carepool.prevention import (
    AppraisalRequest,
    InterventionAppraisal,
    PortfolioPlan,
    PortfolioRequest,
    appraise,
    model_inputs,
    plan_portfolio,
    portfolio_lines,
)
from carepool.projection import ProjectionRequest, ProjectionResult, project
from carepool.warehouse import Tables

#: The outcomes the demonstration leads with: the priorities (cancer, mental health, learning
#: disabilities) and the gap in life expectancy.
HEADLINES = (
    "life_expectancy_male",
    "life_expectancy_female",
    "u75_mortality_all_causes",
    "u75_mortality_cancer",
    "cancer_early_stage",
    "talking_therapies_recovery",
    "ld_health_checks",
    "emergency_admissions",
    "care_closer_to_home",
)

#: The model the demonstration's own fund belongs to; any other gets a fund of its own.
DEFAULT_MODEL = ("gm", 1.0, 42)
#: The prevention budget the demonstration chooses a portfolio within: a fifth of one per
#: cent of the pool a year (£12m of Greater Manchester's £6bn; scaled with a smaller model).
PREVENTION_SHARE_OF_POOL = 0.002
#: Draws of the demonstration's Monte Carlo: enough for each partner's chance of gaining to
#: within about a point.
PREVENTION_DRAWS = 2_000


#: The outlook the demonstration ends with: ten years of the baseline beside one reform, with
#: enough draws for each partner's band to settle to within a few per cent.
OUTLOOK_SCENARIOS = ("baseline", "cap-on-care-costs")
OUTLOOK_YEARS = 10
OUTLOOK_DRAWS = 500


@dataclass(frozen=True)
class Headlines:
    """The headline outcomes for the region in the latest year, and their gaps."""

    period: str
    region: pd.DataFrame
    gaps: pd.DataFrame


@dataclass(frozen=True)
class FundYear:
    """A year of the pooled fund as posted: the run, and what the public may read of it."""

    run: DemoRun
    position: Position
    decisions: pd.DataFrame
    journal: ChainCheck


def headline_outcomes(warehouse: Tables) -> Headlines:
    """The headline indicators for the region in the latest year; region against England and
    the slope index of inequality across deprivation deciles."""
    table = indicator_table(warehouse, indicators=HEADLINES, levels=GAP_LEVELS)
    latest = str(table["period"].max())
    region = table[(table["level"] == "region") & (table["period"] == latest)]
    gaps = gaps_from_table(table)
    shown = gaps["measure"].isin(["region_minus_england", "sii"]) & (gaps["period"] == latest)
    return Headlines(latest, region, gaps[shown])


def default_allocation(warehouse: Tables) -> tuple[Allocation, Formula]:
    """The default pool shared between the boroughs by the default formula, no baseline."""
    run = resolve(warehouse, AllocationRequest())
    return run_allocation(warehouse, run), run.formula


def post_fund_year(
    ledger: Ledger,
    warehouse: Tables,
    manifest: dict[str, Any],
    allocation: Allocation,
    formula: Formula,
    prevention: PortfolioPlan | None = None,
) -> FundYear:
    """Open the pooled fund, allocate it, post the model's last year of spend; with a
    prevention portfolio, its lines funded by virements the board approves and its gain-share
    agreement; the fund's position, decisions register and journal check as the public sees
    them."""
    model = (manifest["region"], manifest["scale"], manifest["seed"])
    label = "" if model == DEFAULT_MODEL else "{} scale {} seed {}".format(*model)
    lines = None
    if prevention is not None:
        icbs = {
            p: ICB
            for p in prevention.portfolio.partners
            if p not in allocation.places["place"].tolist()
        }
        lines = portfolio_lines(prevention, icbs)
    run = run_demo(ledger, allocation, formula, warehouse, manifest["years"][-1], label, lines)
    return FundYear(
        run=run,
        position=ledger.position(run.fund, actor="resident"),
        decisions=ledger.decisions(run.fund, actor="resident"),
        journal=ledger.verify(run.fund),
    )


@dataclass(frozen=True)
class Prevention:
    """The default library appraised, and the portfolio chosen within the budget."""

    appraisals: list[InterventionAppraisal]
    plan: PortfolioPlan
    budget: float


def prevention_story(warehouse: Tables, allocation: Allocation, scale: float) -> Prevention:
    """Appraise the default intervention library on the model, and choose the best portfolio
    within a prevention budget of :data:`PREVENTION_SHARE_OF_POOL` of the pool a year (the
    pool, like the model, at the model's scale)."""
    inputs = model_inputs(warehouse, (), ())  # read once: cohorts, prices, risk scores
    appraisals = appraise(warehouse, AppraisalRequest(draws=PREVENTION_DRAWS), inputs=inputs)
    budget = float(allocation.places["allocation"].sum()) * PREVENTION_SHARE_OF_POOL * scale
    plan = plan_portfolio(warehouse, PortfolioRequest(budget=budget), inputs=inputs)
    return Prevention(appraisals, plan, budget)


def ten_year_outlook(warehouse: Tables) -> ProjectionResult:
    """Ten years ahead by partner under the baseline and the 2021 cap on care costs."""
    request = ProjectionRequest(
        scenarios=OUTLOOK_SCENARIOS, years=OUTLOOK_YEARS, level="lad", draws=OUTLOOK_DRAWS
    )
    return project(warehouse, request)
