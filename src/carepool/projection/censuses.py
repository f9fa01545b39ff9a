"""The censuses the projection reads: 1981-2021 by local authority, sex and five-year group,
and Census 2021 by single year of age."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.errors import RegionError
from carepool.population import census_by_lad
from carepool.projection.ages import GROUP_STARTS
from carepool.projection.cohort import AGES
from carepool.reference import read_reference

FloatArray = npt.NDArray[np.float64]

CENSUS_YEARS: Final = (1981, 1991, 2001, 2011, 2021)
_SEX = {"Females": 0, "Males": 1}


def _group_index(label: str) -> int | None:
    """``Aged 4 years and under`` -> 0, ``Aged 5 to 9 years`` -> 1, ``Aged 85 years and
    over`` -> 17; ``All ages`` -> None."""
    words = label.split()
    if label == "All ages":
        return None
    if "under" in words:
        return 0
    return GROUP_STARTS.index(int(words[1]))


def census_groups(lad_codes: Sequence[str], year: int) -> FloatArray:
    """Residents at the ``year`` census, ``(area, sex, group)``, in 2021 boundaries."""
    table = read_reference(
        "census_series_gm", ["lad_code", "census_date", "sex", "age_group", "usual_residents"]
    ).to_pandas()
    table = table[table["census_date"].astype(str).str.startswith(str(year))]
    missing = sorted(set(lad_codes) - set(table["lad_code"]))
    if missing:
        raise RegionError(
            f"no census series by age is vendored for {', '.join(missing)}; the back-cast and "
            "the projection's migration need it"
        )
    result = np.zeros((len(lad_codes), 2, len(GROUP_STARTS)))
    index = {code: i for i, code in enumerate(lad_codes)}
    for row in table.itertuples(index=False):
        area, sex = index.get(str(row.lad_code)), _SEX.get(str(row.sex))
        group = _group_index(str(row.age_group))
        if area is not None and sex is not None and group is not None:
            result[area, sex, group] += float(row.usual_residents)
    return result


def census_2021_single_years(lad_codes: Sequence[str]) -> FloatArray:
    """Census 2021 residents ``(area, sex, age 0..100)``; the census's oldest age is 90 and
    over, kept at 90 (the back-cast compares broad groups, which hold it whole)."""
    census = census_by_lad(lad_codes)
    result = np.zeros((len(lad_codes), 2, AGES))
    for area, code in enumerate(lad_codes):
        table = census[code]  # [age 0..90, sex]
        result[area, :, : table.shape[0]] = table.T
    return result
