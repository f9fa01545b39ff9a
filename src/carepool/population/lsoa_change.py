"""Mapping 2011-LSOA data onto the model's 2021 LSOAs with the ONS change lookup.

Most LSOAs did not change (``U``). A 2011 LSOA that was split (``S``) or changed irregularly
(``X``) shares its counts among its 2021 successors in proportion to their number of 2021
output areas (output areas are built to similar sizes, about 125 households), or equally where
output areas are not vendored. Merged LSOAs (``M``) simply add up. The same shares give each
2021 LSOA's membership weight in its 2011 predecessors, a footprint that does not nest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from carepool.geography import Footprint
from carepool.reference import read_reference

AGE_COLUMNS: tuple[str, ...] = (*(f"age_{a}" for a in range(90)), "age_90_plus")
MAX_AGE = 90  # the open age: 90 and over


def change_shares(lsoa21_codes: Sequence[str]) -> pd.DataFrame:
    """``lsoa11_code, lsoa21_code, share``: how each 2011 LSOA's people divide over 2021 LSOAs.

    Shares of one 2011 LSOA sum to 1.
    """
    lookup = read_reference(
        "lsoa11_to_lsoa21", columns=["lsoa11_code", "lsoa21_code", "change_code"]
    ).to_pandas()
    wanted = set(lsoa21_codes)
    lookup = lookup[lookup["lsoa21_code"].isin(wanted)].copy()
    oas = read_reference("oa21_lookup_gm", columns=["oa21_code", "lsoa21_code"]).to_pandas()
    oa_counts = oas.groupby("lsoa21_code").size()
    lookup["size"] = lookup["lsoa21_code"].map(oa_counts).fillna(1.0).astype(float)
    lookup["share"] = lookup["size"] / lookup.groupby("lsoa11_code")["size"].transform("sum")
    shares: pd.DataFrame = lookup[["lsoa11_code", "lsoa21_code", "share"]].reset_index(drop=True)
    return shares


def mid2020_on_lsoa21(lsoa21_codes: Sequence[str]) -> pd.DataFrame:
    """ONS mid-2020 persons by single year of age, re-based onto 2021 LSOAs.

    Returns a float frame indexed by ``lsoa21_code`` (in the given order) with columns
    0..90 (90 = 90 and over). Values are fractional where a 2011 LSOA was split.
    """
    shares = change_shares(lsoa21_codes)
    pop = read_reference(
        "population_mid2020_lsoa11", columns=["lsoa11_code", *AGE_COLUMNS]
    ).to_pandas()
    pop = pop[pop["lsoa11_code"].isin(set(shares["lsoa11_code"]))].set_index("lsoa11_code")
    joined = shares.join(pop, on="lsoa11_code", how="inner")
    values = joined[list(AGE_COLUMNS)].to_numpy(dtype=np.float64) * joined[["share"]].to_numpy()
    frame = pd.DataFrame(values, columns=range(MAX_AGE + 1))
    frame["lsoa21_code"] = joined["lsoa21_code"].to_numpy()
    result = frame.groupby("lsoa21_code").sum()
    return result.reindex(list(lsoa21_codes), fill_value=0.0)


def lsoa11_footprints(lsoa21_codes: Sequence[str]) -> list[Footprint]:
    """Each 2011 LSOA as a footprint on 2021 LSOAs, weighted by mid-2020 residents.

    The weight of a 2021 LSOA in a 2011 one is the share of its (mapped) residents that came
    from that 2011 LSOA: 1 where nothing changed or the 2011 LSOA was split, less where
    several 2011 LSOAs merged.
    """
    shares = change_shares(lsoa21_codes)
    pop = read_reference(
        "population_mid2020_lsoa11", columns=["lsoa11_code", "total_population"]
    ).to_pandas()
    shares = shares.merge(pop, on="lsoa11_code", how="left")
    shares["people"] = shares["share"] * shares["total_population"].fillna(0.0)
    totals = shares.groupby("lsoa21_code")["people"].transform("sum")
    shares["weight"] = np.where(totals > 0, shares["people"] / totals, 1.0)
    shares = shares[shares["weight"] > 0]
    result: list[Footprint] = []
    for code, group in shares.groupby("lsoa11_code", sort=True):
        members = tuple(
            (str(lsoa), min(1.0, float(w)))
            for lsoa, w in zip(group["lsoa21_code"], group["weight"], strict=True)
        )
        result.append(Footprint(kind="lsoa11", code=str(code), name=str(code), members=members))
    return result
