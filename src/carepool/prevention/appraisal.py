"""Appraising an intervention for the whole system and for each partner, year by year.

The chain (docs/methods/prevention.md), for the cohort in each place p and quintile q:

    engaged      = people × scale × uptake
    attributable = engaged × success × (1 − deadweight)
    avoided[o,t] = attributable × events per person[o] × (1 − rate ratio[o]) × persist[t] × alive[t]
    saving[o,t]  = avoided[o,t] × unit cost[o] × (1 − optimism bias on benefits),
                   credited to the partner that pays for service o in place p
    cost[j,t]    = engaged × cost per participant[j,t] × alive[t] × (1 + optimism bias on costs)
    QALYs[t]     = attributable × QALYs per success-year × persist[t] × alive[t] × (1 − bias)

where persist = (½, 1, 1 − d, (1 − d)², ...) (delivered through the first year, then fading by
the drop-off d) and alive[t] = (1 − m)^t with m the cohort's own death rate. A programme that
recruits a fresh cohort in each of its first K years is the sum of K such cohorts, each
starting a year later, cut at the horizon. Money is
discounted at the Green Book's 3.5%, QALYs at 1.5%. The same arithmetic runs once at the
central values (the appraisal) and vectorised over draws of every uncertain figure (the
Monte Carlo), which needs only present values: every term is a product of a draw and a fixed
array, so each draw is a few matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.prevention.cohort import CohortCells
from carepool.prevention.discounting import discount_factors
from carepool.prevention.draws import draw
from carepool.prevention.library import OUTCOMES, PAYERS, Intervention

Array = npt.NDArray[np.float64]
NHS, COUNCIL = 0, 1


@dataclass(frozen=True)
class Prepared:
    """What the warehouse says about one intervention's cohort, ready to appraise.

    ``saving_base[p, j, o]``: pounds a year if every eligible person in place p had outcome
    o entirely prevented, for payer j (0 NHS, 1 council); ``cost_base[p, j, t]``: pounds if every
    eligible person took part; ``events[o]`` and ``events_by_quintile[q, o]``: the cohort's events.
    """

    intervention: Intervention
    cells: CohortCells
    horizon: int
    scale: float
    saving_base: Array
    saving_by_quintile: Array
    cost_base: Array
    events: Array
    death_rate: float
    #: cohorts recruited, one a year from the start (1: a single cohort)
    cohorts: int = 1

    @property
    def people(self) -> float:
        return float(self.cells.people.sum())


def prepare(
    intervention: Intervention,
    cells: CohortCells,
    unit_cost_pounds: dict[str, float],
    payer_of: dict[str, str],
    horizon: int,
    scale: float,
    cohorts: int = 1,
) -> Prepared:
    """Fix everything about ``intervention`` that does not depend on an uncertain figure;
    ``cohorts`` fresh cohorts are recruited, one a year from the start."""
    units = np.array([unit_cost_pounds.get(o, 0.0) for o in OUTCOMES])
    payer = np.array([PAYERS.index(payer_of[o]) if o in payer_of else -1 for o in OUTCOMES])
    money = cells.events * units  # [p, q, o]
    saving = np.zeros((len(cells.places), len(PAYERS), len(OUTCOMES)))
    for j in range(len(PAYERS)):
        saving[:, j, :] = money.sum(axis=1) * (payer == j)
    cost = np.zeros((len(cells.places), len(PAYERS), horizon))
    for line in intervention.costs:
        per = np.zeros(horizon)
        n = min(horizon, len(line.per_participant))
        per[:n] = line.per_participant[:n]
        cost[:, PAYERS.index(line.payer), :] += cells.people.sum(axis=1)[:, None] * per
    people = float(cells.people.sum())
    deaths = float(cells.events[..., OUTCOMES.index("deaths")].sum())
    return Prepared(
        intervention=intervention,
        cells=cells,
        horizon=horizon,
        scale=scale,
        saving_base=saving,
        saving_by_quintile=(money * (payer >= 0)).sum(axis=0),
        cost_base=cost,
        events=cells.events.sum(axis=(0, 1)),
        death_rate=min(deaths / people, 0.99) if people > 0 else 0.0,
        cohorts=max(1, min(cohorts, horizon)),
    )


def programme(series: Array, cohorts: int) -> Array:
    """A single cohort's yearly series (last axis) summed over ``cohorts`` cohorts, each a year
    later than the one before, cut at the horizon."""
    out = series.copy()
    for k in range(1, cohorts):
        out[..., k:] += series[..., : series.shape[-1] - k]
    return out


def programme_weights(factors: Array, cohorts: int) -> Array:
    """Discount weights for a single cohort's year u in a programme of ``cohorts`` cohorts:
    Σ_k DF(u + k) over the cohorts whose year u falls within the horizon."""
    out = factors.copy()
    for k in range(1, cohorts):
        out[: factors.size - k] += factors[k:]
    return out


def persistence(drop_off: Array, horizon: int) -> Array:
    """[draw, year]: ½ in the first year, then 1, (1 − d), (1 − d)², ..."""
    years = np.arange(horizon)
    exponent = np.maximum(years - 1, 0)
    out: Array = (1.0 - drop_off[:, None]) ** exponent[None, :]
    out[:, 0] = 0.5
    return out


@dataclass(frozen=True)
class Figures:
    """Draws (or the one central value) of every uncertain figure of an intervention."""

    uptake: Array
    success: Array
    deadweight: Array
    drop_off: Array
    qalys: Array
    #: 1 − rate ratio, [draw, outcome]
    reduction: Array

    @property
    def attributable(self) -> Array:
        out: Array = self.uptake * self.success * (1.0 - self.deadweight)
        return out


def central_figures(intervention: Intervention) -> Figures:
    reduction = np.zeros((1, len(OUTCOMES)))
    for effect in intervention.effects:
        reduction[0, OUTCOMES.index(effect.outcome)] = 1.0 - effect.rate_ratio.value
    return Figures(
        uptake=np.array([intervention.uptake.value]),
        success=np.array([intervention.success.value]),
        deadweight=np.array([intervention.deadweight.value]),
        drop_off=np.array([intervention.drop_off.value]),
        qalys=np.array([intervention.qalys_per_success_year.value]),
        reduction=reduction,
    )


def drawn_figures(intervention: Intervention, rng: np.random.Generator, n: int) -> Figures:
    reduction = np.zeros((n, len(OUTCOMES)))
    for effect in intervention.effects:
        reduction[:, OUTCOMES.index(effect.outcome)] = 1.0 - draw(effect.rate_ratio, rng, n)
    clip = np.clip
    return Figures(
        uptake=clip(draw(intervention.uptake, rng, n), 0, 1),
        success=clip(draw(intervention.success, rng, n), 0, 1),
        deadweight=clip(draw(intervention.deadweight, rng, n), 0, 1),
        drop_off=clip(draw(intervention.drop_off, rng, n), 0, 1),
        qalys=draw(intervention.qalys_per_success_year, rng, n),
        reduction=reduction,
    )


@dataclass(frozen=True)
class Flows:
    """Pounds and QALYs by draw, place, payer and year (undiscounted)."""

    saving: Array  # [d, p, j, t]
    cost: Array  # [d, p, j, t]
    qalys: Array  # [d, t]
    avoided: Array  # [d, o, t]
    engaged: Array  # [d]


def flows(prepared: Prepared, figures: Figures) -> Flows:
    """The year-by-year flows (used at the central values: it keeps every year)."""
    ob_cost, ob_benefit = prepared.intervention.optimism_bias
    alive = (1.0 - prepared.death_rate) ** np.arange(prepared.horizon)
    shape = persistence(figures.drop_off, prepared.horizon) * alive  # [d, t]
    attributable = prepared.scale * figures.attributable  # share of the eligible
    per_payer = np.einsum("do,pjo->dpj", figures.reduction, prepared.saving_base)
    saving = (attributable[:, None, None] * per_payer)[..., None] * shape[:, None, None, :]
    saving *= 1.0 - ob_benefit
    engaged = prepared.scale * figures.uptake
    # a later year's cost is for the participants still alive
    cost = engaged[:, None, None, None] * (prepared.cost_base * alive)[None] * (1.0 + ob_cost)
    qalys = (attributable * figures.qalys * prepared.people)[:, None] * shape * (1.0 - ob_benefit)
    avoided = (attributable[:, None] * figures.reduction * prepared.events)[..., None] * shape[
        :, None, :
    ]
    k = prepared.cohorts
    return Flows(
        programme(saving, k),
        programme(cost, k),
        programme(qalys, k),
        programme(avoided, k),
        engaged * prepared.people * k,
    )


@dataclass(frozen=True)
class PresentValues:
    """Present values by draw: savings and costs by place and payer, and QALYs."""

    saving: Array  # [d, p, j]
    cost: Array  # [d, p, j]
    qalys: Array  # [d]


def present_values(prepared: Prepared, figures: Figures) -> PresentValues:
    """Present values without materialising years: each term is a draw times a fixed array."""
    ob_cost, ob_benefit = prepared.intervention.optimism_bias
    money_df = programme_weights(discount_factors(prepared.horizon, "money"), prepared.cohorts)
    health_df = programme_weights(discount_factors(prepared.horizon, "health"), prepared.cohorts)
    alive = (1.0 - prepared.death_rate) ** np.arange(prepared.horizon)
    shape = persistence(figures.drop_off, prepared.horizon) * alive
    attributable = prepared.scale * figures.attributable
    per_payer = np.einsum("do,pjo->dpj", figures.reduction, prepared.saving_base)
    saving = per_payer * (attributable * (shape @ money_df) * (1.0 - ob_benefit))[:, None, None]
    cost_pv = (prepared.cost_base * alive) @ money_df  # [p, j]: the living's later costs
    cost = (prepared.scale * figures.uptake * (1.0 + ob_cost))[:, None, None] * cost_pv[None]
    qalys = attributable * figures.qalys * prepared.people * (shape @ health_df) * (1 - ob_benefit)
    return PresentValues(saving, cost, qalys)
