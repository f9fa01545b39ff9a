"""Census 2021 residents by local authority, sex and single year of age."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from carepool.errors import RegionError
from carepool.population.lsoa_change import MAX_AGE
from carepool.reference import read_reference

SEX_INDEX = {"female": 0, "male": 1}


def require_census(lad_codes: Sequence[str]) -> None:
    """Refuse, before any work starts, local authorities whose Census 2021 population by sex
    and single year of age is not vendored (the build cannot fit their residents)."""
    codes = read_reference("census2021_lad_sex_age", columns=["lad_code"]).column("lad_code")
    _refuse_missing(lad_codes, {str(c) for c in codes.unique().to_pylist()})


def _refuse_missing(lad_codes: Sequence[str], available: set[str]) -> None:
    missing = [c for c in lad_codes if c not in available]
    if missing:
        raise RegionError(
            "no Census 2021 population by sex and single year of age is vendored for "
            f"{', '.join(missing)}, so no model can be built for it; vendored: "
            f"{', '.join(sorted(available))}"
        )


def census_by_lad(lad_codes: Sequence[str]) -> dict[str, npt.NDArray[np.int64]]:
    """``{lad_code: counts[age 0..90, sex (female, male)]}`` from Census 2021.

    Raises :class:`RegionError` for an authority whose census table is not vendored.
    """
    frame = read_reference(
        "census2021_lad_sex_age", columns=["lad_code", "sex", "age", "population"]
    ).to_pandas()
    frame = frame[frame["sex"].isin(list(SEX_INDEX))]
    _refuse_missing(lad_codes, set(frame["lad_code"]))
    result: dict[str, npt.NDArray[np.int64]] = {}
    for code in lad_codes:
        rows = frame[frame["lad_code"] == code]
        table = np.zeros((MAX_AGE + 1, 2), dtype=np.int64)
        ages = rows["age"].to_numpy().clip(0, MAX_AGE)
        sexes = rows["sex"].map(SEX_INDEX).to_numpy()
        np.add.at(table, (ages, sexes), rows["population"].to_numpy(dtype=np.int64))
        result[code] = table
    return result
