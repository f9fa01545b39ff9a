"""Allocation as a capability: a typed request, resolved and checked before anything is
computed, then the allocation, one place's explanation, or the sensitivity table.

These are the calls every shell makes (the command line today, the API and portal next). Each
takes an open warehouse (:class:`~carepool.warehouse.Tables`) and a request, returns a typed
result, and raises :class:`~carepool.errors.AllocationError` for a request it cannot serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from carepool.allocation.baseline import read_baseline
from carepool.allocation.formula import DEFAULT_FORMULA, Formula, load_formula
from carepool.allocation.inputs import NeedData, from_warehouse
from carepool.allocation.registration import DEFAULT_POPULATION, check_population, counted_as
from carepool.allocation.sensitivity import sensitivity
from carepool.allocation.shares import Allocation, allocate
from carepool.errors import AllocationError
from carepool.geography import level_of
from carepool.indicators import model_years
from carepool.warehouse import Tables
from carepool.years import is_financial_year, next_year

#: The default pool: Greater Manchester's health and social care budget, about £6bn a year.
DEFAULT_TOTAL = 6_000_000_000
#: The largest pool, in pounds: £10 trillion, the ledger's largest amount (and some 50 times
#: England's health and care budget). Every figure up to it is shared out exactly.
MAX_TOTAL = 10**13


@dataclass(frozen=True)
class AllocationRequest:
    """What a user asks to allocate: the pool, the year, the places and the policy.

    Every field is optional but the pool; ``None`` means carepool's default (its formula, the
    year after the model's last, the formula's own pace of change, no baseline).
    """

    total: int = DEFAULT_TOTAL
    year: str | None = None
    level: str = "lad"
    formula_file: Path | None = None
    baseline_file: Path | None = None
    min_growth: float | None = None
    max_below_target: float | None = None
    convergence: float | None = None
    #: who a place's people are: "resident" (the default) or "registered" (GP lists)
    population: str = DEFAULT_POPULATION


@dataclass(frozen=True)
class Run:
    """An allocation run's settings, resolved and checked before anything is computed."""

    formula: Formula
    total: int
    year: str
    level: str
    baseline: dict[str, int] | None
    baseline_source: str
    population: str = DEFAULT_POPULATION


def level_of_place(place: str) -> str:
    """The level a place code names (E02... is an MSOA), or local authorities."""
    return level_of(place) or "lad"


def check_year(year: str) -> str:
    """``year`` if it is a financial year such as 2026-27, else an :class:`AllocationError`."""
    if not is_financial_year(year):
        raise AllocationError(f"year {year!r}: expected a financial year such as 2026-27")
    return year


def year_after_model(warehouse: Tables) -> str:
    """The year after the model's last: allocations are set ahead of the year they fund."""
    years = model_years(warehouse)
    if not years:
        raise AllocationError("the model has no years; build it with `carepool build`")
    return next_year(years[-1])


def resolve(warehouse: Tables, request: AllocationRequest) -> Run:
    """Check the request and read its files: the formula, its pace of change, the baseline."""
    if request.total <= 0:
        raise AllocationError(f"--total must be a positive number of pounds, got {request.total:,}")
    if request.total > MAX_TOTAL:
        raise AllocationError(
            f"--total must be at most £{MAX_TOTAL:,} (ten trillion pounds), got £{request.total:,}"
        )
    formula = load_formula(request.formula_file).with_pace(
        min_growth=request.min_growth,
        max_below_target=request.max_below_target,
        convergence=request.convergence,
    )
    baseline_file = request.baseline_file
    baseline = read_baseline(baseline_file) if baseline_file is not None else None
    return Run(
        formula=formula,
        total=request.total,
        year=check_year(request.year) if request.year is not None else year_after_model(warehouse),
        level=request.level,
        baseline=baseline,
        baseline_source=str(baseline_file) if baseline_file is not None else "baseline",
        population=check_population(request.population),
    )


def _inputs(warehouse: Tables, run: Run, leave_out: tuple[int, int] | None = None) -> NeedData:
    data = from_warehouse(warehouse, run.year, run.formula.variables(), [run.level], leave_out)
    return counted_as(data, run.population)


def run_allocation(
    warehouse: Tables, run: Run, leave_out: tuple[int, int] | None = None
) -> Allocation:
    """Each place's target and allocation in whole pounds, summing to the pool; with
    ``leave_out``, from the model's people less one group of a jackknife
    (:func:`~carepool.allocation.inputs.from_warehouse`)."""
    data = _inputs(warehouse, run, leave_out)
    return allocate(
        run.formula,
        data,
        total=run.total,
        year=run.year,
        level=run.level,
        baseline=run.baseline,
        baseline_source=run.baseline_source,
    )


def sensitivity_table(
    warehouse: Tables, run: Run, place: str | None = None, change: float = 0.10
) -> pd.DataFrame:
    """How each place's target (or one place's) moves when each weight moves by ``change``."""
    data = _inputs(warehouse, run)
    table = sensitivity(run.formula, data, total=run.total, level=run.level, change=change)
    if place is None:
        return table
    if place not in set(table["place"]):
        raise AllocationError(f"no place {place!r} at level {run.level!r}")
    return table[table["place"] == place].reset_index(drop=True)


def default_formula_text() -> str:
    """carepool's default formula as TOML, to copy and edit."""
    return resources.files("carepool.allocation").joinpath(DEFAULT_FORMULA).read_text()


def formula_summary(formula_file: Path | None = None) -> dict[str, Any]:
    """A formula checked and summarised: id, version and each component's settings."""
    spec = load_formula(formula_file)
    components = [
        {
            "id": c.id,
            "name": c.name,
            "share": c.share,
            "cost_curve": c.curve_source,
            "services": list(c.services),
            "need": [{"variable": v.variable, "weight": v.weight} for v in c.need],
            "inequalities_weight": c.inequalities_weight,
            "market_forces": c.market_forces,
        }
        for c in spec.components
    ]
    return {"id": spec.id, "version": spec.version, "path": spec.path, "components": components}
