"""Life expectancy from an abridged life table (Chiang II) with Silcocks' confidence limits.

Twenty age bands: 0, 1-4, 5-9, ..., 85-89 and 90+. With deaths D and population P per band,
M = D/P, the band width n (for 90+, n = 2/M), and a = 0.1 at age 0 and 0.5 otherwise:

    q = M n / (1 + M n (1 - a))            (q = 1 when D > P / (n a); so q = 1 for 90+)
    l(1) = 100,000; l(i+1) = l(i) (1 - q(i)); d = l(i) - l(i+1); d(20) = l(20)
    L = n (l(i+1) + a d)                   (L = l / M for 90+)
    e(i) = sum of L from i / l(i)

Variance (Chiang, with Silcocks' treatment of the open band): s² = q²(1 - q)/D (0 without
deaths; 4/(D M²) for 90+), W = l² ((1 - a) n + e(i+1))² s² (W = (l/2)² s² for 90+), and
SE(e(i)) = sqrt(sum of W from i) / l(i).

Public-health rules: an area with negative deaths, a population of 0 or less, more deaths than
people in a band, other than 20 bands, or 5,000 people or fewer gets no figures at all; a life
expectancy whose 95% interval is wider than 20 years is not shown (its limits are).
Sources: Chiang (1984); Silcocks, Jenner and Reza (2001) J Epidemiol Community Health 55:38;
OHID Public Health Data Science technical guidance. See docs/methods/life-expectancy.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.stats.intervals import check_confidence, z_value

FloatArray = npt.NDArray[np.float64]

#: Start ages of the 20 standard bands: 0, 1, 5, 10, ..., 90.
BAND_STARTS: tuple[int, ...] = (0, 1, *range(5, 95, 5))
RADIX = 100_000.0
MIN_POPULATION = 5_000
MAX_CI_WIDTH_YEARS = 20.0
Z95 = 1.959964


def band_index(age: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Index of each age's standard band (0 for age 0, 1 for ages 1-4, ..., 19 for 90+)."""
    return np.searchsorted(np.asarray(BAND_STARTS), np.asarray(age), side="right") - 1


@dataclass(frozen=True)
class LifeExpectancy:
    """Life expectancy at the start of each band, with limits by confidence level."""

    starts: npt.NDArray[np.int64]
    value: FloatArray
    limits: dict[float, tuple[FloatArray, FloatArray]]
    pops_used: FloatArray
    deaths_used: FloatArray

    @property
    def at_birth(self) -> float:
        return float(self.value[0])


def _missing(levels: list[float]) -> LifeExpectancy:
    nan = np.full(len(BAND_STARTS), np.nan)
    return LifeExpectancy(
        starts=np.asarray(BAND_STARTS, dtype=np.int64),
        value=nan.copy(),
        limits={level: (nan.copy(), nan.copy()) for level in levels},
        pops_used=nan.copy(),
        deaths_used=nan.copy(),
    )


def life_expectancy(
    deaths: npt.ArrayLike,
    population: npt.ArrayLike,
    start_ages: npt.ArrayLike = BAND_STARTS,
    confidence: float | Sequence[float] = (0.95, 0.998),
) -> LifeExpectancy:
    """Life expectancy at every band start for one area (bands in any order)."""
    levels = [
        check_confidence(float(c))
        for c in ([confidence] if isinstance(confidence, int | float) else confidence)
    ]
    starts = np.asarray(start_ages, dtype=np.float64)
    d = np.asarray(deaths, dtype=np.float64)
    p = np.asarray(population, dtype=np.float64)
    order = np.argsort(starts, kind="stable")
    starts, d, p = starts[order], d[order], p[order]
    if (
        starts.size != len(BAND_STARTS)
        or not np.array_equal(starts, BAND_STARTS)
        or np.any(np.isnan(d))
        or np.any(np.isnan(p))
        or np.any(d < 0)
        or np.any(p <= 0)
        or np.any(d > p)
        or p.sum() <= MIN_POPULATION
    ):
        return _missing(levels)

    k = len(BAND_STARTS)
    m = d / p
    n = np.diff(np.append(starts, np.nan))
    with np.errstate(divide="ignore"):
        n[-1] = 2.0 / m[-1] if m[-1] > 0 else np.inf
    a = np.full(k, 0.5)
    a[0] = 0.1
    with np.errstate(invalid="ignore"):  # the open last band (n = inf) is set below
        q = m * n / (1.0 + m * n * (1.0 - a))
    q = np.where(d > p / (n * a), 1.0, q)
    q[-1] = 1.0
    l_ = np.empty(k)
    l_[0] = RADIX
    for i in range(1, k):
        l_[i] = l_[i - 1] * (1.0 - q[i - 1])
    dl = np.append(l_[:-1] - l_[1:], l_[-1])
    big_l = np.empty(k)
    big_l[:-1] = n[:-1] * (l_[1:] + a[:-1] * dl[:-1])
    big_l[-1] = l_[-1] / m[-1] if m[-1] > 0 else 0.0
    t = np.cumsum(big_l[::-1])[::-1]
    e = np.divide(t, l_, out=np.zeros(k), where=l_ > 0)

    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(d > 0, q**2 * (1.0 - q) / d, 0.0)
        s2[-1] = 4.0 / (d[-1] * m[-1] ** 2) if d[-1] > 0 else 0.0
    e_next = np.append(e[1:], 0.0)
    with np.errstate(invalid="ignore"):  # likewise
        w = l_**2 * ((1.0 - a) * n + e_next) ** 2 * s2
    w[-1] = (l_[-1] / 2.0) ** 2 * s2[-1]
    se = np.divide(np.sqrt(np.cumsum(w[::-1])[::-1]), l_, out=np.zeros(k), where=l_ > 0)

    limits = {level: (e - z_value(level) * se, e + z_value(level) * se) for level in levels}
    value = np.where(Z95 * se > MAX_CI_WIDTH_YEARS / 2.0, np.nan, e)
    return LifeExpectancy(
        starts=np.asarray(BAND_STARTS, dtype=np.int64),
        value=value,
        limits=limits,
        pops_used=np.cumsum(p[::-1])[::-1],
        deaths_used=np.cumsum(d[::-1])[::-1],
    )


