"""The population assumptions of a projection ahead, by local authority, with their variants.

- **Mortality**: England's 2017-2019 life table (the last before the pandemic), each
  authority's published life expectancy of 2022-24 (Fingertips) as the level in 2023, and
  mortality improving from 2023 at ONS's 2024-based long-term rate: 1.1% a year (principal),
  0.5% (low life expectancy) or 1.9% (high).
- **Fertility**: ONS's 2018-based projected schedule for 2023 (England) for the shape, at the
  level of each authority's own children under five in the model's base year; ONS's 2022-based
  variants put completed family size at 1.25 (low) or 1.65 (high) against 1.45: factors 0.862
  and 1.138.
- **Net migration**: its pattern by sex and age from the census decades 2001-2011 and
  2011-2021 (mean rates), at the level of ONS's components of change in the five years to
  mid-2019 (the latest vendored); the low and high variants take the lowest and highest of
  the five years.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.projection.fertility import fertility_level, fertility_schedule
from carepool.projection.history import History
from carepool.projection.migration import mean_rates, register_levels, residual_rates
from carepool.projection.mortality import hazard_multipliers, life_table_qx, survivors

FloatArray = npt.NDArray[np.float64]

BASE_LIFE_TABLE: Final = "2017-2019"
LOCAL_LIFE_EXPECTANCY: Final = "2022 - 24"
#: The year the local life expectancies describe (the middle of 2022-24).
IMPROVEMENT_FROM: Final = 2023
#: ONS, National population projections, 2024-based: mortality assumptions.
IMPROVEMENT: Final = {"low": 0.005, "principal": 0.011, "high": 0.019}
#: ONS, National population projections, 2022-based: fertility assumptions (completed family
#: size 1.25 / 1.45 / 1.65), as factors on the principal.
FERTILITY: Final = {"low": 1.25 / 1.45, "principal": 1.0, "high": 1.65 / 1.45}
FERTILITY_SCHEDULE: Final = (2023, "npp-2018-principal")
PAST_LIFE_TABLES: Final = {2001: "2000-2002", 2011: "2010-2012", 2018: "2017-2019"}
REGISTERS_LAST_YEAR: Final = 2019
REGISTER_YEARS: Final = 5


@dataclass(frozen=True)
class Assumptions:
    """Everything the cohort-component step needs, by local authority."""

    lad_codes: tuple[str, ...]
    qx: FloatArray  # (sex, age): the base life table
    multiplier: FloatArray  # (lad, sex): each authority's hazard on it
    schedule: FloatArray  # (age,): births per woman, the shape
    fertility_level: FloatArray  # (lad,): each authority's multiple of the shape
    migration_pattern: FloatArray  # (lad, sex, age): rates from the censuses
    migration_level: dict[str, FloatArray]  # "low" | "principal" | "high" -> (lad,) a year

    def years_of_improvement(self, calendar_year: int) -> int:
        return calendar_year - IMPROVEMENT_FROM


def projection_assumptions(lad_codes: tuple[str, ...], base: FloatArray) -> Assumptions:
    """The assumptions for authorities ``lad_codes`` whose residents at the base are ``base``
    (``(lad, sex, age)``)."""
    qx = life_table_qx(BASE_LIFE_TABLE)
    multiplier = hazard_multipliers(lad_codes, qx, LOCAL_LIFE_EXPECTANCY, relative=False)
    history = History(lad_codes, PAST_LIFE_TABLES, multiplier, 0.0)
    pattern = mean_rates(residual_rates(history.decade(2001)), residual_rates(history.decade(2011)))
    schedule = fertility_schedule(*FERTILITY_SCHEDULE)
    child_survival = float(survivors(qx)[:, 2:4].mean())
    return Assumptions(
        lad_codes=lad_codes,
        qx=qx,
        multiplier=multiplier,
        schedule=schedule,
        fertility_level=fertility_level(base, schedule, child_survival),
        migration_pattern=pattern,
        migration_level=register_levels(lad_codes, REGISTERS_LAST_YEAR, REGISTER_YEARS),
    )
