"""Geography levels an indicator can be reported for, as weighted LSOA memberships.

Every level is a table ``level, place_code, place_name, lsoa21_code, weight``:
the whole region, local authorities, neighbourhoods (MSOAs), single LSOAs, deprivation
deciles and quintiles (IoD 2025, national ranks) of the region and of each local authority
(``lad_decile``, ``lad_quintile``: codes like ``E08000003:IMD-D1``), and every footprint of
the warehouse's ``footprint_membership`` table (wards, sub-ICB locations, ICBs, 2011 LSOAs,
...), which may overlap and carry fractional weights. Counts at a level are sums of LSOA
counts times weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from carepool.errors import IndicatorError
from carepool.geography import WHOLE_REGION, area_name
from carepool.warehouse import Tables

#: Levels built from the lsoa table; footprint kinds add more.
CORE_LEVELS = ("region", "lad", "msoa", "lsoa", "decile", "quintile", "lad_decile", "lad_quintile")
#: The deprivation levels: column of the lsoa table, code prefix, kind, number of groups.
_DEPRIVATION = {
    "decile": ("imd_decile", "IMD-D", "decile", 10),
    "quintile": ("imd_quintile", "IMD-Q", "quintile", 5),
}
DEFAULT_LEVELS = ("region", "lad")
#: Levels computed for analysis that is never published (``rule=None``): deciles *local* to
#: each authority (its LSOAs ranked by IMD 2025 score and cut into ten groups of about equal
#: population), the groups OHID's inequality in life expectancy within an authority uses.
#: Not in :func:`available_levels`, so the disclosure audit never has to cover them.
ANALYSIS_LEVELS = ("lad_local_decile",)
LOCAL_DECILE_PREFIX = "IMD-L"
COLUMNS = ["level", "place_code", "place_name", "lsoa21_code", "weight"]
#: Footprint kinds that duplicate a core level.
_DUPLICATES = {"combined_authority", WHOLE_REGION, "lad", "msoa"}


def _region(lsoas: pd.DataFrame, footprints: pd.DataFrame) -> tuple[str, str]:
    """The region level's code and name: the combined authority's, named for what the model
    holds (``Manchester and Trafford (part of Greater Manchester)`` for a partial model)."""
    ca = footprints[footprints["footprint_kind"] == "combined_authority"]
    if len(ca):
        return str(ca["footprint_code"].iloc[0]), area_name(lsoas["lad_code"].unique())
    whole = footprints[footprints["footprint_kind"] == WHOLE_REGION]
    if len(whole):
        return str(whole["footprint_code"].iloc[0]), str(whole["footprint_name"].iloc[0])
    return "REGION", "Model region (" + ", ".join(sorted(lsoas["lad_name"].unique())) + ")"


def _quantile_name(kind: str, q: int, last: int) -> str:
    label = {1: " (most deprived)", last: " (least deprived)"}.get(q, "")
    return f"IMD 2025 {kind} {q}{label}"


def memberships(warehouse: Tables, levels: list[str], analysis: bool = False) -> pd.DataFrame:
    """The membership rows of the requested ``levels`` (see :func:`available_levels`);
    ``analysis``: also the :data:`ANALYSIS_LEVELS`, for figures that are never published
    (every other caller gets a clear error for them, so nothing built on its places can
    publish them by mistake)."""
    lsoas = warehouse.to_pandas(
        warehouse.table("lsoa").select(
            "lsoa21_code",
            "lsoa21_name",
            "msoa21_code",
            "msoa21_name",
            "lad_code",
            "lad_name",
            "imd_decile",
            "imd_quintile",
            "imd_score",
            "residents",
        )
    )
    footprints = warehouse.to_pandas(warehouse.table("footprint_membership"))
    known = [*available_levels(footprints), *(ANALYSIS_LEVELS if analysis else ())]
    if not analysis:
        refuse_analysis_levels(levels)
    unknown = [level for level in levels if level not in known]
    if unknown:
        raise IndicatorError(
            f"unknown geography level {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(known)}"
        )
    region_code, region_name = _region(lsoas, footprints)
    frames: list[pd.DataFrame] = []
    for level in levels:
        frame = pd.DataFrame({"lsoa21_code": lsoas["lsoa21_code"], "weight": 1.0})
        if level == "region":
            frame = frame.assign(place_code=region_code, place_name=region_name)
        elif level == "lad":
            frame = frame.assign(place_code=lsoas["lad_code"], place_name=lsoas["lad_name"])
        elif level == "msoa":
            frame = frame.assign(
                place_code=lsoas["msoa21_code"],
                place_name=lsoas["msoa21_name"],
            )
        elif level == "lsoa":
            frame = frame.assign(
                place_code=lsoas["lsoa21_code"],
                place_name=lsoas["lsoa21_name"],
            )
        elif level == "lad_local_decile":
            group = local_deciles(lsoas)
            codes = lsoas["lad_code"].astype(str) + f":{LOCAL_DECILE_PREFIX}" + group.astype(str)
            names = [
                f"{lad}, local IMD 2025 decile {g}"
                + {1: " (most deprived)", 10: " (least deprived)"}.get(int(g), "")
                for lad, g in zip(lsoas["lad_name"], group, strict=True)
            ]
            frame = frame.assign(place_code=codes, place_name=names)
        elif level.removeprefix("lad_") in _DEPRIVATION:
            column, prefix, kind, last = _DEPRIVATION[level.removeprefix("lad_")]
            group = lsoas[column].astype(int)
            codes = prefix + group.astype(str)
            names = [_quantile_name(kind, int(g), last) for g in group]
            if level.startswith("lad_"):  # within each local authority
                codes = lsoas["lad_code"].astype(str) + ":" + codes
                names = [
                    f"{lad}, {name}" for lad, name in zip(lsoas["lad_name"], names, strict=True)
                ]
            frame = frame.assign(place_code=codes, place_name=names)
        else:
            rows = footprints[footprints["footprint_kind"] == level]
            frame = pd.DataFrame(
                {
                    "lsoa21_code": rows["lsoa21_code"],
                    "weight": rows["weight"].astype(float),
                    "place_code": rows["footprint_code"],
                    "place_name": rows["footprint_name"],
                }
            )
        frames.append(frame.assign(level=level)[COLUMNS])
    return pd.concat(frames, ignore_index=True)


def refuse_analysis_levels(levels: Sequence[str]) -> None:
    """An error for any of ``levels`` that is computed for analysis only, where the figures
    could be published."""
    unpublished = [level for level in levels if level in ANALYSIS_LEVELS]
    if unpublished:
        raise IndicatorError(
            f"{', '.join(map(repr, unpublished))} is computed for analysis only and never "
            "published: it has no disclosure control"
        )


def local_deciles(lsoas: pd.DataFrame) -> pd.Series:
    """Each LSOA's decile within its authority (1 = most deprived): LSOAs ranked by IMD score,
    most deprived first, and cut at tenths of the authority's residents (each LSOA falls in
    the tenth that holds the middle of its residents)."""
    ordered = lsoas.sort_values(
        ["lad_code", "imd_score", "lsoa21_code"], ascending=[True, False, True]
    )
    people = ordered["residents"].astype(float).clip(lower=0)
    by_lad = people.groupby(ordered["lad_code"])
    total = by_lad.transform("sum")
    middle = by_lad.cumsum() - people / 2.0
    share = middle / total.where(total > 0, 1.0)
    decile = (share * 10).astype(int).clip(0, 9) + 1
    return decile.reindex(lsoas.index).astype(int)


def available_levels(footprints: pd.DataFrame) -> list[str]:
    kinds = sorted(set(footprints["footprint_kind"]) - _DUPLICATES)
    return [*CORE_LEVELS, *kinds]
