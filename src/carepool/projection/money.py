"""Money by partner: the cost of the projected demand, each partner's income under the
scenario's settlement, and the gap between them, at constant prices and in cash.

The ICB pays for NHS services in every borough; each council pays its share of its borough's
adult social care (the rest is what people pay). Income starts from what each partner spends in
the model's base year (times ``1 + headroom``) and grows at the scenario's real rates: the ICB's
allocation; a council's spending power on its social care, with the Better Care Fund's share
growing at its own rate. The gap is cost less income: above nothing, the partner's budget no
longer covers its share (``docs/methods/projection.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.projection.draws import Draws
from carepool.projection.engine import COLUMNS, Projected
from carepool.projection.scenarios import Scenario

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    kind: str  # "nhs" or "council"
    place: str  # the area it pays for: the region (the ICB) or its borough


@dataclass(frozen=True)
class Money:
    """Each partner's cost, income and gap, ``(year, partner, draw)``, in pounds at constant
    prices; ``cash`` is each year's price index on them."""

    partners: tuple[Partner, ...]
    cost: FloatArray
    income: FloatArray
    cash: FloatArray  # (year,)

    @property
    def gap(self) -> FloatArray:
        gap: FloatArray = self.cost - self.income
        return gap

    def first_year_short(self, years: tuple[str, ...]) -> dict[str, str | None]:
        """Each partner's first year from which its central case costs more than its income
        every year to the end (a shortfall that lasts, not a year's blip); None where the last
        year is covered."""
        result: dict[str, str | None] = {}
        for p, partner in enumerate(self.partners):
            covered = np.flatnonzero(self.gap[:, p, 0] <= 0)
            last_covered = int(covered[-1]) if covered.size else -1
            result[partner.code] = (
                years[last_covered + 1] if last_covered + 1 < len(years) else None
            )
        return result

    def probability_gap_above(self, partner: int, year: int, pounds: float) -> float:
        """The share of draws in which ``partner``'s gap in ``year`` (an index) exceeds
        ``pounds`` at constant prices; the central case alone when there are no draws."""
        draws = self.gap[year, partner, 1:] if self.gap.shape[2] > 1 else self.gap[year, partner]
        return float(np.mean(draws > pounds))


def _path(rates: list[float], horizon: int, shift: FloatArray) -> FloatArray:
    """Cumulative growth ``(year, draw)`` from yearly real rates (the last repeats)."""
    yearly = np.array([rates[min(t, len(rates) - 1)] for t in range(horizon)])
    growth = 1.0 + yearly[:, None] + shift[None, :]
    path: FloatArray = np.concatenate([np.ones((1, shift.size)), np.cumprod(growth, axis=0)])
    return path


def partner_money(
    projected: Projected,
    partners: tuple[Partner, ...],
    scenario: Scenario,
    draws: Draws,
    extra_cost: dict[str, float] | None = None,
) -> Money:
    """Cost, income and gap by partner for every draw: the ICB first, then the councils in
    the order of the model's boroughs. ``extra_cost`` (pounds a year by partner code, at
    constant prices) is added in every projected year: what a prevention portfolio costs."""
    horizon = len(projected.years) - 1
    nhs = projected.lad[..., COLUMNS.index("nhs_cost_pence")].sum(axis=1) / 100.0
    council = projected.lad[..., COLUMNS.index("council_cost_pence")] / 100.0
    cost = np.concatenate([nhs[:, None, :], council], axis=1)  # (year, partner, draw)
    for p, partner in enumerate(partners):
        cost[1:, p, :] += (extra_cost or {}).get(partner.code, 0.0)
    income_settings = scenario.income
    start = cost[0] * (1.0 + income_settings.headroom)
    nhs_path = _path(income_settings.nhs_real_growth, horizon, draws.income_shift)
    council_path = _path(income_settings.council_real_growth, horizon, draws.income_shift)
    better_care = _path(income_settings.better_care_real_growth, horizon, draws.income_shift)
    share = income_settings.better_care_share
    council_growth = (1.0 - share) * council_path + share * better_care
    growth = np.concatenate(
        [nhs_path[:, None, :], np.repeat(council_growth[:, None, :], council.shape[1], axis=1)],
        axis=1,
    )
    income = start[None] * growth
    inflation = scenario.costs.inflation
    cash = np.concatenate(
        [[1.0], np.cumprod([1.0 + inflation[min(t, len(inflation) - 1)] for t in range(horizon)])]
    )
    return Money(partners=partners, cost=cost, income=income, cash=cash)
