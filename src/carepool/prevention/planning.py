"""The portfolio capability's application layer: options from the built model, the best
portfolio within the yearly budget, and the efficient frontier of budget against benefit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from carepool.errors import AppraisalError
from carepool.prevention.access import Principal
from carepool.prevention.portfolio import Option, Portfolio, choose, place_options
from carepool.prevention.service import DEFAULT_THRESHOLD, ModelInputs, Partners, model_inputs
from carepool.warehouse import Tables

MAX_BUDGET = 1e12
MAX_FRONTIER_POINTS = 50


@dataclass(frozen=True)
class PortfolioRequest:
    #: pounds available in each year
    budget: float
    years: int = 5
    threshold: float = DEFAULT_THRESHOLD
    #: weights on net health benefit by IMD quintile, most deprived (Q1) first
    equity_weights: tuple[float, ...] | None = None
    interventions: tuple[str, ...] = ()
    library: tuple[Path, ...] = ()
    #: every partner's fair share of the net value must be non-negative
    fair: bool = True
    #: "monetary" (savings, costs and QALYs valued at the threshold) or "cash" (savings only)
    basis: str = "monetary"
    frontier_points: int = 0

    def __post_init__(self) -> None:
        if not np.isfinite(self.budget) or not 0 <= self.budget <= MAX_BUDGET:
            raise AppraisalError(
                f"budget: expected £0 to £{MAX_BUDGET:,.0f} a year, got {self.budget}"
            )
        if not 1 <= self.years <= 30:
            raise AppraisalError(f"years: expected 1-30, got {self.years}")
        if not 0 < self.threshold <= 1_000_000:
            raise AppraisalError(
                f"threshold: expected £1-£1,000,000 per QALY, got {self.threshold}"
            )
        if not 0 <= self.frontier_points <= MAX_FRONTIER_POINTS:
            raise AppraisalError(f"frontier points: expected 0-{MAX_FRONTIER_POINTS}")
        weights = self.equity_weights
        if weights is not None and (len(weights) != 5 or any(not 0 <= w <= 10 for w in weights)):
            raise AppraisalError(
                "equity weights: expected five weights between 0 and 10, most deprived first"
            )


@dataclass(frozen=True)
class PortfolioPlan:
    portfolio: Portfolio
    options: tuple[Option, ...]
    partner_names: tuple[str, ...]
    year: str
    #: (budget a year, portfolio at that budget), rising budgets
    frontier: tuple[tuple[float, Portfolio], ...]


def plan_portfolio(
    warehouse: Tables,
    request: PortfolioRequest,
    progress: Callable[[str], None] | None = None,
    principal: Principal | None = None,
    inputs: ModelInputs | None = None,
) -> PortfolioPlan:
    """Every (intervention, place) option on the model's last year, and the best portfolio;
    ``principal`` is who asks (needed for a library of one's own); ``inputs``, read once by
    :func:`~carepool.prevention.service.model_inputs`, may be shared with an appraisal."""
    if inputs is not None and (request.library or request.interventions):
        # shared inputs already hold the interventions chosen: one place to choose them
        raise AppraisalError("choose the interventions in model_inputs when sharing its inputs")
    inputs = inputs or model_inputs(warehouse, request.library, request.interventions, principal)
    options: list[Option] = []
    partners: Partners | None = None
    for item, cells in inputs.cohorts(warehouse, progress):
        partners = partners or Partners.for_places(cells.places, cells.nhs_partner)
        options += place_options(
            item,
            cells,
            partners.ids,
            inputs.unit_cost,
            inputs.payer,
            request.years,
            request.threshold,
            request.years,  # a programme: a fresh cohort every year
        )
    assert partners is not None
    weights = None if request.equity_weights is None else np.array(request.equity_weights)

    def solve(budget: float) -> Portfolio:
        yearly = np.full(request.years, budget)
        return choose(options, partners.ids, yearly, weights, request.fair, request.basis)

    frontier: tuple[tuple[float, Portfolio], ...] = ()
    if request.frontier_points:
        top = max(request.budget, 1.0)
        budgets = np.linspace(0.0, top, request.frontier_points + 1)[1:]
        frontier = tuple((float(b), solve(float(b))) for b in budgets)
    return PortfolioPlan(
        solve(request.budget), tuple(options), partners.names, inputs.year, frontier
    )
