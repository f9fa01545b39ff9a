"""Choosing the best portfolio within the money: interventions and their scale, place by place.

Each option is one intervention in one place, run at a level ℓ of L steps (a quarter, a half,
three quarters or all of its cohort). Every quantity is linear in the level, so the choice is
a mixed-integer programme with one integer variable per option (docs/methods/prevention.md):

    maximise    Σ_o (ℓ_o / L) · (Σ_q w_q QALYs_o,q − net cost_o / λ)   (net health benefit,
                                                                health gained weighted by w)
    subject to  Σ_o (ℓ_o / L) · cost_o,t ≤ budget_t           for every year t
                Σ_o (ℓ_o / L) · φ_o,k   ≥ 0                   for every partner k
                ℓ_o ∈ {0, 1, ..., L}

where φ_o,k is partner k's Shapley share of option o's net value (the fair-share schedule).
The value is, by default, the net monetary benefit: cashable savings less costs plus the
QALYs valued at the threshold, which is the NHS's own price of health (``basis="monetary"``):
no partner is asked to carry a share of value the partnership destroys. ``basis="cash"``
counts only cashable savings: then a portfolio is fair only where it pays for itself, partner
by partner. Solved exactly by HiGHS (through
scipy.optimize.milp) with a zero optimality gap; the solver's status is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp

from carepool.errors import AppraisalError
from carepool.prevention.appraisal import (
    COUNCIL,
    NHS,
    central_figures,
    flows,
    prepare,
    present_values,
)
from carepool.prevention.cohort import CohortCells
from carepool.prevention.library import Intervention

Array = npt.NDArray[np.float64]
LEVELS = 4
MAX_OPTIONS = 5_000


@dataclass(frozen=True)
class Option:
    """One intervention in one place, at full scale (level L); present values in pounds."""

    intervention: str
    name: str
    place: str
    #: the ICB of the place: the NHS partner there
    nhs_partner: str
    cohort: float
    cost_by_year: Array
    #: [payer (0 NHS, 1 council), year]: who pays the cost each year
    cost_by_payer: Array
    cost: float
    saving: float
    qalys: float
    #: QALYs by IMD quintile, and net health benefit by quintile (QALYs less the net cost
    #: over the threshold, the cost shared as the cohort is)
    qalys_by_quintile: Array
    nhb_by_quintile: Array
    threshold: float
    #: each partner's Shapley share of the option's net monetary benefit, and of its cash
    shares: Array
    cash_shares: Array
    #: cashable savings by partner (present value)
    savings_by_partner: Array

    @property
    def nhb(self) -> float:
        return float(self.nhb_by_quintile.sum())


def stand_alone(own: float, together: float) -> float:
    """What the partner that delivers an option is worth alone in its place's game.

    Where the pair gains (``together`` ≥ 0), the deliverer alone runs it only if it gains
    itself: max(0, ``own``); so two partners who need each other split the gain equally. Where
    the option loses money whoever runs it, the deliverer's own result (negative): the loss
    falls on the partner that chose to run it, less half of what the other saves, and a
    partner with no stake in the place (no saving) bears none of it."""
    return max(0.0, own) if together >= 0 else own


def place_shares(
    saving_nhs: float,
    saving_council: float,
    cost: float,
    delivered_by: int,
    health_value: float = 0.0,
) -> tuple[float, float]:
    """The Shapley split (NHS, council) of one place's option: the pair together commits to
    running it (worth g = savings + health value − cost); alone, only the partner that
    delivers it can run it, gaining its own savings and the health value (worth a, from
    :func:`stand_alone`); so φ_deliverer = (a + g) / 2 and φ_other = (g − a) / 2
    (docs/methods/prevention.md)."""
    together = saving_nhs + saving_council + health_value - cost
    own = saving_nhs if delivered_by == NHS else saving_council
    alone = stand_alone(own + health_value - cost, together)
    deliverer, other = (alone + together) / 2, (together - alone) / 2
    return (deliverer, other) if delivered_by == NHS else (other, deliverer)


def place_options(
    intervention: Intervention,
    cells: CohortCells,
    partners: Sequence[str],
    unit_cost_pounds: dict[str, float],
    payer_of: dict[str, str],
    horizon: int,
    threshold: float,
    cohorts: int = 1,
) -> list[Option]:
    """The intervention's option in each place of ``cells``, at the central values, with
    ``cohorts`` yearly cohorts recruited."""
    options = []
    central = central_figures(intervention)
    delivered = NHS if intervention.delivered_by == "nhs" else COUNCIL
    for p, place in enumerate(cells.places):
        if cells.people[p].sum() == 0:
            continue
        one = CohortCells(
            cells.year,
            (place,),
            (cells.nhs_partner[p],),
            cells.people[p : p + 1],
            cells.events[p : p + 1],
        )
        prepared = prepare(intervention, one, unit_cost_pounds, payer_of, horizon, 1.0, cohorts)
        flow = flows(prepared, central)
        pv = present_values(prepared, central)
        saving_nhs, saving_council = float(pv.saving[0, 0, NHS]), float(pv.saving[0, 0, COUNCIL])
        cost = float(pv.cost[0].sum())
        qalys = float(pv.qalys[0])
        people_q = one.people[0]
        share_q = people_q / people_q.sum()
        saving_q = _saving_by_quintile(
            prepared.saving_by_quintile, central.reduction[0], saving_nhs + saving_council
        )
        nhb_q = qalys * share_q - (cost * share_q - saving_q) / threshold
        nhs_at, council_at = partners.index(cells.nhs_partner[p]), partners.index(place)
        shares, cash_shares, savings = (np.zeros(len(partners)) for _ in range(3))
        split = place_shares(saving_nhs, saving_council, cost, delivered, qalys * threshold)
        shares[[nhs_at, council_at]] = split
        cash_shares[[nhs_at, council_at]] = place_shares(
            saving_nhs, saving_council, cost, delivered
        )
        savings[[nhs_at, council_at]] = saving_nhs, saving_council
        options.append(
            Option(
                intervention=intervention.id,
                name=intervention.name,
                place=place,
                nhs_partner=cells.nhs_partner[p],
                cohort=float(people_q.sum()),
                cost_by_year=flow.cost[0, 0].sum(axis=0),
                cost_by_payer=flow.cost[0, 0],
                cost=cost,
                saving=saving_nhs + saving_council,
                qalys=qalys,
                qalys_by_quintile=qalys * share_q,
                nhb_by_quintile=nhb_q,
                threshold=threshold,
                shares=shares,
                cash_shares=cash_shares,
                savings_by_partner=savings,
            )
        )
    return options


def _saving_by_quintile(by_quintile: Array, reduction: Array, total: float) -> Array:
    """The option's savings (present value) shared between quintiles as its undiscounted
    yearly savings are: each quintile's events times the reduction, scaled to the total."""
    raw = by_quintile @ reduction
    whole = float(raw.sum())
    if whole == 0:
        return np.zeros_like(raw)
    out: Array = raw / whole * total
    return out


