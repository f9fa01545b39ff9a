"""The prevention scenario's hook: the portfolio carepool chooses within a yearly budget
(``carepool portfolio``), carried into demand.

Each chosen option is an intervention offered to a share of one borough's cohort. Its appraisal
(``carepool appraise``, on the same model) says how many emergency admissions, bed days, care
home weeks and other events the whole cohort avoids over five years; the option's part is its
borough's share of the cohort times the share chosen. A fifth of the five years' events is a
year's; as a share of the region's events in the model's base year it is the effect by the last
projected year, reached evenly (a portfolio takes years to reach everyone it is for).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Final

import numpy as np

from carepool.prevention import (
    AppraisalRequest,
    PortfolioRequest,
    appraise,
    model_inputs,
    plan_portfolio,
)
from carepool.projection.ages import to_groups
from carepool.projection.base import BasePopulation
from carepool.projection.demand import MEASURE_NAMES, DemandRates
from carepool.projection.scenarios import Prevention
from carepool.warehouse import Tables

APPRAISAL_YEARS: Final = 5


@dataclass(frozen=True)
class PreventionEffects:
    """A portfolio's effects on demand by the last year (``-0.01``: 1% fewer), and what it is."""

    effects: dict[str, float]
    interventions: tuple[str, ...]
    budget_pounds: float
    cost_pounds_a_year: float
    #: what each partner pays for the portfolio a year (its mean over the five years), pounds
    cost_by_partner: dict[str, float]


def prevention_effects(
    warehouse: Tables, settings: Prevention, base: BasePopulation, rates: DemandRates
) -> PreventionEffects:
    """The effects of the portfolio chosen within ``settings.portfolio_budget`` a year."""
    budget = float(settings.portfolio_budget or 0.0)
    inputs = model_inputs(warehouse, (), ())
    # the portfolio's costs are the model's people's: its budget is the real one at scale
    plan = plan_portfolio(
        warehouse,
        PortfolioRequest(
            budget=budget * base.scale, years=APPRAISAL_YEARS, fair=settings.portfolio_fair
        ),
        inputs=inputs,
    )
    chosen = plan.portfolio.chosen
    if not chosen:
        return PreventionEffects({}, (), budget, 0.0, {})
    appraisals = {
        a.intervention.id: a
        for a in appraise(
            warehouse, AppraisalRequest(years=APPRAISAL_YEARS, draws=0), inputs=inputs
        )
    }
    cohorts: dict[str, float] = defaultdict(float)
    for option in plan.options:
        cohorts[option.intervention] += option.cohort
    # the appraisals count the model's people: as many real people as the scale says
    real = 1.0 / base.scale
    avoided: dict[str, float] = defaultdict(float)
    paid: dict[str, float] = defaultdict(float)
    for pick in chosen:
        option = pick.option
        nhs, council = option.cost_by_payer.mean(axis=-1) * pick.share * real
        paid[option.nhs_partner] += float(nhs)
        paid[option.place] += float(council)
        part = option.cohort / max(cohorts[option.intervention], 1.0) * pick.share
        for outcome, events in appraisals[option.intervention].avoided.items():
            if outcome in MEASURE_NAMES:
                avoided[outcome] += events * part * real / APPRAISAL_YEARS
    groups = to_groups(base.by_lad())  # (lad, sex, group)
    today = np.einsum("lsg,lsgk->k", groups, rates.rates)
    effects = {
        name: max(-0.9, float(-events / today[MEASURE_NAMES.index(name)]))
        for name, events in avoided.items()
        if today[MEASURE_NAMES.index(name)] > 0 and events > 0
    }
    return PreventionEffects(
        effects=effects,
        interventions=tuple(sorted({pick.option.intervention for pick in chosen})),
        budget_pounds=budget,
        cost_pounds_a_year=float(np.mean(plan.portfolio.cost_by_year)) * real,
        cost_by_partner=dict(paid),
    )
