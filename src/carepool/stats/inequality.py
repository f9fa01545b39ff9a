"""Slope and relative index of inequality (SII, RII) with Monte Carlo confidence limits.

Quantiles j = 1..Q (deprivation deciles or quintiles, 1 = most deprived) with population share
a_j sit at the midpoints x_j = (share of the quantiles before j) + a_j / 2. A weighted least
squares line y = b0 + b1 x (weights a_j) gives SII = b1 × multiplier and RII = (b0 + b1) / b0;
with ``transform`` (rates on the log scale, proportions on the logit scale) the line is fitted
to f(y) and SII = g(b0 + b1) − g(b0). Limits come from simulating each quantile's value from
its standard error. See docs/methods/inequality.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit, logit

FloatArray = npt.NDArray[np.float64]
Z95 = 1.959964
IDENTITY, RATE, PROPORTION = 0, 1, 2
_SCALES: dict[
    int, tuple[Callable[[FloatArray], FloatArray], Callable[[FloatArray], FloatArray]]
] = {
    IDENTITY: (lambda v: v, lambda v: v),
    RATE: (np.log, np.exp),
    PROPORTION: (logit, expit),
}


@dataclass(frozen=True)
class Inequality:
    sii: float
    rii: float
    intercept: float
    limits: dict[float, tuple[float, float, float, float]]  # level -> sii lo, hi, rii lo, hi


def _rank_midpoints(population: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Each quantile's population share and the midpoint of its cumulative rank (0..1)."""
    a = population / population.sum()
    return a, np.cumsum(a) - a / 2.0


def slope_index(population: npt.ArrayLike, value: npt.ArrayLike) -> float:
    """The SII's point estimate alone (identity scale, quantiles most deprived first): the
    population-weighted least-squares slope of ``value`` on the quantiles' rank midpoints,
    for when no interval is wanted (:func:`sii` gives one by simulation)."""
    a, x = _rank_midpoints(np.asarray(population, dtype=np.float64))
    return float((_fit(x, a) @ np.asarray(value, dtype=np.float64))[1])


def _fit(x: FloatArray, a: FloatArray) -> FloatArray:
    """The 2 × Q matrix H with (b0, b1) = H @ y for weighted least squares with weights a."""
    design = np.column_stack([np.ones_like(x), x])
    weighted = design.T * a
    return np.asarray(np.linalg.solve(weighted @ design, weighted), dtype=np.float64)


#: More quantiles than this hold too few people each for a stable SII: warned, as the
#: reference warns, but still answered.
MAX_STABLE_QUANTILES = 10


