"""Net migration by area, sex and age, read from two censuses ten years apart.

No small-area flows are vendored, but the censuses say where each cohort ended up: what the
projection's own births and deaths cannot explain between two censuses is net migration (the
census residual method). The rates are found by running the projection itself over the decade:

1. start from the first census, split into single years; project ten years with the year's
   death probabilities and the fertility read from each census's children (the level moving
   evenly from the first's to the second's), and net migration rates ``m`` (nothing at first);
2. compare each five-year group at the second census with the projection: a cohort that ends
   in group ``g`` passed the middle of the decade in group ``g - 1``, so the rates of the ages in
   ``g - 1`` are multiplied by ``(observed / projected) ** (1 / 10)``;
3. repeat until the projection reproduces the second census (to 0.1% in every group).

So a projection run with the rates reproduces the decade it was read from, by construction.
A projection ahead uses the mean of the two decades before its base (of ``log(1 + m)``): one
census's under- or over-count then raises one decade's rates and lowers the other's, and cancels
(``docs/methods/projection.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.errors import ReferenceDataError
from carepool.projection.ages import GROUP_OF_AGE, GROUP_STARTS, to_groups
from carepool.projection.cohort import AGES, step
from carepool.reference import read_reference

FloatArray = npt.NDArray[np.float64]

DECADE = 10
ITERATIONS = 400
TOLERANCE = 1e-3
#: The rate group each single age takes its rate from: the group after its own (the cohorts
#: that pass it mid-decade end there), the open group from itself.
_RATE_GROUP = np.minimum(GROUP_OF_AGE + 1, len(GROUP_STARTS) - 1)


@dataclass(frozen=True)
class Decade:
    """A decade between censuses, enough to read its net migration."""

    start: FloatArray  # (area, sex, age): the first census, single years
    end_groups: FloatArray  # (area, sex, group): the second census
    death_probability: Callable[[int], FloatArray]  # year 0..9 -> (area, sex, age)
    fertility_start: FloatArray  # (area, age): rates at the first census
    fertility_end: FloatArray  # (area, age): rates at the second


def project_decade(decade: Decade, rates: FloatArray) -> FloatArray:
    """The first census projected over the decade with net migration ``rates``."""
    population = decade.start
    for year in range(DECADE):
        weight = (year + 0.5) / DECADE
        fertility = (1 - weight) * decade.fertility_start + weight * decade.fertility_end
        population = step(population, decade.death_probability(year), fertility, rates).population
    return population


def residual_rates(decade: Decade) -> FloatArray:
    """Yearly net migration rates ``(area, sex, age)`` that carry the first census to the
    second with the decade's births and deaths."""
    growth = np.ones_like(decade.start)  # 1 + m
    for _ in range(ITERATIONS):
        projected = to_groups(project_decade(decade, growth - 1.0))
        ratio = np.divide(
            decade.end_groups, projected, out=np.ones_like(projected), where=projected > 0
        )
        # the under-fives at the second census are the fertility's to explain, not migration's
        if np.all(np.abs(ratio[..., 1:] - 1.0) < TOLERANCE):
            break
        # a cohort's ratio over the decade, as a yearly factor on the ages it passed mid-way
        growth = growth * np.power(ratio, 1.0 / DECADE)[..., _RATE_GROUP]
    result: FloatArray = np.clip(growth - 1.0, -0.5, 1.0)
    return result


def mean_rates(*decades: FloatArray) -> FloatArray:
    """The decades' rates averaged as yearly growth factors (the mean of ``log(1 + m)``)."""
    logs = np.mean([np.log1p(rates) for rates in decades], axis=0)
    result: FloatArray = np.expm1(logs)
    return result


def no_migration(shape: tuple[int, ...]) -> FloatArray:
    """Rates of nothing, for the ages of a population ``shape``."""
    assert shape[-1] == AGES
    return np.zeros(shape)


def register_levels(
    lad_codes: tuple[str, ...] | list[str], last_year: int, years: int = 5
) -> dict[str, FloatArray]:
    """Each authority's yearly net migration (internal and international, in less out) over
    the ``years`` mid-year to mid-year periods ending at mid-``last_year``, from ONS's
    components of change: the mean (``principal``), and the lowest and highest single year
    (``low``, ``high``)."""
    table = read_reference(
        "mye_components_england",
        [
            "lad_code",
            "year_to_mid",
            "internal_in",
            "internal_out",
            "international_in",
            "international_out",
        ],
    ).to_pandas()
    window = table[(table["year_to_mid"] > last_year - years) & (table["year_to_mid"] <= last_year)]
    window = window.assign(
        net=window["internal_in"]
        - window["internal_out"]
        + window["international_in"]
        - window["international_out"]
    )
    levels: dict[str, list[float]] = {"low": [], "principal": [], "high": []}
    for code in lad_codes:
        values = window.loc[window["lad_code"] == code, "net"].to_numpy(dtype=np.float64)
        if values.size != years:
            raise ReferenceDataError(
                f"mye_components_of_change_england_lad20.csv: no {years} years to "
                f"mid-{last_year} for {code}"
            )
        levels["low"].append(float(values.min()))
        levels["principal"].append(float(values.mean()))
        levels["high"].append(float(values.max()))
    return {name: np.array(values) for name, values in levels.items()}


def at_level(rates: FloatArray, population: FloatArray, net_migrants: FloatArray) -> FloatArray:
    """``rates`` (``(area, sex, age)``) moved by one rate per area, the same at every age, so
    that ``population`` would gain ``net_migrants`` (per area) a year: the censuses' pattern
    by age at the registers' level."""
    people = population.sum(axis=(-2, -1))
    implied = (rates * population).sum(axis=(-2, -1))
    shift = (net_migrants - implied) / people
    result: FloatArray = np.clip(rates + shift[:, None, None], -0.5, 1.0)
    return result
