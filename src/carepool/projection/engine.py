"""The projection's engine: every neighbourhood's population, demand and cost, year by year,
for every draw at once.

Neighbourhoods are projected borough by borough: the rates of a borough (death, fertility, net
migration) apply to each of its neighbourhoods, so a borough's figures are the sum of its
neighbourhoods' and the region's the sum of its boroughs', in every draw. Each year the
population is summed into five-year groups and multiplied by the model's rates (one matrix
product), the scenario's trends and changes are applied, and the activity is priced: NHS
services for the ICB, social care split between the council and the people in care by the
council's share (``docs/methods/projection.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.projection.ages import GROUP_OF_AGE
from carepool.projection.assumptions import Assumptions
from carepool.projection.base import BasePopulation
from carepool.projection.cohort import AGES, step
from carepool.projection.demand import MEASURES, NHS_SERVICES, SOCIAL_CARE_SERVICES, DemandRates
from carepool.projection.draws import TREND_GROUPS, Draws
from carepool.projection.mortality import death_probability
from carepool.years import financial_year, start_year

FloatArray = npt.NDArray[np.float64]

MONEY: Final = ("nhs_cost_pence", "council_cost_pence", "people_pay_pence")
COLUMNS: Final = (*(m.name for m in MEASURES), *MONEY)
PERCENTILES: Final = (10.0, 90.0)
#: The age bands demand is also broken down by, for each sex (aligned with the five-year groups
#: the rates are given in).
AGE_BANDS: Final = {"0-14": (0, 15), "15-64": (15, 65), "65-84": (65, 85), "85+": (85, AGES)}
#: Changes to a year's demand: ``(year 1..H, demand (..., measure))`` -> demand.
Change = Callable[[int, FloatArray], FloatArray]
#: The council's share of social care's gross cost in a year: ``(year, lad, quintiles)``.
CouncilShare = Callable[[int, int, npt.NDArray[np.int64]], FloatArray]


@dataclass(frozen=True)
class Projected:
    """Everything the engine works out, before it is shown."""

    years: tuple[str, ...]  # the base year, then each projected year
    #: (year, msoa, column, 3): the central case, the 10th and the 90th percentile of draws
    msoa: FloatArray
    #: (year, lad, draw, column): every draw of every borough (draw 0 central)
    lad: FloatArray
    #: (year, quintile, draw, 2): the council's and the people's social care, by quintile
    by_quintile: FloatArray
    #: (year, lad, draw, sex, age band, measure): demand by sex and age band (AGE_BANDS)
    by_age: npt.NDArray[np.float32]


def _trend_rates(
    draws: Draws, overrides: dict[str, float], spread: float, z: FloatArray
) -> FloatArray:
    """Each draw's yearly change of each measure, ``(draw, measure)``."""
    rates = np.zeros((draws.count, len(MEASURES)))
    for k, measure in enumerate(MEASURES):
        if measure.name in overrides:
            rates[:, k] = np.clip(overrides[measure.name] + spread * z, -0.2, 0.2)
        elif measure.trend in TREND_GROUPS:
            rates[:, k] = draws.trends[:, TREND_GROUPS.index(measure.trend)]
    return rates


def _prices(rates: DemandRates) -> tuple[FloatArray, FloatArray]:
    nhs = np.zeros(len(MEASURES))
    care = np.zeros(len(MEASURES))
    names = [m.name for m in MEASURES]
    for name in NHS_SERVICES:
        nhs[names.index(name)] = rates.unit_cost_pence[name]
    for name in SOCIAL_CARE_SERVICES:
        care[names.index(name)] = rates.unit_cost_pence[name]
    return nhs, care


@dataclass(frozen=True)
class EngineInputs:
    base: BasePopulation
    assumptions: Assumptions
    rates: DemandRates
    draws: Draws
    horizon: int
    trend_rates: FloatArray
    change: Change
    council_share: CouncilShare

    @cached_property
    def prices(self) -> tuple[FloatArray, FloatArray]:
        """Each measure's unit cost in pence, for the NHS and for social care: worked out once
        a run, not in every borough's every year."""
        return _prices(self.rates)


