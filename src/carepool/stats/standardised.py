"""Directly and indirectly standardised rates (OHID methods).

Direct standardisation weights each age band's rate by a standard population (by default the
2013 European Standard Population) and gives Dobson limits; a DSR from fewer than 10 events is
not published (NaN). Indirect standardisation compares observed events with those expected at
reference rates. See docs/methods/standardised-rates.md.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from carepool.stats.intervals import byars_limits, poisson_limits
from carepool.stats.rates import CONFIDENCE_LEVELS, Result, _levels, level_key

#: European Standard Population 2013: 0-4, 5-9, ..., 85-89, 90+ (Eurostat, 2013).
ESP2013: tuple[int, ...] = (
    5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
    7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000,
)  # fmt: skip
ESP2013_STARTS: tuple[int, ...] = tuple(range(0, 95, 5))
MIN_DSR_EVENTS = 10


def _standard_limits(result: MutableMapping[str, Any], shape: tuple[int, ...] | None) -> None:
    """Give ``result`` both standard levels' limit keys (95% and 99.8%), empty (NaN) for a
    level not asked for: a table asked at 95% only has the same columns, the 99.8% left
    blank, as the reference leaves them."""
    for level in CONFIDENCE_LEVELS:
        for side in ("lower", "upper"):
            empty: Any = np.nan if shape is None else np.full(shape, np.nan)
            result.setdefault(f"{side}{level_key(level)}", empty)


def _dobson(
    dsr: float, variance: float, observed: float, multiplier: float, levels: list[float]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for level in levels:
        lower, upper = byars_limits(np.array([observed]), level)
        scale = np.sqrt(variance / observed) * multiplier
        out[f"lower{level_key(level)}"] = dsr + scale * (float(lower[0]) - observed)
        out[f"upper{level_key(level)}"] = dsr + scale * (float(upper[0]) - observed)
    return out


def dsr(
    counts: npt.ArrayLike,
    populations: npt.ArrayLike,
    standard: npt.ArrayLike = ESP2013,
    multiplier: float = 100_000,
    confidence: float | Sequence[float] = CONFIDENCE_LEVELS,
) -> dict[str, float]:
    """Directly standardised rate of one area, age bands aligned with ``standard``.

    A missing count is 0; every population must be positive. Returns value, limits,
    ``total_count`` and ``total_pop``; value and limits are NaN below 10 events.
    """
    x = np.nan_to_num(np.asarray(counts, dtype=np.float64), nan=0.0)
    n = np.asarray(populations, dtype=np.float64)
    w = np.asarray(standard, dtype=np.float64)
    if not x.shape == n.shape == w.shape:
        raise ValueError("counts, populations and the standard need the same age bands")
    if np.any(np.isnan(n)) or np.any(n <= 0):
        raise ValueError("every age band needs a population above zero")
    if np.any(w < 0):
        raise ValueError("standard population weights must not be negative")
    if np.any(x < 0):
        raise ValueError("counts must not be negative")
    return _dsr_from_variance(
        value=float(np.sum(w * x / n) / w.sum()),
        variance=float(np.sum(w**2 * x / n**2) / w.sum() ** 2),
        observed=float(x.sum()),
        total_pop=float(n.sum()),
        multiplier=multiplier,
        confidence=confidence,
    )


def dsr_many(
    counts: npt.ArrayLike,
    populations: npt.ArrayLike,
    standard: npt.ArrayLike = ESP2013,
    multiplier: float = 100_000,
    confidence: float | Sequence[float] = CONFIDENCE_LEVELS,
    squares: npt.ArrayLike | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """:func:`dsr` of many areas at once: one row of ``counts`` and ``populations`` per area,
    one column per age band of ``standard``.

    The same values and limits as :func:`dsr` row by row, vectorised for tables of thousands
    of places. One relaxation: a band with no population and no events contributes nothing
    (small areas often have nobody aged 90+); a band with events but no population is an
    error.

    ``squares``, when given, is each band's sum over people of their events squared: one
    person can then have several events (admissions), and the variance is
    Σ w² Σ f² / n² / (Σ w)², as in :func:`dsr_nonindependent`, instead of Σ w² O / n² / (Σ w)².
    """
    x = np.nan_to_num(np.asarray(counts, dtype=np.float64), nan=0.0)
    n = np.asarray(populations, dtype=np.float64)
    w = np.asarray(standard, dtype=np.float64)
    if x.ndim != 2 or x.shape != n.shape or x.shape[1] != w.size:
        raise ValueError("counts and populations need one row per area, one column per band")
    if np.any(np.isnan(n)) or np.any(n < 0) or np.any(x < 0) or np.any(w < 0):
        raise ValueError("counts, populations and weights must not be negative or missing")
    if np.any((n == 0) & (x > 0)):
        raise ValueError("an age band has events but no population")
    safe = np.where(n > 0, n, 1.0)
    value = (x / safe) @ w / w.sum() * multiplier
    events = x if squares is None else np.asarray(squares, dtype=np.float64)
    if events.shape != x.shape:
        raise ValueError("squares need the same shape as counts")
    variance = (events / safe**2) @ w**2 / w.sum() ** 2
    observed = x.sum(axis=1)
    result: dict[str, npt.NDArray[np.float64]] = {
        "value": value,
        "total_count": observed,
        "total_pop": n.sum(axis=1),
        "standard_error": np.sqrt(variance) * multiplier,
    }
    enough = observed >= MIN_DSR_EVENTS
    result["value"] = np.where(enough, value, np.nan)
    positive = np.where(observed > 0, observed, 1.0)
    for level in _levels(confidence):
        lower, upper = byars_limits(observed, level)
        scale = np.sqrt(variance / positive) * multiplier
        for name, limit in (("lower", lower), ("upper", upper)):
            dobson = value + scale * (limit - observed)
            result[f"{name}{level_key(level)}"] = np.where(enough, dobson, np.nan)
    _standard_limits(result, observed.shape)
    return result


def dsr_nonindependent(
    frequencies: npt.ArrayLike,
    individuals: npt.ArrayLike,
    band: npt.ArrayLike,
    populations: npt.ArrayLike,
    standard: npt.ArrayLike,
    multiplier: float = 100_000,
    confidence: float | Sequence[float] = CONFIDENCE_LEVELS,
) -> dict[str, float]:
    """DSR when one person can have several events (Fingertips' method for, e.g., repeat
    admissions): rows are (age band, event frequency f, individuals with exactly f events);
    ``band`` indexes ``populations`` and ``standard``."""
    f = np.asarray(frequencies, dtype=np.float64)
    people = np.nan_to_num(np.asarray(individuals, dtype=np.float64), nan=0.0)
    b = np.asarray(band, dtype=np.int64)
    n = np.asarray(populations, dtype=np.float64)
    w = np.asarray(standard, dtype=np.float64)
    if np.any(n <= 0):
        raise ValueError("every age band needs a population above zero")
    events = np.bincount(b, weights=f * people, minlength=n.size)
    variance = float(np.sum(f**2 * w[b] ** 2 * people / n[b] ** 2) / w.sum() ** 2)
    return _dsr_from_variance(
        value=float(np.sum(w * events / n) / w.sum()),
        variance=variance,
        observed=float(events.sum()),
        total_pop=float(n.sum()),
        multiplier=multiplier,
        confidence=confidence,
    )


def _dsr_from_variance(
    *,
    value: float,
    variance: float,
    observed: float,
    total_pop: float,
    multiplier: float,
    confidence: float | Sequence[float],
) -> dict[str, float]:
    levels = _levels(confidence)
    result = {"total_count": observed, "total_pop": total_pop}
    if observed < MIN_DSR_EVENTS:
        result["value"] = np.nan
        for level in levels:
            result[f"lower{level_key(level)}"] = np.nan
            result[f"upper{level_key(level)}"] = np.nan
        _standard_limits(result, None)
        return result
    result["value"] = value * multiplier
    result.update(_dobson(value * multiplier, variance, observed, multiplier, levels))
    _standard_limits(result, None)
    return result


def isr(
    counts: npt.ArrayLike,
    populations: npt.ArrayLike,
    reference_counts: npt.ArrayLike,
    reference_populations: npt.ArrayLike,
    *,
    statistic: str = "ratio",
    scale: float = 100,
    confidence: float | Sequence[float] = CONFIDENCE_LEVELS,
) -> Result:
    """Indirectly standardised ratio (O/E × ``scale``, e.g. SMR × 100) or rate
    (O/E × reference rate per ``scale``), with exact or Byar's limits on O."""
    x = np.nan_to_num(np.asarray(counts, dtype=np.float64), nan=0.0)
    n = np.nan_to_num(np.asarray(populations, dtype=np.float64), nan=0.0)
    rx = np.nan_to_num(np.asarray(reference_counts, dtype=np.float64), nan=0.0)
    rn = np.asarray(reference_populations, dtype=np.float64)
    rates = np.divide(rx, rn, out=np.zeros_like(rx), where=rn > 0)
    expected = float(np.sum(rates * n))
    observed = float(x.sum())
    if statistic == "ratio":
        factor = scale
        ref_rate = np.nan
    elif statistic == "rate":
        ref_rate = float(rx.sum() / np.nansum(rn) * scale)
        factor = ref_rate
    else:
        raise ValueError(f"statistic must be 'ratio' or 'rate', not {statistic!r}")
    result: Result = {
        "observed": np.array([observed]),
        "expected": np.array([expected]),
        "ref_rate": np.array([ref_rate]),
        "value": np.array([observed / expected * factor]),
    }
    for level in _levels(confidence):
        lower, upper, method = poisson_limits(np.array([observed]), level)
        result[f"lower{level_key(level)}"] = lower / expected * factor
        result[f"upper{level_key(level)}"] = upper / expected * factor
        result.setdefault("method", method)
    _standard_limits(result, (1,))
    return result
