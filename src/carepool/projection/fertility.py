"""Births: England and Wales's age-specific fertility rates for the shape, each area's own
children for the level.

The published schedule (ONS births in England and Wales) says how fertility falls and rises
with the mother's age; how many children an area's women have differs from place to place.
The level is read from the base population itself: the children under five it holds are the
survivors of five years of births, so

    births a year = children aged 0-4 / 5 / l(2.5)
    level k       = births a year / sum over x of shape(x) * women(x)

and the area's rates are ``k * shape(x)`` (its total fertility rate ``k`` times the schedule's).
Children who moved in or out with their parents are counted with the births, so the level is
net of the migration of the under-fives (``docs/methods/projection.md``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carepool.errors import ReferenceDataError
from carepool.projection.cohort import AGES, FEMALE, FERTILE
from carepool.reference import read_reference

FloatArray = npt.NDArray[np.float64]


def fertility_schedule(year: int, series: str = "observed") -> FloatArray:
    """Births per woman a year at each age 0..100 in ``year`` of ``series`` (``observed``, or
    ``npp-2018-principal``: ONS's projected schedule), zero outside 15-49. Single years of age
    where they are given, else the five-year groups spread evenly over their ages ("under 20"
    over 15-19 and "40 and over" over 40-44, the women they are rates of)."""
    table = read_reference(
        "fertility_england_wales",
        ["series", "year", "age_from", "age_to", "births_per_1000_women"],
    ).to_pandas()
    rows = table[(table["year"] == year) & (table["series"] == series)]
    if rows.empty:
        of_series = table[table["series"] == series]
        years = ", ".join(str(y) for y in sorted(set(of_series["year"])))
        raise ReferenceDataError(
            f"fertility_england_wales.csv: no {series} rates for {year} "
            f"(there are {years or 'none'})"
        )
    single = rows[rows["age_from"] == rows["age_to"]]
    chosen = single if not single.empty else rows
    schedule = np.zeros(AGES)
    for row in chosen.itertuples(index=False):
        first, last = int(row.age_from), int(row.age_to)
        schedule[first : last + 1] = float(row.births_per_1000_women) / 1000.0
    schedule[: FERTILE.start] = 0.0
    schedule[FERTILE.stop :] = 0.0
    return schedule


def fertility_level(
    population: FloatArray, schedule: FloatArray, child_survival: FloatArray | float
) -> FloatArray:
    """Each area's multiple of ``schedule`` (``population``: ``(..., area, sex, age)``) from
    its own children under five; ``child_survival`` is l(2.5), the chance a baby lives to the
    middle of those ages (a scalar, or broadcasting against the areas)."""
    children = population[..., :, 0:5].sum(axis=(-2, -1))
    births = children / 5.0 / np.asarray(child_survival)
    expected = (population[..., FEMALE, :] * schedule).sum(axis=-1)
    level: FloatArray = np.divide(births, expected, out=np.zeros_like(births), where=expected > 0)
    return level
