"""What can be built: every region ``--region`` accepts, with its residents at Census 2021
and whether the vendored boundaries can map it."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd

from carepool.errors import ConfigError
from carepool.geography import (
    ENGLAND_CODE,
    REGION_KINDS,
    combined_authorities,
    lsoa_lookup,
    region_catalogue,
)
from carepool.population import census_residents, mid2020_on_lsoa21
from carepool.reference import dataset_path

#: How ``--kind`` names each kind (``council`` for a single council's row).
KIND_NAMES = {kind: "council" if kind == "councils" else kind for kind in REGION_KINDS}


@cache
def lsoa_residents() -> pd.DataFrame:
    """Every 2021 LSOA in England with its places and its residents at Census 2021: each
    council's census total shared among its LSOAs by their mid-2020 residents (what an ICB
    that cuts a council holds of it), and whether the vendored boundaries draw it."""
    lookup = lsoa_lookup()
    mid2020 = mid2020_on_lsoa21(list(lookup["lsoa21_code"])).to_numpy().sum(axis=1)
    council = pd.Series(mid2020).groupby(lookup["lad24_code"].to_numpy()).transform("sum")
    census = lookup["lad24_code"].map(census_residents()).to_numpy(dtype=np.float64)
    share = np.divide(
        mid2020, council.to_numpy(), out=np.zeros_like(mid2020), where=council.to_numpy() > 0
    )
    return lookup.assign(
        residents=census * share, mapped=lookup["msoa21_code"].isin(_mapped_msoas())
    )


@cache
def _mapped_msoas() -> frozenset[str]:
    data = json.loads(dataset_path("boundaries_msoa21_gm").read_text(encoding="utf-8"))
    return frozenset(str(f["properties"]["msoa21_code"]) for f in data["features"])


def regions_table(kind: str | None = None) -> pd.DataFrame:
    """``kind, code, region (what to type), name, councils, lsoas, residents, maps``: every
    region of ``kind`` (one of :data:`KIND_NAMES`' values; all when None)."""
    wanted = None
    if kind is not None:
        wanted = next((k for k, name in KIND_NAMES.items() if name == kind), None)
        if wanted is None:
            raise ConfigError(f"--kind {kind!r}: expected one of {', '.join(KIND_NAMES.values())}")
    catalogue = region_catalogue()
    if wanted is not None:
        catalogue = catalogue[catalogue["kind"] == wanted]
    lsoas = lsoa_residents()
    ca = combined_authorities()
    council_ca = dict(zip(ca["lad23_code"], ca["cauth23_code"], strict=True))
    lsoas = lsoas.assign(
        england=ENGLAND_CODE, combined_authority=lsoas["lad24_code"].map(council_ca)
    )
    column = {
        "england": "england",
        "region": "region24_code",
        "icb": "icb24_code",
        "combined_authority": "combined_authority",
        "councils": "lad24_code",
    }
    residents, maps = [], []
    for row in catalogue.itertuples(index=False):
        mine = _grouped(lsoas, column[str(row.kind)])
        residents.append(round(float(mine["residents"].get(row.code, 0.0))))
        maps.append(bool(mine["mapped"].get(row.code, False)))
    frame = catalogue.assign(residents=residents, maps=maps)
    frame["kind"] = frame["kind"].map(KIND_NAMES)
    frame = frame.rename(columns={"spec": "region"})
    return frame[["kind", "code", "region", "name", "councils", "lsoas", "residents", "maps"]]


def _grouped(lsoas: pd.DataFrame, column: str) -> pd.DataFrame:
    """Residents, and whether every LSOA is mapped, by the places of ``column``."""
    return lsoas.groupby(column).agg(residents=("residents", "sum"), mapped=("mapped", "all"))