def sii(
    population: npt.ArrayLike,
    value: npt.ArrayLike,
    *,
    se: npt.ArrayLike | None = None,
    lower: npt.ArrayLike | None = None,
    upper: npt.ArrayLike | None = None,
    count: npt.ArrayLike | None = None,
    value_type: int = IDENTITY,
    transform: bool = False,
    multiplier: float = 1.0,
    confidence: Sequence[float] = (0.95,),
    repetitions: int = 100_000,
    seed: int = 0,
) -> Inequality:
    """SII and RII of one area; quantiles in order (1 = most deprived first)."""
    pop = np.asarray(population, dtype=np.float64)
    y = np.asarray(value, dtype=np.float64)
    q = pop.size
    if not 5 <= q <= 100:
        raise ValueError(f"the number of quantiles must be between 5 and 100, not {q}")
    if q > MAX_STABLE_QUANTILES:
        warnings.warn(
            f"{q} quantiles: with more than {MAX_STABLE_QUANTILES}, small numbers in each make "
            "the SII unstable",
            stacklevel=2,
        )
    if np.any(np.isnan(pop)) or np.any(pop <= 0):
        raise ValueError("a quantile has zero, negative or missing population")
    if value_type not in _SCALES:
        raise ValueError("value_type must be 0 (identity), 1 (rate) or 2 (proportion)")
    if transform and value_type == IDENTITY:
        raise ValueError("transform applies to rates (1) and proportions (2) only")
    if repetitions < 1000:
        raise ValueError("at least 1,000 repetitions are needed")
    f, g = _SCALES[value_type]
    if value_type == PROPORTION:
        bounds = [y, *(np.asarray(v, dtype=np.float64) for v in (lower, upper) if v is not None)]
        if any(np.any((b < 0) | (b > 1)) for b in bounds):
            raise ValueError("proportions and their confidence limits must lie within 0..1")
        if count is not None and np.any(np.asarray(count, dtype=np.float64) <= 0):
            raise ValueError("a proportion computed from a count needs a count above zero")
    if se is not None:
        s = np.asarray(se, dtype=np.float64)
    elif lower is not None and upper is not None:
        lo = np.asarray(lower, dtype=np.float64)
        hi = np.asarray(upper, dtype=np.float64)
        s = (f(hi) - f(lo)) / (2.0 * Z95)
    else:
        raise ValueError("standard errors or 95% confidence limits are needed")
    if np.any(np.isnan(s)) or np.any(s < 0):
        raise ValueError("negative or missing standard error")

    a, x = _rank_midpoints(pop)
    hat = _fit(x, a)
    invert = multiplier < 0
    fy = f(y) if transform else y
    b0, b1 = hat @ fy
    if transform:
        slope = (g(np.array(b0 + b1)) - g(np.array(b0))) * multiplier
        rii = float(g(np.array(b0 + b1)) / g(np.array(b0)))
        intercept = float(g(np.array(b0))) * abs(multiplier)
    else:
        slope = b1 * multiplier
        rii = (b0 + b1) / b0
        intercept = float(b0)
    if invert:
        rii = 1.0 / rii

    rng = np.random.default_rng(seed)
    draws = rng.normal(f(y), s, size=(repetitions, q))
    limits: dict[float, tuple[float, float, float, float]] = {}
    if transform:
        sim_slopes = np.sort(draws @ hat[1])
        mid = b0 + b1 / 2.0
        sim_sii = (g(mid + sim_slopes / 2.0) - g(mid - sim_slopes / 2.0)) * multiplier
        sim_rii = g(mid + sim_slopes / 2.0) / g(mid - sim_slopes / 2.0)
        # the reference swaps for rates when multiplier < 1, for proportions when < 0
        swap = multiplier < 1 if value_type == RATE else multiplier < 0
        if swap:
            sim_rii = 1.0 / sim_rii
    else:
        coefficients = g(draws) @ hat.T
        sim_sii = coefficients[:, 1] * multiplier
        sim_rii = (coefficients[:, 0] + coefficients[:, 1]) / coefficients[:, 0]
        swap = False
        if invert:
            sim_rii = 1.0 / sim_rii
    sim_sii = np.sort(sim_sii)
    sim_rii = np.sort(sim_rii)
    for level in confidence:
        alpha = 1.0 - level
        k_low = int(np.round(repetitions * alpha / 2.0)) - 1
        k_high = int(np.round(repetitions * (1.0 - alpha / 2.0))) - 1
        s_lo, s_hi = float(sim_sii[k_low]), float(sim_sii[k_high])
        r_lo, r_hi = float(sim_rii[k_low]), float(sim_rii[k_high])
        if swap:
            s_lo, s_hi = float(sim_sii[k_high]), float(sim_sii[k_low])
            r_lo, r_hi = float(sim_rii[k_high]), float(sim_rii[k_low])
        limits[level] = (min(s_lo, s_hi), max(s_lo, s_hi), min(r_lo, r_hi), max(r_lo, r_hi))
    return Inequality(sii=float(slope), rii=float(rii), intercept=intercept, limits=limits)


def sii_by_area(
    frame: pd.DataFrame,
    *,
    area: str = "area",
    quantile: str = "quantile",
    **options: object,
) -> dict[str, Inequality]:
    """SII per area of a long frame (``population``, ``value``, ``se`` or ``lower_cl`` and
    ``upper_cl``). An area missing a quantile or a standard error is dropped with a warning."""
    q = int(frame.groupby(area)[quantile].nunique().max())
    results: dict[str, Inequality] = {}
    for name, group in frame.groupby(area, sort=True):
        group = group.sort_values(quantile)
        uncertainty = group["se"] if "se" in group and group["se"].notna().all() else None
        limits_given = {"lower_cl", "upper_cl"} <= set(group) and group[
            ["lower_cl", "upper_cl"]
        ].notna().all(axis=None)
        if len(group) != q or (uncertainty is None and not limits_given):
            warnings.warn(
                f"area {name}: missing a quantile or its uncertainty; no SII", stacklevel=2
            )
            continue
        results[str(name)] = sii(
            group["population"],
            group["value"],
            se=uncertainty,
            lower=group["lower_cl"] if uncertainty is None else None,
            upper=group["upper_cl"] if uncertainty is None else None,
            **options,  # type: ignore[arg-type]
        )
    return results
