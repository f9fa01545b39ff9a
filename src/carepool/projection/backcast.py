"""The back-cast that tests the method: the projection run from the 2011 Census to 2021, with
only what was known in 2011, against Census 2021 by borough and age.

What the back-cast is given (``docs/methods/projection.md``):

- the 2011 Census by borough, sex and five-year group, split into single years;
- England's 2010-2012 life table, each borough's gap to England in life expectancy (the
  earliest published period vendored, 2015-17), and the 1.2% a year improvement of ONS's
  2010-based national projections;
- fertility: the 2011 schedule of England and Wales, at the level of each borough's own
  children under five in 2011;
- net migration: its pattern by sex and age from the censuses (the mean of the rates read from
  1991-2001 and 2001-2011), at the level of ONS's components of change in the five years to
  mid-2011.

Nothing from 2021 goes in. The errors are the projection's against the census, in per cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.geography import england_place_name, resolve_region
from carepool.projection.ages import BROAD_GROUPS, FINE_GROUPS, band_sums
from carepool.projection.censuses import census_2021_single_years
from carepool.projection.cohort import step
from carepool.projection.history import History
from carepool.projection.migration import (
    at_level,
    mean_rates,
    register_levels,
    residual_rates,
)
from carepool.projection.mortality import (
    hazard_multipliers,
    life_table_qx,
)

FloatArray = npt.NDArray[np.float64]

BASE_LIFE_TABLE: Final = "2010-2012"
#: The life table's middle year: the years on from which mortality improves.
BASE_LIFE_TABLE_YEAR: Final = 2011
#: The life tables of the decades the migration is read from, by their middle years.
PAST_LIFE_TABLES: Final = {1991: "1990-1992", 2001: "2000-2002", 2011: "2010-2012"}
LOCAL_LIFE_EXPECTANCY: Final = "2015 - 17"
#: ONS, National population projections, 2010-based: mortality assumptions (principal).
IMPROVEMENT_2010_BASED: Final = 0.012
#: Net migration's level: the mean of the five years to mid-2011 of ONS's components of change.
REGISTERS_LAST_YEAR: Final = 2011
METHOD: Final = "censuses' pattern at the registers' level (the method)"
#: The bounds the back-cast must keep (mean absolute percentage errors).
BOROUGH_BOUND: Final = 3.0
AGE_GROUP_BOUND: Final = 6.0


@dataclass(frozen=True)
class Backcast:
    """The back-cast's figures and its errors."""

    table: pd.DataFrame  # place, age_group, projected, census, error_pct (rows "all ages" too)
    borough_mape: float
    broad_mape: float
    fine_mape: float
    #: the method beside its variants: borough and broad-age errors of each
    variants: pd.DataFrame

    @property
    def within_bounds(self) -> bool:
        return self.borough_mape <= BOROUGH_BOUND and self.broad_mape <= AGE_GROUP_BOUND


def _history(codes: Sequence[str]) -> History:
    """The decades before 2011 as they were known in 2011."""
    base = life_table_qx(BASE_LIFE_TABLE)
    multiplier = hazard_multipliers(codes, base, LOCAL_LIFE_EXPECTANCY)
    return History(codes, PAST_LIFE_TABLES, multiplier, IMPROVEMENT_2010_BASED)


def backcast(region: str = "gm") -> Backcast:
    """Project 2011 to 2021 for the boroughs of ``region`` and compare with Census 2021; the
    method's variants (without the registers' level, without the censuses' pattern, without
    migration at all) are run beside it."""
    codes = resolve_region(region).lad_codes
    method = _history(codes)
    pattern = mean_rates(residual_rates(method.decade(1991)), residual_rates(method.decade(2001)))
    base = method.single(2011)
    level = register_levels(codes, REGISTERS_LAST_YEAR)["principal"]
    none = np.zeros_like(pattern)
    runs = {
        "censuses' pattern at the registers' level (the method)": at_level(pattern, base, level),
        "censuses' pattern alone": pattern,
        "registers' level, the same at every age": at_level(none, base, level),
        "no migration": none,
    }
    census = census_2021_single_years(codes)
    projected = {name: _project(method, rates) for name, rates in runs.items()}
    chosen = projected[METHOD]
    names = [england_place_name(code) or code for code in codes]
    return Backcast(
        table=_compare(names, chosen, census),
        borough_mape=_mape(chosen.sum(axis=(1, 2)), census.sum(axis=(1, 2))),
        broad_mape=_band_mape(chosen, census, BROAD_GROUPS),
        fine_mape=_band_mape(chosen, census, FINE_GROUPS),
        variants=pd.DataFrame(
            [
                {
                    "variant": name,
                    "borough_mape": _mape(p.sum(axis=(1, 2)), census.sum(axis=(1, 2))),
                    "broad_age_mape": _band_mape(p, census, BROAD_GROUPS),
                }
                for name, p in projected.items()
            ]
        ),
    )


def _project(method: History, rates: FloatArray) -> FloatArray:
    """The 2011 census carried ten years with 2011's fertility and ``rates``."""
    fertility = method.fertility(2011)
    population = method.single(2011)
    for year in range(10):
        population = step(
            population, method.death_probability(2011 + year), fertility, rates
        ).population
    return population


def _mape(projected: FloatArray, observed: FloatArray) -> float:
    return float(np.mean(np.abs(projected / observed - 1.0)) * 100.0)


def _band_mape(
    projected: FloatArray, census: FloatArray, bands: dict[str, tuple[int, int]]
) -> float:
    ours = band_sums(projected.sum(axis=1), bands)
    theirs = band_sums(census.sum(axis=1), bands)
    return float(np.mean([_mape(ours[label], theirs[label]) for label in bands]))


def _compare(names: Sequence[str], projected: FloatArray, census: FloatArray) -> pd.DataFrame:
    rows = []
    bands = {"all ages": (0, projected.shape[-1]), **BROAD_GROUPS, **FINE_GROUPS}
    ours = band_sums(projected.sum(axis=1), bands)
    theirs = band_sums(census.sum(axis=1), bands)
    for label in bands:
        for index, name in enumerate(names):
            rows.append(
                {
                    "place": name,
                    "age_group": label,
                    "projected": round(float(ours[label][index])),
                    "census": round(float(theirs[label][index])),
                    "error_pct": float(ours[label][index] / theirs[label][index] - 1.0) * 100.0,
                }
            )
    return pd.DataFrame(rows)
