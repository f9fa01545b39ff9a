"""Weighted populations: each component's need in every LSOA, built up one factor at a time.

For component c and LSOA l (docs/methods/allocation.md):

    age_sex[l]    = sum over bands b, sexes s of pop[l,b,s] * curve_c[b,s]
    additional[l] = age_sex[l] * exp(sum_k beta_ck * z_k[l])          (additional need)
    blended[l]    = (1 - h_c) * additional[l] + h_c * pop[l] * hi[l]  (inequalities)
    weighted[l]   = blended[l] * mff[l]                              (market forces)

each stage rescaled to sum to the total population, as NHS England's weighted populations
are. ``z_k`` is variable k standardised over the allocation's LSOAs (population-weighted mean
0, SD 1); ``hi`` is the inequalities variable as a ratio to its population-weighted mean.
Cost curves come from the warehouse's costed activity (cost per head by band and sex over
the whole area, as a ratio to the mean), are flat, or are supplied in the formula; an
``estimate`` weight is fitted by quasi-Poisson regression of each LSOA's costed activity on
the variables, with its age-sex expected cost as the offset. When both are estimated they are
fitted jointly (alternating the two until they settle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.allocation.formula import Component, Formula
from carepool.allocation.inputs import N_BANDS, NeedData
from carepool.allocation.variables import VARIABLES
from carepool.errors import AllocationError

Array = npt.NDArray[np.float64]
STAGES: Final = ("population", "age_sex", "additional_need", "inequalities", "market_forces")
_MAX_ITERATIONS = 50


@dataclass(frozen=True)
class NeedModel:
    """What a formula's need model resolved to: cost curves and every coefficient.

    Fitted once from a model's warehouse, it can be applied to other inputs (for example to
    all of England, where no costed activity exists) and is reported with each allocation.
    """

    curves: dict[str, Array]  # component -> (band, sex) relative cost per head, mean 1
    coefficients: dict[str, dict[str, float]]  # component -> variable -> beta
    estimated: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _cost(component: Component, data: NeedData) -> Array:
    """Costed activity of ``component`` per (LSOA, band, sex), in pounds."""
    missing = [s for s in component.services if s not in data.activity]
    if missing:
        raise AllocationError(
            f"component {component.id!r} estimates from costed activity, which these inputs "
            f"({data.description}) do not have; fit the need model on a built model first"
        )
    total = np.zeros_like(data.population)
    for service in component.services:
        total += data.activity[service] * (data.unit_cost_pence[service] / 100.0)
    return total


def supplied_curve(component: Component) -> Array:
    curve = np.zeros((N_BANDS, 2), dtype=np.float64)
    for cell in component.curve:
        sexes = (0, 1) if cell.sex is None else ((0,) if cell.sex == "female" else (1,))
        for s in sexes:
            curve[cell.first_band : cell.last_band + 1, s] = cell.weight
    return curve


def _normalised_curve(curve: Array, population: Array) -> Array:
    people = population.sum(axis=0)
    mean = float((curve * people).sum() / people.sum())
    if mean <= 0:
        raise AllocationError("a cost curve gives no weight to anyone in the population")
    scaled: Array = curve / mean
    return scaled


def estimate_curve(component: Component, data: NeedData) -> Array:
    """Cost per head by band and sex over the whole area, as a ratio to the mean."""
    cost = _cost(component, data).sum(axis=0)
    people = data.population.sum(axis=0)
    per_head = np.divide(cost, people, out=np.zeros_like(cost), where=people > 0)
    if per_head.sum() <= 0:
        raise AllocationError(
            f"component {component.id!r}: its services ({', '.join(component.services)}) "
            "have no costed activity in the model year"
        )
    return _normalised_curve(per_head, data.population)


def standardised(data: NeedData, names: list[str]) -> dict[str, Array]:
    """Each variable as a z-score over the inputs' LSOAs, weighted by population."""
    people = data.people()
    out: dict[str, Array] = {}
    for name in names:
        x = data.variables[name]
        mean = float(np.average(x, weights=people))
        sd = float(np.sqrt(np.average((x - mean) ** 2, weights=people)))
        if sd <= 0:
            raise AllocationError(
                f"variable {name!r} is the same in every LSOA; it cannot distinguish need"
            )
        out[name] = (x - mean) / sd
    return out


