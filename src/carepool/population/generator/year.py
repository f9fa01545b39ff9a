"""One financial year of the model: who is in it, and what every step of the year needs.

A :class:`Year` is built once per simulated year from the cohort: the rows of the people alive
in it, their age, sex and deprivation quintile, and the year's named random streams
(``2024-25/deaths``, ``2024-25/activity/gp_appointments``, ...). Each step of the year
(:mod:`.health`, :mod:`.services`, :mod:`.programmes`, :mod:`.social_care`) draws only from
its own streams, so the steps could run in any order and give the same people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.population.generator.cohort import Cohort
from carepool.population.generator.individual_risk import FloatArray, IntArray
from carepool.population.parameters import Parameters, condition_band, service_band
from carepool.population.streams import stream
from carepool.years import days_in, financial_year


@dataclass(frozen=True)
class Area:
    """What the generator knows of each LSOA: deprivation quintile and local authority,
    and each authority's calibrated mortality multiplier by sex and prevalence multiplier by
    condition."""

    quintile_of_lsoa: npt.NDArray[np.int8]  # 1..5
    lad_of_lsoa: npt.NDArray[np.int64]  # index into the authority list
    mortality: FloatArray  # [authority, sex]
    prevalence: FloatArray  # [authority, condition], conditions in CONDITIONS order


@dataclass(frozen=True)
class Year:
    """The people in financial year ``name`` (everyone alive who has joined by its start)."""

    name: str  # 2024-25
    start: int  # 2024
    seed: int
    params: Parameters
    area: Area
    cohort: Cohort
    rows: IntArray  # indices into the cohort
    sex: npt.NDArray[np.int8]
    age: npt.NDArray[np.int16]  # on 1 April
    q: IntArray  # deprivation quintile of the home LSOA, 0 (most deprived) to 4
    lad: IntArray  # the home LSOA's local authority, an index into the area's authorities
    z: FloatArray  # latent health
    cband: IntArray  # the rates card's condition age band
    sband: IntArray  # the rates card's service-use age band
    days: int  # 365, or 366 with a 29 February

    @classmethod
    def of(cls, cohort: Cohort, start: int, seed: int, params: Parameters, area: Area) -> Year:
        """Financial year ``start`` (e.g. 2024 = 2024-25) for everyone alive in it."""
        name = financial_year(start)
        rows = np.nonzero(cohort.alive & (cohort.first_year <= start))[0]
        age = (cohort.base_age[rows] + (start - cohort.first_year[rows])).astype(np.int16)
        return cls(
            name=name,
            start=start,
            seed=seed,
            params=params,
            area=area,
            cohort=cohort,
            rows=rows,
            sex=cohort.sex[rows],
            age=age,
            q=area.quintile_of_lsoa[cohort.lsoa[rows]].astype(np.int64) - 1,
            lad=area.lad_of_lsoa[cohort.lsoa[rows]],
            z=cohort.latent[rows],
            cband=condition_band(age),
            sband=service_band(age),
            days=days_in(name),
        )

    @property
    def n(self) -> int:
        """How many people are in the year."""
        return int(self.rows.size)

    def rng(self, name: str) -> np.random.Generator:
        """The year's named random stream ``name``."""
        return stream(self.seed, f"{self.name}/{name}")
