"""The deprivation gradient in mortality, by age.

The rates card gives one mortality rate ratio per sex and deprivation quintile, derived from
ONS life expectancy by national deprivation decile: the ratio that, applied to England's
life table at every age, reproduces each decile's life expectancy. Applied at every age, it
puts too few of the deprived quintiles' extra deaths under 75: relative inequality in
mortality is widest in mid-life and narrows in old age, when almost everybody's risk is
high. So the ratio is shaped by age,

    RR_q(x) = RR_q ** (s_q * w(x))

with a weight ``w`` that is :data:`YOUNG_WEIGHT` up to :data:`YOUNG_AGE`, falls linearly to
:data:`OLD_WEIGHT` at :data:`OLD_AGE` and stays there (a judgement, stated in the data
card), and ``s_q`` solved for each sex and quintile so that the quintile's period life
expectancy is exactly what the flat ratio gives: the card's life expectancy gradient holds,
and only the ages at which the deaths fall change.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

FloatArray = npt.NDArray[np.float64]

YOUNG_AGE: Final = 40
OLD_AGE: Final = 90
YOUNG_WEIGHT: Final = 1.6
OLD_WEIGHT: Final = 0.6


def period_life_expectancy(qx: FloatArray) -> float:
    """Life expectancy at birth from single-year death probabilities 0..100 (last = open)."""
    survivors = np.cumprod(np.concatenate([[1.0], 1.0 - qx[:-1]]))
    deaths = survivors * qx
    person_years = survivors - 0.5 * deaths
    person_years[0] = survivors[0] - 0.9 * deaths[0]
    open_q = max(float(qx[-1]), 1e-6)
    person_years[-1] = survivors[-1] / (-np.log(1.0 - min(open_q, 0.999999)))
    return float(person_years.sum())


def age_weight(ages: npt.NDArray[np.int64]) -> FloatArray:
    """``w(x)``: how much of the log rate ratio applies at each age."""
    span = (np.clip(ages, YOUNG_AGE, OLD_AGE) - YOUNG_AGE) / (OLD_AGE - YOUNG_AGE)
    weight: FloatArray = YOUNG_WEIGHT + (OLD_WEIGHT - YOUNG_WEIGHT) * span
    return weight


def hazard(qx: FloatArray, ratio: FloatArray | float) -> FloatArray:
    """England's death probabilities ``qx`` with the annual hazard multiplied by ``ratio``:
    1 - (1 - qx) ** ratio."""
    out: FloatArray = 1.0 - np.power(1.0 - qx, ratio)
    return out


def age_shaped_ratios(qx: FloatArray, flat: FloatArray) -> FloatArray:
    """``[sex, quintile, age]`` rate ratios from the card's ``flat[sex, quintile]``, each
    quintile keeping the life expectancy its flat ratio gives."""
    ages = np.arange(qx.shape[1])
    weight = age_weight(ages)
    shaped = np.ones((*flat.shape, ages.size))
    for s in range(flat.shape[0]):
        for q in range(flat.shape[1]):
            ratio = float(flat[s, q])
            if abs(np.log(ratio)) < 1e-12:
                continue  # a ratio of one has no shape
            target = period_life_expectancy(hazard(qx[s], ratio))

            def gap(
                scale: float, s: int = s, ratio: float = ratio, target: float = target
            ) -> float:
                return period_life_expectancy(hazard(qx[s], ratio ** (scale * weight))) - target

            scale = brentq(gap, 0.05, 5.0, xtol=1e-10)
            shaped[s, q] = ratio ** (scale * weight)
    return shaped