@dataclass(frozen=True)
class Chosen:
    option: Option
    level: int

    @property
    def share(self) -> float:
        return self.level / LEVELS


@dataclass(frozen=True)
class Portfolio:
    chosen: tuple[Chosen, ...]
    objective: float
    status: str
    optimal: bool
    budget_by_year: Array
    cost_by_year: Array
    partners: tuple[str, ...]
    #: each partner's net position under the fair-share schedule (present value, pounds), on
    #: the basis the fairness was asked on, and its cashable savings
    basis: str
    net_positions: Array
    savings_by_partner: Array
    qalys: float
    cost: float
    saving: float


def choose(
    options: Sequence[Option],
    partners: Sequence[str],
    budget_by_year: Array,
    equity_weights: Array | None = None,
    fair: bool = True,
    basis: str = "monetary",
) -> Portfolio:
    """The portfolio that maximises (equity-weighted) net health benefit within the yearly
    budgets, every partner's fair share of the net value (on ``basis``: "monetary" or "cash")
    non-negative when ``fair``."""
    if basis not in ("monetary", "cash"):
        raise AppraisalError(f"basis: expected monetary or cash, got {basis!r}")
    if not options:
        raise AppraisalError("no options to choose from: every cohort is empty")
    if len(options) > MAX_OPTIONS:
        raise AppraisalError(f"{len(options):,} options: at most {MAX_OPTIONS:,} can be chosen")
    budget = np.asarray(budget_by_year, dtype=np.float64)
    if budget.ndim != 1 or not np.all(np.isfinite(budget)) or np.any(budget < 0):
        raise AppraisalError("budget: expected a non-negative amount for every year")
    weights = np.ones(5) if equity_weights is None else np.asarray(equity_weights, float)
    if weights.shape != (5,) or np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise AppraisalError("equity weights: expected five non-negative weights, Q1 to Q5")
    years = len(budget)
    # equity weights value the health gained, not the cost: Σ_q w_q QALYs_q − net cost / λ
    value = np.array(
        [float(o.qalys_by_quintile @ weights) - (o.cost - o.saving) / o.threshold for o in options]
    )
    costs = np.zeros((years, len(options)))
    for j, option in enumerate(options):
        n = min(years, len(option.cost_by_year))
        costs[:n, j] = option.cost_by_year[:n]
    # the rows hold each option at full scale and the levels count quarters, so the budget is
    # scaled up rather than the coefficients down (HiGHS fails on some problems scaled so)
    constraints = [LinearConstraint(costs, -np.inf, budget * LEVELS)]
    split = np.array([o.shares if basis == "monetary" else o.cash_shares for o in options]).T
    if fair:
        constraints.append(LinearConstraint(split, 0.0, np.inf))  # [partner, option]
    solved = milp(
        -value,
        integrality=np.ones(len(options)),
        bounds=Bounds(0, LEVELS),
        constraints=constraints,
        options={"mip_rel_gap": 0.0, "time_limit": 60.0},
    )
    if solved.x is None:
        raise AppraisalError(f"the portfolio could not be solved: {solved.message}")
    levels = np.rint(solved.x).astype(int)
    chosen = tuple(Chosen(o, int(k)) for o, k in zip(options, levels, strict=True) if k > 0)
    share = levels / LEVELS
    return Portfolio(
        chosen=chosen,
        objective=float(value @ share),
        status=str(solved.message),
        optimal=solved.status == 0,
        budget_by_year=budget,
        cost_by_year=costs @ share,
        partners=tuple(partners),
        basis=basis,
        net_positions=split @ share,
        savings_by_partner=np.array([o.savings_by_partner for o in options]).T @ share,
        qalys=float(sum(o.qalys * s for o, s in zip(options, share, strict=True))),
        cost=float(sum(o.cost * s for o, s in zip(options, share, strict=True))),
        saving=float(sum(o.saving * s for o, s in zip(options, share, strict=True))),
    )


def frontier(
    solve: Callable[[float], Portfolio], budgets: Sequence[float]
) -> list[tuple[float, Portfolio]]:
    """The efficient frontier: the best portfolio at each yearly budget."""
    return [(b, solve(b)) for b in budgets]
