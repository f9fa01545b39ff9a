"""What the censuses and life tables say about the decades before a base year: each decade's
deaths (the life tables of its years), births (each census's children) and so its net migration
(the residual). The back-cast reads 1991-2011 from a 2011 base; the projection ahead reads
2001-2021 from its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from carepool.projection.ages import split_groups, to_groups
from carepool.projection.censuses import census_2021_single_years, census_groups
from carepool.projection.fertility import fertility_level, fertility_schedule
from carepool.projection.migration import Decade
from carepool.projection.mortality import death_probability, life_table_qx, survivors

FloatArray = npt.NDArray[np.float64]

#: The census years whose fertility schedule is observed; 2021's is ONS's projected one.
_SCHEDULE = {1991: "observed", 2001: "observed", 2011: "observed", 2021: "npp-2018-principal"}


class History:
    """Deaths, births and censuses of boroughs ``codes`` in the decades before a base.

    ``tables`` names the life table in force around each calendar year (``{2011:
    "2010-2012"}``): between two, the hazard is interpolated in logs; after the last, it is the
    last improved at ``improvement`` a year. ``multiplier`` is each borough's hazard multiplier
    on those tables, ``(area, sex)``.
    """

    def __init__(
        self,
        codes: Sequence[str],
        tables: Mapping[int, str],
        multiplier: FloatArray,
        improvement: float,
    ) -> None:
        self.codes = tuple(codes)
        self.tables = {year: life_table_qx(period) for year, period in sorted(tables.items())}
        self.multiplier = multiplier
        self.improvement = improvement
        last = max(self.tables)
        self.lx = survivors(self.tables[last])
        self._groups: dict[int, FloatArray] = {}
        self._single: dict[int, FloatArray] = {}

    def groups(self, year: int) -> FloatArray:
        """The ``year`` census, ``(area, sex, group)``; 2021's from its single years."""
        if year not in self._groups:
            self._groups[year] = (
                to_groups(census_2021_single_years(self.codes))
                if year == 2021
                else census_groups(self.codes, year)
            )
        return self._groups[year]

    def single(self, year: int) -> FloatArray:
        """The ``year`` census in single years (2021's as counted; others split)."""
        if year not in self._single:
            self._single[year] = (
                census_2021_single_years(self.codes)
                if year == 2021
                else split_groups(self.groups(year), self.lx)
            )
        return self._single[year]

    def death_probability(self, calendar_year: int) -> FloatArray:
        """q ``(area, sex, age)`` in ``calendar_year``."""
        years = sorted(self.tables)
        if calendar_year >= years[-1]:
            return death_probability(
                self.tables[years[-1]],
                self.multiplier,
                self.improvement,
                calendar_year - years[-1],
            )
        if calendar_year <= years[0]:
            return death_probability(self.tables[years[0]], self.multiplier, 0.0, 0)
        earlier = max(year for year in years if year <= calendar_year)
        later = min(year for year in years if year > calendar_year)
        weight = (calendar_year - earlier) / (later - earlier)
        log_survival = (1 - weight) * _log_survival(self.tables[earlier]) + weight * _log_survival(
            self.tables[later]
        )
        return death_probability(1.0 - np.exp(log_survival), self.multiplier, 0.0, 0)

    def fertility(self, year: int) -> FloatArray:
        """Rates ``(area, age)`` at the ``year`` census: the year's schedule at the level of
        the borough's own children."""
        schedule = fertility_schedule(year, _SCHEDULE.get(year, "observed"))
        level = fertility_level(self.single(year), schedule, float(self.lx[:, 2:4].mean()))
        rates: FloatArray = level[:, None] * schedule[None, :]
        return rates

    def decade(self, first: int) -> Decade:
        """The decade from the ``first`` census to the next."""
        return Decade(
            start=self.single(first),
            end_groups=self.groups(first + 10),
            death_probability=lambda year: self.death_probability(first + year),
            fertility_start=self.fertility(first),
            fertility_end=self.fertility(first + 10),
        )


def _log_survival(qx: FloatArray) -> FloatArray:
    result: FloatArray = np.log1p(-np.clip(qx, 0.0, 1.0 - 1e-12))
    return result