def life_expectancy_at_birth(
    deaths: npt.ArrayLike,
    population: npt.ArrayLike,
    confidence: float | Sequence[float] = (0.95, 0.998),
) -> dict[str, FloatArray]:
    """Life expectancy at birth of many areas at once: one row per area, one column per
    standard band (0, 1-4, ..., 90+, in order).

    The same figures and rules as :func:`life_expectancy` row by row, vectorised for tables of
    thousands of places. Returns ``value`` and ``lower<level>``/``upper<level>`` arrays
    (``lower95``, ``upper998``, ...).
    """
    levels = [
        check_confidence(float(c))
        for c in ([confidence] if isinstance(confidence, int | float) else confidence)
    ]
    d = np.asarray(deaths, dtype=np.float64)
    p = np.asarray(population, dtype=np.float64)
    k = len(BAND_STARTS)
    if d.ndim != 2 or d.shape != p.shape or d.shape[1] != k:
        raise ValueError(f"deaths and population need one row per area and {k} band columns")
    with np.errstate(invalid="ignore"):
        valid = (
            ~np.isnan(d).any(axis=1)
            & ~np.isnan(p).any(axis=1)
            & (d >= 0).all(axis=1)
            & (p > 0).all(axis=1)
            & (d <= p).all(axis=1)
            & (p.sum(axis=1) > MIN_POPULATION)
        )
    d = np.where(valid[:, None], d, 0.0)
    p = np.where(valid[:, None], p, 1.0)
    m = d / p
    widths = np.diff(np.append(np.asarray(BAND_STARTS, dtype=np.float64), np.nan))
    n = np.broadcast_to(widths, d.shape).copy()
    last_m = m[:, -1]
    with np.errstate(divide="ignore"):
        n[:, -1] = np.where(last_m > 0, 2.0 / np.where(last_m > 0, last_m, 1.0), np.inf)
    a = np.full(k, 0.5)
    a[0] = 0.1
    with np.errstate(invalid="ignore"):  # the open last band (n = inf) is set below
        q = m * n / (1.0 + m * n * (1.0 - a))
    q = np.where(d > p / (n * a), 1.0, q)
    q[:, -1] = 1.0
    l_ = np.empty_like(q)
    l_[:, 0] = RADIX
    l_[:, 1:] = RADIX * np.cumprod(1.0 - q[:, :-1], axis=1)
    dl = l_[:, :-1] - l_[:, 1:]
    big_l = np.empty_like(q)
    big_l[:, :-1] = n[:, :-1] * (l_[:, 1:] + a[:-1] * dl)
    big_l[:, -1] = np.where(last_m > 0, l_[:, -1] / np.where(last_m > 0, last_m, 1.0), 0.0)
    t = np.cumsum(big_l[:, ::-1], axis=1)[:, ::-1]
    e = np.divide(t, l_, out=np.zeros_like(t), where=l_ > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(d > 0, q**2 * (1.0 - q) / np.where(d > 0, d, 1.0), 0.0)
        s2[:, -1] = np.where(
            d[:, -1] > 0, 4.0 / (np.where(d[:, -1] > 0, d[:, -1], 1.0) * last_m**2), 0.0
        )
    e_next = np.concatenate([e[:, 1:], np.zeros((e.shape[0], 1))], axis=1)
    with np.errstate(invalid="ignore"):
        w = l_**2 * ((1.0 - a) * n + e_next) ** 2 * s2
    w[:, -1] = (l_[:, -1] / 2.0) ** 2 * s2[:, -1]
    se = np.sqrt(w.sum(axis=1)) / RADIX
    e0 = e[:, 0]
    nan = np.full(e0.shape, np.nan)
    out = {"value": np.where(valid & ~(Z95 * se > MAX_CI_WIDTH_YEARS / 2.0), e0, nan)}
    for level in levels:
        key = f"{level * 100:g}".replace(".", "")
        z = z_value(level)
        out[f"lower{key}"] = np.where(valid, e0 - z * se, nan)
        out[f"upper{key}"] = np.where(valid, e0 + z * se, nan)
    return out
