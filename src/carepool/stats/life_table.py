"""Abridged period life tables (Chiang II), as used by English public health analysts.

Age bands are 0, 1-4, 5-9, ..., 85-89 and 90+. With deaths ``D`` and population (or
person-years) ``P`` per band, the central rate is ``M = D / P``, the fraction of the band
lived by those who die in it is ``a = 0.1`` for age 0 and ``0.5`` otherwise, and

    q = n M / (1 + n (1 - a) M)        (q = 1 in the open band)
    l(x+n) = l(x) (1 - q)
    L = n (l(x+n) + a l(x) q)          (L = l / M in the open band)
    e(x) = sum of L from x / l(x)

Source: Chiang CL (1984) *The Life Table and its Applications*; Public Health England,
*Technical Guide: Life expectancy and healthy life expectancy* (2017). See
docs/methods/life-expectancy.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Lower bounds of the standard bands: 0, 1, 5, 10, ..., 90.
BAND_STARTS: tuple[int, ...] = (0, 1, *range(5, 95, 5))
RADIX = 100_000.0


def band_index(age: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Index of each age's standard band (0 for age 0, 1 for ages 1-4, ..., 19 for 90+)."""
    return np.searchsorted(np.asarray(BAND_STARTS), np.asarray(age), side="right") - 1


@dataclass(frozen=True)
class LifeTable:
    starts: npt.NDArray[np.int64]
    q: npt.NDArray[np.float64]
    l: npt.NDArray[np.float64]  # noqa: E741 - the standard life-table symbol
    big_l: npt.NDArray[np.float64]
    e: npt.NDArray[np.float64]

    @property
    def at_birth(self) -> float:
        return float(self.e[0])


def abridged_life_expectancy(deaths: npt.ArrayLike, population: npt.ArrayLike) -> LifeTable:
    """Chiang II abridged life table from deaths and population in the 20 standard bands."""
    d = np.asarray(deaths, dtype=np.float64)
    p = np.asarray(population, dtype=np.float64)
    k = len(BAND_STARTS)
    if d.shape != (k,) or p.shape != (k,):
        raise ValueError(f"deaths and population need {k} bands (0, 1-4, 5-9, ..., 90+)")
    if np.any(p <= 0):
        raise ValueError("every band needs a positive population")
    if d[-1] <= 0:
        raise ValueError("the open band (90+) needs at least one death")
    starts = np.asarray(BAND_STARTS, dtype=np.int64)
    n = np.diff(np.append(starts, starts[-1] + 1)).astype(np.float64)
    m = d / p
    a = np.full(k, 0.5)
    a[0] = 0.1
    q = n * m / (1.0 + n * (1.0 - a) * m)
    q[-1] = 1.0
    q = np.minimum(q, 1.0)
    l_ = np.empty(k)
    l_[0] = RADIX
    for i in range(1, k):
        l_[i] = l_[i - 1] * (1.0 - q[i - 1])
    deaths_lt = l_ * q
    big_l = np.empty(k)
    big_l[:-1] = n[:-1] * (l_[1:] + a[:-1] * deaths_lt[:-1])
    big_l[-1] = l_[-1] / m[-1]
    t = np.cumsum(big_l[::-1])[::-1]
    e = t / l_
    return LifeTable(starts=starts, q=q, l=l_, big_l=big_l, e=e)