@dataclass
class _Borough:
    """One borough's share of the engine's output, filled by one worker."""

    rows: npt.NDArray[np.int64]
    msoa: FloatArray  # (year, msoa of the borough, column, 3)
    lad: FloatArray  # (year, draw, column)
    by_quintile: FloatArray  # (year, quintile, draw, 2)
    by_age: npt.NDArray[np.float32]  # (year, draw, sex, band, measure)


#: Boroughs projected at once: numpy releases the interpreter lock in its array loops, so two
#: threads use both of the machine's cores.
WORKERS: Final = 2


def run_engine(inputs: EngineInputs, progress: Callable[[str], None] | None = None) -> Projected:
    """Project every borough's neighbourhoods over the horizon, for every draw."""
    base, horizon, draws = inputs.base, inputs.horizon, inputs.draws
    first = start_year(base.year)
    years = tuple(financial_year(first + t) for t in range(horizon + 1))
    n_lad, n_draws = len(base.lad_codes), draws.count
    msoa_out = np.zeros((horizon + 1, len(base.msoa_codes), len(COLUMNS), 3))
    lad_out = np.zeros((horizon + 1, n_lad, n_draws, len(COLUMNS)))
    quintile_out = np.zeros((horizon + 1, 5, n_draws, 2))
    age_out = np.zeros((horizon + 1, n_lad, n_draws, 2, len(AGE_BANDS), len(MEASURES)), np.float32)

    def one(lad: int) -> _Borough:
        return _project_borough(inputs, lad, np.flatnonzero(base.lad_of_msoa == lad))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for lad, borough in enumerate(pool.map(one, range(n_lad))):
            if progress is not None:
                progress(f"Projected {base.lad_names[lad]}")
            msoa_out[:, borough.rows] = borough.msoa
            lad_out[:, lad] = borough.lad
            quintile_out += borough.by_quintile
            age_out[:, lad] = borough.by_age
    return Projected(
        years=years, msoa=msoa_out, lad=lad_out, by_quintile=quintile_out, by_age=age_out
    )


def _project_borough(inputs: EngineInputs, lad: int, rows: npt.NDArray[np.int64]) -> _Borough:
    base, a, draws = inputs.base, inputs.assumptions, inputs.draws
    n, horizon = draws.count, inputs.horizon
    out = _Borough(
        rows=rows,
        msoa=np.zeros((horizon + 1, rows.size, len(COLUMNS), 3)),
        lad=np.zeros((horizon + 1, n, len(COLUMNS))),
        by_quintile=np.zeros((horizon + 1, 5, n, 2)),
        by_age=np.zeros((horizon + 1, n, 2, len(AGE_BANDS), len(MEASURES)), np.float32),
    )
    population = base.population[rows][None].astype(np.float32)  # the central case first
    quintiles = base.quintile_of_msoa[rows]
    fertility = (a.fertility_level[lad] * draws.fertility)[:, None, None] * a.schedule[
        None, None, :
    ]
    fertility = fertility.astype(np.float32)
    improvement = draws.improvement[:, None]
    first_calendar = start_year(base.year)

    def one_year(
        calendar_year: int,
        population: npt.NDArray[np.float32],
        chosen: slice,
        everyone: FloatArray | None = None,
    ) -> npt.NDArray[np.float32]:
        """A year on; ``everyone`` is the borough's residents ``(draw, sex, age)`` where the
        year's record has already summed them."""
        years_on = a.years_of_improvement(calendar_year)
        q = death_probability(a.qx, a.multiplier[lad], improvement[chosen], years_on)
        if everyone is None:
            everyone = population.sum(axis=1, dtype=np.float64)
        migration = _migration(a.migration_pattern[lad], everyone, draws.migration[chosen, lad])
        result: npt.NDArray[np.float32] = step(
            population,
            q[:, None].astype(np.float32),
            fertility[chosen],
            migration[:, None].astype(np.float32),
            count_deaths=False,
        ).population
        return result

    # the census's residents brought forward to the model's last year with the central
    # assumptions (the present, not an uncertain future), then every draw projects ahead
    for calendar_year in range(base.census_year + 1, first_calendar + 1):
        population = one_year(calendar_year, population, slice(0, 1))
    population = np.broadcast_to(population, (n, *population.shape[1:])).copy()
    everyone = _record(inputs, 0, lad, quintiles, population, out)
    for t in range(1, horizon + 1):
        population = one_year(first_calendar + t, population, slice(None), everyone)
        everyone = _record(inputs, t, lad, quintiles, population, out)
    return out


