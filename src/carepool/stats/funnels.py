"""Funnel-plot control limits and significance (OHID / Fingertips methods).

Limits are drawn at 95% ("2s": one-sided p 0.025 / 0.975) and 99.8% ("3s": 0.001 / 0.999)
around the all-area average, over a 100-point axis of denominators. See
docs/methods/funnel-plots.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import gammaincinv, ndtri

from carepool.stats.intervals import poisson_limits
from carepool.stats.standardised import MIN_DSR_EVENTS

FloatArray = npt.NDArray[np.float64]
POINTS = 100
ONE_SIDED = {"2s": (0.025, 0.975), "3s": (0.001, 0.999)}


def _digits(whole: int) -> int:
    """How many digits an integer is written with (``0`` has one)."""
    return len(str(abs(whole)))


def _scaled(value: float, power: int, rounding: Callable[[float], int]) -> float:
    """``value`` rounded (by ``rounding``) to a multiple of 10^``power``, computed without
    dividing by a fraction (5.25 / 0.1 is 52.4999... in floating point)."""
    if power >= 0:
        step = 10**power
        return float(rounding(value / step) * step)
    step = 10**-power
    return float(rounding(value * step) / step)


def _round_down(value: float) -> float:
    """``value`` rounded down to one significant figure, counting the digits of its whole
    part as the reference does (below 1, that is 0)."""
    if value <= 0:
        return 0.0
    return _scaled(value, _digits(math.floor(value)) - 1, math.floor)


def _round_up(value: float) -> float:
    """``value`` rounded up to two significant figures of its ceiling: the digits are
    counted on the ceiling, so 9.45 (ceiling 10, two digits) rounds up to 10, not 9.5."""
    if value <= 0:
        return 0.0
    return _scaled(value, _digits(math.ceil(value)) - 2, math.ceil)


def axis_range(low: float, high: float) -> tuple[float, float]:
    """The axis minimum (0 when high > 2 × low, else 0.95 × low rounded down to one significant
    figure) and maximum (1.05 × high rounded up to two significant figures of its ceiling),
    with the reference's digit counting: it decides where small axes end (1.05 × 9 = 9.45
    ends at 10)."""
    minimum = 0.0 if high > 2 * low else _round_down(0.95 * low)
    return minimum, _round_up(1.05 * high)


def axis(low: float, high: float, *, offset: int = 0) -> FloatArray:
    """The 100 axis points for data from ``low`` to ``high`` (denominators or events)."""
    return axis_points(*axis_range(low, high), offset=offset)


def axis_points(minimum: float, maximum: float, *, offset: int = 0) -> FloatArray:
    """Points growing geometrically from max(1, minimum) to ``maximum``, each at least one
    above the last (rounding half to even)."""
    points = np.empty(POINTS)
    points[0] = max(1.0, minimum)
    for j in range(2, POINTS + 1):
        previous = points[j - 2]
        k = j - offset
        step = float(np.round((maximum / previous) ** (1.0 / (101 - k)) * previous))
        points[j - 1] = max(step, previous + 1)
    return points


def proportion_limit(
    average: float, population: FloatArray, p: float, multiplier: float = 1.0
) -> FloatArray:
    """The proportion whose Wilson interval at one-sided level ``p`` just reaches ``average``."""
    z = float(ndtri(p))
    n = np.asarray(population, dtype=np.float64)
    a = n / z**2 + 1.0
    root = np.sqrt(
        64 * average**2 * a**2
        - 64
        * (1 / z**2 + 1 / n)
        * average
        * (n * (average * (n / z**2 + 2) - 1) + z**2 * (average - 1))
    )
    sign = -1.0 if p < 0.5 else 1.0
    limit = (average * a + sign * root / 8.0) / (1 / z**2 + 1 / n) / n * multiplier
    return np.asarray(np.clip(limit, 0.0, 100.0), dtype=np.float64)


def proportion_funnel(
    numerators: npt.ArrayLike, denominators: npt.ArrayLike, multiplier: float = 100.0
) -> pd.DataFrame:
    """Funnel limits for proportions: one row per axis point."""
    x = np.asarray(numerators, dtype=np.float64)
    n = np.asarray(denominators, dtype=np.float64)
    average = float(x.sum() / n.sum())
    population = axis(float(n.min()), float(n.max()))
    frame = pd.DataFrame({"point": np.arange(1, POINTS + 1), "population": population})
    for label, (low, high) in ONE_SIDED.items():
        frame[f"lower_{label}_limit"] = proportion_limit(average, population, low, multiplier)
        frame[f"upper_{label}_limit"] = proportion_limit(average, population, high, multiplier)
    frame["baseline"] = average * multiplier
    return frame


def proportion_significance(
    numerators: npt.ArrayLike, denominators: npt.ArrayLike
) -> npt.NDArray[np.str_]:
    """Each area against the funnel of all areas: High/Low at 0.001 or 0.025, or not."""
    x = np.asarray(numerators, dtype=np.float64)
    n = np.asarray(denominators, dtype=np.float64)
    average = float(x.sum() / n.sum())
    value = x / n
    limits = {
        (label, side): proportion_limit(average, n, p, 1.0)
        for label, pair in ONE_SIDED.items()
        for side, p in zip(("lower", "upper"), pair, strict=True)
    }
    result = np.full(x.shape, "Not significant", dtype=object)
    result = np.where(value > limits[("2s", "upper")], "High (0.025)", result)
    result = np.where(value > limits[("3s", "upper")], "High (0.001)", result)
    result = np.where(value < limits[("2s", "lower")], "Low (0.025)", result)
    result = np.where(value < limits[("3s", "lower")], "Low (0.001)", result)
    return np.asarray(result, dtype=str)


def ratio_expected(observed: FloatArray, p: float, side: str) -> FloatArray:
    """The expected count at which a Poisson count has tail probability ``p`` at ``observed``:
    ``lower`` solves P(K <= O) = p, ``upper`` solves P(K >= O) = p (closed chi-square forms;
    ½χ²(q; 2k) is computed as the inverse regularised incomplete gamma P⁻¹(k, q))."""
    o = np.asarray(observed, dtype=np.float64)
    if side == "lower":
        return np.asarray(gammaincinv(o + 1.0, 1.0 - p), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.where(o > 0, gammaincinv(o, p), 0.0), dtype=np.float64)


def ratio_funnel(observed: npt.ArrayLike, expected: npt.ArrayLike) -> pd.DataFrame:
    """Funnel limits for observed/expected ratios: one row per axis point of observed events."""
    e = np.asarray(expected, dtype=np.float64)
    events = axis(float(e.min()), float(e.max()), offset=1)
    frame = pd.DataFrame({"point": np.arange(1, POINTS + 1), "observed_events": events})
    for label, (p, _) in ONE_SIDED.items():
        for side in ("lower", "upper"):
            exp_events = ratio_expected(events, p, side)
            frame[f"{side}_{label}_exp_events"] = exp_events
            frame[f"{side}_{label}_count"] = events / exp_events - 1.0
            frame[f"{side}_{label}_isr"] = events / exp_events * 100.0
    return frame


def ratio_significance(observed: npt.ArrayLike, expected: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """High if the Poisson interval of O / E lies above 1, Low if below (99.8% first)."""
    o = np.asarray(observed, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    result = np.full(o.shape, "Not significant", dtype=object)
    for level, tag in ((0.95, "0.025"), (0.998, "0.001")):
        lower, upper, _ = poisson_limits(o, level)
        lower = np.where(o == 0, 0.0, lower)
        result = np.where(lower / e > 1, f"High ({tag})", result)
        result = np.where(upper / e < 1, f"Low ({tag})", result)
    return np.asarray(result, dtype=str)


NOT_APPLICABLE_DSR = f"Not applicable for events less than {MIN_DSR_EVENTS} for dsrs"


def implied_denominators(
    events: FloatArray,
    rates: FloatArray,
    denominators: FloatArray | None,
    rate_type: str,
    multiplier: float,
) -> FloatArray:
    """D = multiplier × x / r; for a DSR with no events D is missing, for a crude rate it is
    the supplied denominator."""
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = multiplier * events / rates
    if rate_type == "dsr":
        return np.asarray(np.where(events == 0, np.nan, derived), dtype=np.float64)
    if rate_type != "crude":
        raise ValueError(f"rate_type must be 'dsr' or 'crude', not {rate_type!r}")
    supplied = np.full(events.shape, np.nan) if denominators is None else denominators
    return np.asarray(np.where(events == 0, supplied, derived), dtype=np.float64)


def _rate_inputs(
    events: npt.ArrayLike,
    rates: npt.ArrayLike,
    denominators: npt.ArrayLike | None,
    rate_type: str,
    multiplier: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Events, rates and implied denominators as float arrays."""
    x = np.asarray(events, dtype=np.float64)
    r = np.asarray(rates, dtype=np.float64)
    n = None if denominators is None else np.asarray(denominators, dtype=np.float64)
    return x, r, implied_denominators(x, r, n, rate_type, multiplier)