def _fit(observed: Array, expected: Array, fixed: Array, z: Array) -> Array:
    """Quasi-Poisson regression of ``observed`` on ``z`` with offset log(expected) + fixed.

    Returns the slopes (the intercept only absorbs the overall level). Newton-Raphson on the
    Poisson log-likelihood, which for continuous costs is the quasi-likelihood estimating
    equation: the coefficients do not depend on the cost's scale.
    """
    keep = expected > 0
    o, e, f, x = observed[keep], expected[keep], fixed[keep], z[keep]
    design = np.column_stack([np.ones(o.size), x])
    beta = np.zeros(design.shape[1])
    beta[0] = np.log(o.sum() / (e * np.exp(f)).sum())
    for _ in range(_MAX_ITERATIONS):
        mu = e * np.exp(f + design @ beta)
        gradient = design.T @ (o - mu)
        hessian = design.T @ (design * mu[:, None])
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            raise AllocationError(
                "the need weights cannot be estimated: the variables are collinear"
            ) from None
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    slopes: Array = beta[1:]
    return slopes


def _curve_given_need(cost: Array, population: Array, need: Array) -> Array:
    """Cost per head by band and sex for a person of average need: each LSOA's people count
    in proportion to its need factor (the age-sex effects of a multiplicative model)."""
    exposure = (population * need[:, None, None]).sum(axis=0)
    per_head = np.divide(
        cost.sum(axis=0), exposure, out=np.zeros(exposure.shape), where=exposure > 0
    )
    return _normalised_curve(per_head, population)


def fit_need_model(formula: Formula, data: NeedData) -> NeedModel:
    """Resolve every cost curve and need coefficient of ``formula`` on ``data``.

    Where both the curve and some weights are estimated they are fitted jointly, as one
    multiplicative model of cost (age-sex effects times the need factor), by alternating the
    two estimates until they settle, so that a neighbourhood's age mix is not mistaken for need
    or the other way round.
    """
    z = standardised(data, [v.variable for c in formula.components for v in c.need])
    curves: dict[str, Array] = {}
    coefficients: dict[str, dict[str, float]] = {}
    estimated: dict[str, tuple[str, ...]] = {}
    n = data.lsoa_codes.size
    for component in formula.components:
        if component.curve_source == "warehouse":
            curve = estimate_curve(component, data)
        elif component.curve_source == "flat":
            curve = _normalised_curve(np.ones((N_BANDS, 2)), data.population)
        else:
            curve = _normalised_curve(supplied_curve(component), data.population)
        betas = {v.variable: v.weight for v in component.need if v.weight is not None}
        fixed = sum((w * z[name] for name, w in betas.items()), np.zeros(n))
        to_fit = [v.variable for v in component.need if v.weight is None]
        if to_fit:
            cost = _cost(component, data)
            observed = cost.sum(axis=(1, 2))
            design = np.column_stack([z[name] for name in to_fit])
            slopes = np.zeros(len(to_fit))
            for _ in range(_MAX_ITERATIONS):
                age_sex = (data.population * curve).sum(axis=(1, 2))
                expected = age_sex * observed.sum() / age_sex.sum()
                new = _fit(observed, expected, fixed, design)
                settled = bool(np.max(np.abs(new - slopes)) < 1e-12)
                slopes = new
                if component.curve_source != "warehouse" or settled:
                    break
                curve = _curve_given_need(cost, data.population, np.exp(fixed + design @ slopes))
            betas.update(zip(to_fit, (float(s) for s in slopes), strict=True))
        elif component.curve_source == "warehouse" and component.need:
            cost = _cost(component, data)
            curve = _curve_given_need(cost, data.population, np.exp(fixed))
        curves[component.id] = curve
        coefficients[component.id] = {v.variable: betas[v.variable] for v in component.need}
        estimated[component.id] = tuple(to_fit)
    return NeedModel(curves, coefficients, estimated)