def _migration(pattern: FloatArray, population: FloatArray, net: FloatArray) -> FloatArray:
    """The borough's rates ``(draw, sex, age)``: the censuses' pattern moved by one rate a
    draw so the borough gains ``net`` people a year (see :func:`migration.at_level`)."""
    people = population.sum(axis=(1, 2))
    implied = (pattern[None] * population).sum(axis=(1, 2))
    shift = (net - implied) / np.maximum(people, 1.0)
    result: FloatArray = np.clip(pattern[None] + shift[:, None, None], -0.5, 1.0)
    return result


def _record(
    inputs: EngineInputs,
    t: int,
    lad: int,
    quintiles: npt.NDArray[np.int64],
    population: npt.NDArray[np.float32],
    out: _Borough,
) -> FloatArray:
    """Year ``t``'s demand and cost for the borough's neighbourhoods, every draw; returns the
    borough's residents ``(draw, sex, age)``, which the next year's migration needs too."""
    n, m = population.shape[:2]
    # the rate of each single year of age is its five-year group's: one matrix product
    by_age = inputs.rates.rates[lad][:, GROUP_OF_AGE, :].reshape(2 * AGES, len(MEASURES))
    demand = (population.reshape(n * m, 2 * AGES) @ by_age.astype(np.float32)).reshape(
        n, m, len(MEASURES)
    )
    everyone: FloatArray = population.sum(axis=1, dtype=np.float64)  # (draw, sex, age)
    rates_by_age = by_age.reshape(2, AGES, len(MEASURES))
    banded = np.stack(
        [
            np.einsum("dsa,sak->dsk", everyone[..., lo:hi], rates_by_age[:, lo:hi])
            for lo, hi in AGE_BANDS.values()
        ],
        axis=2,
    )  # (draw, sex, band, measure)
    if t > 0:
        trend = np.power(1.0 + inputs.trend_rates, t)
        demand = demand * trend[:, None, :].astype(np.float32)
        demand = inputs.change(t, demand)
        banded = inputs.change(t, banded * trend[:, None, None, :])
    out.by_age[t] = banded
    nhs_price, care_price = inputs.prices
    draws = inputs.draws
    nhs = (demand @ nhs_price) * np.power(1.0 + draws.nhs_cost_growth, t)[:, None]
    gross = (demand @ care_price) * np.power(1.0 + draws.social_care_cost_growth, t)[:, None]
    council = gross * inputs.council_share(t, lad, quintiles)
    money = np.stack([nhs, council, gross - council], axis=-1).astype(np.float32)
    full = np.concatenate([demand, money], axis=-1)
    out.msoa[t, :, :, 0] = full[0]
    out.msoa[t, :, :, 1:] = percentiles(full[1:]) if n > 1 else full[0][..., None]
    out.lad[t] = full.sum(axis=1, dtype=np.float64)
    for q in range(5):
        chosen = quintiles == q + 1
        if chosen.any():
            out.by_quintile[t, q, :, 0] = council[:, chosen].sum(axis=1)
            out.by_quintile[t, q, :, 1] = (gross - council)[:, chosen].sum(axis=1)
    return everyone


def percentiles(draws: npt.NDArray[np.floating]) -> FloatArray:
    """The 10th and 90th percentiles over the first axis, ``(..., 2)``, interpolated as
    :func:`numpy.percentile` does, by one partial sort along a contiguous last axis."""
    values = np.ascontiguousarray(np.moveaxis(draws, 0, -1))
    last = values.shape[-1] - 1
    positions = [last * p / 100.0 for p in PERCENTILES]
    kth = sorted({int(np.floor(x)) for x in positions} | {int(np.ceil(x)) for x in positions})
    ordered = np.partition(values, kth, axis=-1)
    result = np.empty((*values.shape[:-1], len(positions)))
    for i, x in enumerate(positions):
        low, high = int(np.floor(x)), int(np.ceil(x))
        result[..., i] = ordered[..., low] + (ordered[..., high] - ordered[..., low]) * (x - low)
    return result
