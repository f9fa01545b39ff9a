"""Census 2021 residents by local authority, sex and single year of age, every English
council.

The census was published for the councils of 2021; the districts merged in April 2023
(Cumbria, North Yorkshire, Somerset) are added into the unitary authorities that replaced
them (:func:`carepool.geography.council_of_2024`), so that every table here is on the 2024
councils the LSOA lookup uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

from carepool.errors import RegionError
from carepool.geography import council_of_2024
from carepool.population.lsoa_change import MAX_AGE
from carepool.reference import read_reference

SEX_INDEX = {"female": 0, "male": 1}


@cache
def _census() -> dict[str, npt.NDArray[np.int64]]:
    frame = read_reference(
        "census2021_lad_sex_age", columns=["lad21_code", "sex", "age", "population"]
    ).to_pandas()
    frame = frame[frame["sex"].isin(list(SEX_INDEX))]
    successor = council_of_2024()
    frame["lad_code"] = frame["lad21_code"].map(lambda code: successor.get(code, code))
    ages = frame["age"].to_numpy().clip(0, MAX_AGE)
    sexes = frame["sex"].map(SEX_INDEX).to_numpy()
    counts = frame["population"].to_numpy(dtype=np.int64)
    result: dict[str, npt.NDArray[np.int64]] = {}
    for code, rows in frame.groupby("lad_code", sort=True).indices.items():
        table = np.zeros((MAX_AGE + 1, 2), dtype=np.int64)
        np.add.at(table, (ages[rows], sexes[rows]), counts[rows])
        table.setflags(write=False)
        result[str(code)] = table
    return result


def require_census(lad_codes: Sequence[str]) -> None:
    """Refuse, before any work starts, local authorities whose Census 2021 population by sex
    and single year of age is not vendored (the build cannot fit their residents)."""
    _refuse_missing(lad_codes, set(_census()))


def _refuse_missing(lad_codes: Sequence[str], available: set[str]) -> None:
    missing = [c for c in lad_codes if c not in available]
    if missing:
        raise RegionError(
            "no Census 2021 population by sex and single year of age is vendored for "
            f"{', '.join(missing)}, so no model can be built for it; it is vendored for "
            f"{len(available)} English councils (`carepool regions` lists them)"
        )


def census_by_lad(lad_codes: Sequence[str]) -> dict[str, npt.NDArray[np.int64]]:
    """``{lad_code: counts[age 0..90, sex (female, male)]}`` from Census 2021 (2024 councils).

    Raises :class:`RegionError` for an authority whose census table is not vendored.
    """
    census = _census()
    _refuse_missing(lad_codes, set(census))
    return {code: census[code].copy() for code in lad_codes}


def census_residents() -> dict[str, int]:
    """``{lad_code: residents}`` at Census 2021, every English council (2024 codes)."""
    return {code: int(table.sum()) for code, table in _census().items()}