def _scaled(values: Array, total: float) -> Array:
    s = float(values.sum())
    if s <= 0:
        raise AllocationError("a weighted population sums to zero: nobody to allocate to")
    out: Array = values * (total / s)
    return out


def inequalities_index(formula: Formula, data: NeedData) -> Array:
    """The inequalities variable as a ratio to its population-weighted mean (1 = average)."""
    name = formula.inequalities_variable
    x = data.variables[name]
    if np.any(x < 0):
        raise AllocationError(
            f"the inequalities variable {name!r} has negative values; it must be a rate or "
            "ratio (an index is its ratio to the mean)"
        )
    mean = float(np.average(x, weights=data.people()))
    index: Array = x / mean
    return index


def market_forces(formula: Formula, data: NeedData) -> Array:
    """Each LSOA's market-forces factor, from its local authority."""
    lookup = formula.market_forces
    default = formula.market_forces_default
    return np.array([lookup.get(str(c), default) for c in data.lad_codes], dtype=np.float64)


def component_stages(
    component: Component,
    data: NeedData,
    curve: Array,
    betas: Mapping[str, float],
    z: Mapping[str, Array],
    hi_index: Array,
    mff: Array,
    *,
    share_weight: float | None = None,
) -> dict[str, Array]:
    """The weighted population of ``component`` in each LSOA after each stage (:data:`STAGES`).

    ``share_weight`` overrides the component's inequalities weight (sensitivity analysis).
    """
    pop = data.people()
    total = float(pop.sum())
    age_sex = _scaled((data.population * curve).sum(axis=(1, 2)), total)
    exponent = sum((b * z[name] for name, b in betas.items()), np.zeros(pop.size))
    additional = _scaled(age_sex * np.exp(exponent), total)
    h = component.inequalities_weight if share_weight is None else share_weight
    if h > 0:
        blended = _scaled((1 - h) * additional + h * _scaled(pop * hi_index, total), total)
    else:
        blended = additional
    weighted = _scaled(blended * mff, total) if component.market_forces else blended
    return {
        "population": pop,
        "age_sex": age_sex,
        "additional_need": additional,
        "inequalities": blended,
        "market_forces": weighted,
    }


def all_stages(formula: Formula, data: NeedData, model: NeedModel) -> dict[str, dict[str, Array]]:
    """Stages of every component: component -> stage -> per-LSOA weighted population."""
    names = sorted({n for c in model.coefficients.values() for n in c})
    z = standardised(data, names)
    uses_hi = any(c.inequalities_weight > 0 for c in formula.components)
    hi = inequalities_index(formula, data) if uses_hi else np.ones(data.lsoa_codes.size)
    mff = market_forces(formula, data)
    return {
        c.id: component_stages(c, data, model.curves[c.id], model.coefficients[c.id], z, hi, mff)
        for c in formula.components
    }


def check_variables(formula: Formula, data: NeedData) -> None:
    missing = [v for v in formula.variables() if v not in data.variables]
    if missing:
        raise AllocationError(
            f"these inputs ({data.description}) lack variable {', '.join(map(repr, missing))}"
            f" ({'; '.join(VARIABLES[v].description for v in missing)})"
        )


def modelled_spend(formula: Formula, data: NeedData) -> dict[str, float]:
    """Each costed component's spend in the inputs' year, in pounds: the evidence for the
    default formula's component shares (docs/methods/allocation.md)."""
    return {c.id: float(_cost(c, data).sum()) for c in formula.components if c.services}
