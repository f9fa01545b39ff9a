"""The vendored ONS lookups of England's places, each read once per process.

The 2021 LSOA lookup names every LSOA's MSOA, ward, local authority, sub-ICB location, ICB and
region (2024 boundaries); the combined authority lookup names each combined authority's
councils (2023). Census 2021 and the mid-2020 estimates were published for the councils of
2021, before the 2023 reorganisation of Cumbria, North Yorkshire and Somerset:
:func:`council_of_2024` carries their codes onto today's.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from carepool.reference import read_reference

#: The columns of the 2021 LSOA lookup: each LSOA's MSOA, ward, local authority, sub-ICB
#: location and ICB and region (2024 boundaries), with their names.
LOOKUP_COLUMNS = (
    "lsoa21_code",
    "lsoa21_name",
    "msoa21_code",
    "msoa21_name",
    "ward24_code",
    "ward24_name",
    "lad24_code",
    "lad24_name",
    "sicbl24_code",
    "sicbl24_code_nhs",
    "icb24_code",
    "icb24_name",
    "region24_code",
    "region24_name",
)


@cache
def _read_lsoa_lookup() -> pd.DataFrame:
    frame: pd.DataFrame = read_reference("lsoa21_lookup", columns=list(LOOKUP_COLUMNS)).to_pandas()
    return frame.sort_values("lsoa21_code").reset_index(drop=True)


def lsoa_lookup() -> pd.DataFrame:
    """Every 2021 LSOA in England with the places it lies in (:data:`LOOKUP_COLUMNS`), in
    ``lsoa21_code`` order: the one reader of the vendored lookup. A copy, so a caller may
    change it; the file itself is read once per process."""
    return _read_lsoa_lookup().copy()


@cache
def _england_places() -> dict[str, str]:
    lookup = lsoa_lookup()
    names: dict[str, str] = {}
    for kind in ("icb24", "sicbl24", "lad24", "ward24", "msoa21", "lsoa21"):
        name = f"{kind}_name" if f"{kind}_name" in lookup else f"{kind}_code"
        pairs = lookup[[f"{kind}_code", name]].drop_duplicates()
        codes = pairs.iloc[:, 0].astype(str).str.upper()
        names.update(zip(codes, pairs.iloc[:, 1].astype(str), strict=True))
    return names


def england_place_name(code: str) -> str | None:
    """The name of an English LSOA, MSOA, ward, local authority, sub-ICB or ICB with this code
    (any case), or None: so that a place outside a model is told apart from a mistyped one."""
    return _england_places().get(code.strip().upper())


def combined_authorities() -> pd.DataFrame:
    """``lad23_code, lad23_name, cauth23_code, cauth23_name``: the councils of each English
    combined authority (2023)."""
    return _read_combined_authorities().copy()


@cache
def _read_combined_authorities() -> pd.DataFrame:
    frame: pd.DataFrame = read_reference("combined_authorities").to_pandas()
    return frame


@cache
def council_of_2024() -> dict[str, str]:
    """``{2021 or 2022 council code: the 2024 council it lies in}``, every English council.

    Unchanged councils map to themselves; the districts merged in April 2023 map to their new
    unitary authority (Allerdale, Carlisle and Copeland to Cumberland, and so on). Derived
    from the LSOA change lookup (each 2021 LSOA's 2022 council) and the 2021 LSOA lookup (its
    2024 council): each old council takes the new one holding most of its LSOAs, so that a
    single LSOA recorded on a boundary does not split a council.
    """
    old = read_reference("lsoa11_to_lsoa21", columns=["lsoa21_code", "lad22_code"]).to_pandas()
    pairs = old.drop_duplicates().merge(
        lsoa_lookup()[["lsoa21_code", "lad24_code"]], on="lsoa21_code", how="inner"
    )
    counts = pairs.groupby(["lad22_code", "lad24_code"]).size().reset_index(name="n")
    best = counts.sort_values(["lad22_code", "n"], ascending=[True, False]).drop_duplicates(
        "lad22_code"
    )
    return dict(zip(best["lad22_code"].astype(str), best["lad24_code"].astype(str), strict=True))
