"""The cohort-component step: one year of a population by area, sex and single year of age.

A population is an array ``(..., area, sex, age)``: any leading axes (Monte Carlo draws), then
areas, the two sexes in the model's order (female, male) and ages 0..100, the last open
(100 and over). One year (``docs/methods/projection.md``):

1. **deaths**: each person aged x dies within the year with probability q(x) (their area's,
   sex's and year's); survivors are a year older, and the open age keeps its survivors;
2. **births**: women aged 15-49 at the start and at the end of the year, averaged, times the
   age-specific fertility rate; a share 1 / (1 + sex ratio) of the babies are girls; they
   survive to the end of the year with probability 1 - q(0);
3. **net migration**: a rate by area, sex and age at the end of the year (net migrants per
   resident), applied to the survivors; a rate below -1 would take more people than live there
   and is refused.

Every operation is elementwise or a sum over ages, so the same function projects one area or a
thousand draws of every neighbourhood.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: float64 or float32: the engine projects in single precision, the back-cast in double
FloatArray = npt.NDArray[Any]

AGES = 101  #: 0..100, the last open
FEMALE, MALE = 0, 1
FERTILE = slice(15, 50)  #: the ages at which fertility rates apply, 15..49
#: Boys born for every girl: 105 to 100 (ONS births in England and Wales, long-run).
SEX_RATIO_AT_BIRTH = 1.05


@dataclass(frozen=True)
class StepResult:
    """The population a year on, with the year's births and deaths by area."""

    population: FloatArray
    births: FloatArray  # (..., area)
    deaths: FloatArray  # (..., area)


def age_one_year(population: FloatArray, survival: FloatArray) -> FloatArray:
    """Survivors a year older: age x + 1 holds the survivors of age x; the open age keeps its
    own survivors and gains those of 99. Age 0 is left empty for the year's births."""
    survival = np.broadcast_to(survival, np.broadcast_shapes(population.shape, np.shape(survival)))
    older = np.empty(survival.shape, dtype=np.result_type(population, survival))
    np.multiply(population[..., :-1], survival[..., :-1], out=older[..., 1:])
    older[..., -1] += population[..., -1] * survival[..., -1]
    older[..., 0] = 0.0
    return older


def step(
    population: FloatArray,
    death_probability: FloatArray,
    fertility: FloatArray,
    migration_rate: FloatArray,
    *,
    sex_ratio_at_birth: float = SEX_RATIO_AT_BIRTH,
    count_deaths: bool = True,
) -> StepResult:
    """One year of ``population`` (``(..., area, sex, age)``).

    ``death_probability`` and ``migration_rate`` broadcast against the population;
    ``fertility`` is births per woman a year by age, ``(..., area, age)`` over all 101 ages
    (zero outside 15-49), broadcasting likewise. ``count_deaths=False`` leaves the deaths
    uncounted (zero), saving two passes over the population.
    """
    if np.any(migration_rate < -1.0):
        raise ValueError("a net migration rate below -1 would take more people than live there")
    survival = 1.0 - death_probability
    older = age_one_year(population, survival)
    deaths = (
        (population * death_probability).sum(axis=(-2, -1))
        if count_deaths
        else np.zeros(population.shape[:-2])
    )

    # women aged 15-49 at the start and the survivors a year older at the end, averaged
    women_start = population[..., FEMALE, FERTILE]
    women_end = older[..., FEMALE, FERTILE]
    rates = np.broadcast_to(fertility, (*np.shape(fertility)[:-1], AGES))[..., FERTILE]
    births = 0.5 * ((women_start * rates).sum(axis=-1) + (women_end * rates).sum(axis=-1))
    girls = births / (1.0 + sex_ratio_at_birth)
    newborn = np.stack([girls, births - girls], axis=-1)  # (..., area, sex)
    infant_survival = np.broadcast_to(survival, older.shape)[..., 0]
    older[..., 0] = newborn * infant_survival
    if count_deaths:
        deaths = deaths + (newborn * (1.0 - infant_survival)).sum(axis=-1)

    older *= 1.0 + migration_rate
    return StepResult(population=older, births=births, deaths=deaths)
