"""Crude rates, proportions and means with their confidence limits (OHID methods).

Each function takes arrays (one element per area) and returns a dict of arrays: ``value`` and,
for each requested confidence level, ``lower``/``upper`` keyed by the level. Missing inputs
(NaN) give missing outputs, never zero. See docs/methods/rates-proportions-means.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import stdtrit

from carepool.stats.intervals import check_confidence, poisson_limits, wilson_limits

FloatArray = npt.NDArray[np.float64]
Result = dict[str, npt.NDArray[np.generic]]
#: The confidence levels of every published interval: 95% and 99.8%.
CONFIDENCE_LEVELS: tuple[float, ...] = (0.95, 0.998)


def _levels(confidence: float | Sequence[float]) -> list[float]:
    raw = [confidence] if isinstance(confidence, int | float) else list(confidence)
    return [check_confidence(float(c)) for c in raw]


def level_key(level: float) -> str:
    """``95`` for 0.95, ``998`` for 0.998: the suffix of limit columns."""
    return f"{level * 100:g}".replace(".", "")


def crude_rate(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    multiplier: float = 100_000,
    confidence: float | Sequence[float] = CONFIDENCE_LEVELS,
    squares: npt.ArrayLike | None = None,
) -> Result:
    """x / n × multiplier with exact (x < 10) or Byar's (x ≥ 10) Poisson limits.

    ``squares``, when given, is the sum over people of their events squared, for events one
    person can have many of (attendances, bed days): the Poisson limits are then widened about
    the count by √(Σ f² / x), the ratio of the variance to the Poisson variance, as Dobson's
    method scales a DSR's limits.
    """
    x = np.asarray(numerator, dtype=np.float64)
    n = np.asarray(denominator, dtype=np.float64)
    if np.any(x < 0) or np.any(n <= 0):
        raise ValueError("crude rates need numerators >= 0 and denominators > 0")
    scale = np.ones_like(x)
    if squares is not None:
        f2 = np.asarray(squares, dtype=np.float64)
        if np.any(f2 < x * (1 - 1e-12)):
            raise ValueError("a sum of squared counts cannot be below the count")
        scale = np.sqrt(np.divide(f2, x, out=np.ones_like(x), where=x > 0))
    result: Result = {"value": x / n * multiplier}
    for level in _levels(confidence):
        lower, upper, method = poisson_limits(x, level)
        lower, upper = x + (lower - x) * scale, x + (upper - x) * scale
        result[f"lower{level_key(level)}"] = np.maximum(lower, 0.0) / n * multiplier
        result[f"upper{level_key(level)}"] = upper / n * multiplier
        result.setdefault("method", method)
    return result


def proportion(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    multiplier: float = 1,
    confidence: float | Sequence[float] = CONFIDENCE_LEVELS,
) -> Result:
    """x / n × multiplier with Wilson score limits."""
    x = np.asarray(numerator, dtype=np.float64)
    n = np.asarray(denominator, dtype=np.float64)
    known = ~(np.isnan(x) | np.isnan(n))
    if np.any(n[known] <= 0) or np.any(x[known] < 0) or np.any(x[known] > n[known]):
        raise ValueError("proportions need 0 <= numerator <= denominator and denominator > 0")
    result: Result = {"value": x / n * multiplier}
    for level in _levels(confidence):
        lower = np.full(x.shape, np.nan)
        upper = np.full(x.shape, np.nan)
        lo, up = wilson_limits(x[known], n[known], level)
        # rounding can put a limit a hair outside 0..1 when x is 0 or n
        lower[known], upper[known] = np.clip(lo, 0.0, 1.0), np.clip(up, 0.0, 1.0)
        result[f"lower{level_key(level)}"] = lower * multiplier
        result[f"upper{level_key(level)}"] = upper * multiplier
    return result


def mean_ci(
    values: npt.ArrayLike, confidence: float | Sequence[float] = CONFIDENCE_LEVELS
) -> Result:
    """Mean of the values with Student-t limits (sample standard deviation, k − 1)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    k = v.size
    if k < 2:
        raise ValueError("a mean with confidence limits needs at least two values")
    mean = float(v.mean())
    sd = float(v.std(ddof=1))
    result: Result = {
        "value": np.array([mean]),
        "value_sum": np.array([float(v.sum())]),
        "value_count": np.array([float(k)]),
        "stdev": np.array([sd]),
    }
    for level in _levels(confidence):
        half = abs(float(stdtrit(k - 1, (1 - level) / 2))) * sd / np.sqrt(k)
        result[f"lower{level_key(level)}"] = np.array([mean - half])
        result[f"upper{level_key(level)}"] = np.array([mean + half])
    return result
