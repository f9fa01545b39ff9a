"""The model's mortality method applied, analytically, to every English authority.

The region's boroughs are few, and their published figures differ by little more than their
noise; England's districts and unitary authorities are many (294 with a published life
expectancy for both sexes under today's codes). For each, the generator's calibration gives
what the model would simulate: the authority's residents by LSOA and single
year of age (ONS mid-2020 on 2021 LSOAs), each LSOA's IoD 2025 quintile, the model's
age-shaped mortality ratios, and the hazard multiplier that reproduces the authority's
published 2022-24 life expectancy by sex (:func:`carepool.population.solve_hazard_multiplier`).
No simulation is run: the expected life tables follow from the rates. One approximation:
both sexes take the authority's mid-2020 persons by age (the generator splits each LSOA's
people by sex from the census; the mix of quintiles at each age barely differs by sex).

Two uses: the bridge from all-cause to preventable premature mortality
(:mod:`carepool.model.premature_mortality`), and the order of within-authority inequality
(:mod:`carepool.model.inequality_across_england`), each learned or tested on the authorities
outside the modelled region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from carepool.indicators import local_deciles
from carepool.population import (
    load_parameters,
    mid2020_on_lsoa21,
    quintile_shares_by_age,
    solve_hazard_multiplier,
)
from carepool.reference import read_reference

ENGLAND = "E92000001"
LE_PERIOD = "2022 - 24"
SEXES = ("Female", "Male")  # the model's sex index order, as Fingertips spells them

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Authority:
    """One English authority's residents, as the model's calibration sees them."""

    code: str
    people: FloatArray  # [lsoa, age 0..90] (90 = 90 and over)
    quintile: npt.NDArray[np.int64]  # [lsoa], 0 (most deprived) to 4
    imd_score: FloatArray  # [lsoa]
    local_decile: npt.NDArray[np.int64]  # [lsoa], 1 (most deprived) to 10, as OHID cuts them
    multiplier: tuple[float, float]  # the hazard multiplier c, female and male

    def quintile_shares(self, lsoas: npt.NDArray[np.bool_] | None = None) -> FloatArray:
        """``[quintile, age 0..100]`` shares of the residents (of ``lsoas``, if given; at an
        age where they have nobody, the whole authority's shares, so that no age goes
        without a death rate)."""
        everyone = np.ones(self.quintile.size, dtype=bool)
        if lsoas is None:
            return self._shares(everyone)
        chosen = self._shares(lsoas)
        empty = chosen.sum(axis=0) == 0
        if not empty.any():
            return chosen
        return np.where(empty[None, :], self._shares(everyone), chosen)

    def _shares(self, lsoas: npt.NDArray[np.bool_]) -> FloatArray:
        by_q = np.zeros((5, self.people.shape[1]))
        np.add.at(by_q, self.quintile[lsoas], self.people[lsoas])
        return quintile_shares_by_age(by_q)


def published(indicator: str, period: str) -> dict[tuple[str, str], float]:
    """``{(area_code, sex): value}`` of a Fingertips indicator for England and its authorities
    (``sex`` as Fingertips spells it: Female, Male, Persons)."""
    frame = read_reference("phof_indicators_england").to_pandas()
    rows = frame[
        (frame["indicator_id"] == indicator)
        & (frame["period"].astype(str) == period)
        & frame["area_type"].isin(["Country", "District", "UA"])
    ]
    keys = zip(rows["area_code"].astype(str), rows["sex"].astype(str), strict=True)
    return dict(zip(keys, rows["value"].astype(float), strict=True))


@cache
def authorities() -> tuple[Authority, ...]:
    """Every English authority with a published life expectancy for both sexes whose
    multipliers can reproduce it, in code order."""
    params = load_parameters()
    life = published("life_expectancy_at_birth", LE_PERIOD)
    iod = read_reference(
        "iod2025_lsoa21", columns=["lsoa21_code", "lad24_code", "imd_score", "imd_decile"]
    ).to_pandas()
    people = mid2020_on_lsoa21(iod["lsoa21_code"].tolist()).to_numpy(dtype=np.float64)
    quintile = (iod["imd_decile"].to_numpy(dtype=np.int64) + 1) // 2 - 1
    score = iod["imd_score"].to_numpy(dtype=np.float64)
    local = local_deciles(
        iod.rename(columns={"lad24_code": "lad_code"}).assign(residents=people.sum(axis=1))
    ).to_numpy(dtype=np.int64)
    found = []
    for code, rows in sorted(iod.groupby("lad24_code").indices.items()):
        targets = [life.get((str(code), sex)) for sex in SEXES]
        if None in targets:
            continue  # a code of another vintage, or no published figure
        by_q = np.zeros((5, people.shape[1]))
        np.add.at(by_q, quintile[rows], people[rows])
        shares = quintile_shares_by_age(by_q)
        female, male = (
            solve_hazard_multiplier(params.qx[s], params.mortality_rr[s], shares, target)
            for s, target in enumerate(t for t in targets if t is not None)
        )
        if female is None or male is None:
            continue
        found.append(
            Authority(
                str(code), people[rows], quintile[rows], score[rows], local[rows], (female, male)
            )
        )
    return tuple(found)