def rate_funnel(
    events: npt.ArrayLike,
    rates: npt.ArrayLike,
    denominators: npt.ArrayLike | None = None,
    *,
    rate_type: str = "dsr",
    multiplier: float = 100_000,
    years: float = 1,
) -> pd.DataFrame:
    """Funnel limits for rates over an axis of event counts."""
    x, _, d = _rate_inputs(events, rates, denominators, rate_type, multiplier)
    known = ~np.isnan(d)
    average = float(x[known].sum() / d[known].sum())
    per_year = d[known] / years
    low, high = axis_range(float(per_year.min()), float(per_year.max()))
    first = math.floor(low * years * average)
    last = math.ceil(high * years * average)
    points = axis_points(first, last)
    frame = pd.DataFrame({"point": np.arange(1, POINTS + 1), "events": points})
    for label, (p, _) in ONE_SIDED.items():
        for side in ("lower", "upper"):
            population = ratio_expected(points, p, side) / average
            frame[f"{side}_{label}_population_1_year"] = population / years
            frame[f"{side}_{label}_limit"] = points / population * multiplier
    frame["baseline"] = average * multiplier
    return frame


def rate_significance(
    events: npt.ArrayLike,
    rates: npt.ArrayLike,
    denominators: npt.ArrayLike | None = None,
    *,
    rate_type: str = "dsr",
    multiplier: float = 100_000,
) -> npt.NDArray[np.str_]:
    """Each area's rate against the all-area average (as for ratios, 99.8% before 95%)."""
    x, _, d = _rate_inputs(events, rates, denominators, rate_type, multiplier)
    known = ~np.isnan(d)
    average = float(x[known].sum() / d[known].sum())
    result = np.full(x.shape, "Not significant", dtype=object)
    for level, tag in ((0.95, "0.025"), (0.998, "0.001")):
        lower, upper, _ = poisson_limits(x, level)
        lower = np.where(x == 0, 0.0, lower)
        with np.errstate(invalid="ignore"):
            result = np.where(lower / d > average, f"High ({tag})", result)
            result = np.where(upper / d < average, f"Low ({tag})", result)
    if rate_type == "dsr":
        result = np.where(x < MIN_DSR_EVENTS, NOT_APPLICABLE_DSR, result)
    return np.asarray(result, dtype=str)


def rate_chart_points(
    events: npt.ArrayLike,
    rates: npt.ArrayLike,
    denominators: npt.ArrayLike | None = None,
    *,
    rate_type: str = "dsr",
    multiplier: float = 100_000,
    years: float = 1,
) -> pd.DataFrame:
    """Where each area is drawn: its rate and its denominator per year (a DSR from fewer than
    10 events is not drawn)."""
    x, r, implied = _rate_inputs(events, rates, denominators, rate_type, multiplier)
    d = implied / years
    if rate_type == "dsr":
        small = x < MIN_DSR_EVENTS
        return pd.DataFrame(
            {
                "rate_chart": np.where(small, np.nan, r),
                "denominator_derived": np.where(small, np.nan, d),
            }
        )
    return pd.DataFrame({"rate_chart": r, "denominator_derived": d})
