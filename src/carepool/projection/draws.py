"""The Monte Carlo draws: each uncertain assumption drawn once per draw, seeded, as arrays.

Draw 0 is the scenario's central case (every assumption at its stated value); draws 1..N are
the uncertainty. The population's variants are taken as the 10th and 90th percentiles of a
normal distribution about the chosen one: ONS's variants are described as plausible
alternatives, not bounds. The demand trends, unit-cost growth and income growth each get one
normal deviation a draw (the same every year: a draw is one possible future, not year-to-year
noise). Net migration moves together across boroughs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.projection.assumptions import FERTILITY, IMPROVEMENT, Assumptions
from carepool.projection.scenarios import Scenario

FloatArray = npt.NDArray[np.float64]

#: The 90th percentile of a standard normal: variants at P10 and P90 are 2 x 1.2816 sd apart.
_P90_Z: Final = 1.2815515655446004
TREND_GROUPS: Final = ("conditions", "admissions", "activity", "social_care")


@dataclass(frozen=True)
class Draws:
    """Each draw's assumptions, draw 0 the central case."""

    improvement: FloatArray  # (draws,) mortality improvement a year
    fertility: FloatArray  # (draws,) factor on each authority's level
    migration: FloatArray  # (draws, lad) net migrants a year
    trends: FloatArray  # (draws, group) yearly change in rates, groups as TREND_GROUPS
    nhs_cost_growth: FloatArray  # (draws,) real unit-cost growth a year
    social_care_cost_growth: FloatArray  # (draws,)
    income_shift: FloatArray  # (draws,) added to every partner's real income growth

    @property
    def count(self) -> int:
        return int(self.improvement.size)


def _spread(low: float | FloatArray, high: float | FloatArray) -> FloatArray:
    spread: FloatArray = np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)
    return spread / (2.0 * _P90_Z)


def make_draws(scenario: Scenario, assumptions: Assumptions, draws: int, seed: int) -> Draws:
    """``draws`` draws (plus the central case) of the uncertain assumptions."""
    rng = np.random.default_rng(seed)
    n = draws + 1
    z = rng.standard_normal((n, 7))
    z[0] = 0.0
    uncertain = scenario.uncertainty
    pop = 1.0 if uncertain.population else 0.0
    chosen = scenario.population
    improvement = IMPROVEMENT[chosen.life_expectancy] + pop * z[:, 0] * _spread(
        IMPROVEMENT["low"], IMPROVEMENT["high"]
    )
    fertility = FERTILITY[chosen.fertility] + pop * z[:, 1] * _spread(
        FERTILITY["low"], FERTILITY["high"]
    )
    levels = assumptions.migration_level
    migration = (
        levels[chosen.migration][None, :]
        + pop * z[:, 2, None] * _spread(levels["low"], levels["high"])[None, :]
    )
    demand = scenario.demand
    centre = np.array([demand.conditions, demand.admissions, demand.activity, demand.social_care])
    trends = centre[None, :] + uncertain.demand_trend * z[:, 3, None]
    costs = scenario.costs
    return Draws(
        improvement=np.clip(improvement, -0.02, 0.05),
        fertility=np.clip(fertility, 0.3, 2.0),
        migration=migration,
        trends=np.clip(trends, -0.2, 0.2),
        nhs_cost_growth=costs.nhs_real_unit_cost_growth + uncertain.unit_cost_growth * z[:, 4],
        social_care_cost_growth=costs.social_care_real_unit_cost_growth
        + uncertain.unit_cost_growth * z[:, 5],
        income_shift=uncertain.income_growth * z[:, 6],
    )
