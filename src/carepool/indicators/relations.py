"""Which published cells add up to which: the groups secondary suppression must protect.

A place of one level *nests* in a place of another when every LSOA it draws on lies wholly
in that place. A place q of level C is then the sum of the places of level F that nest in it —
provided they cover all of q (every LSOA of q, with weights summing to one). Each such
relation, the total q together with its parts, is one group for
:func:`carepool.indicators.disclosure.protect`: within it, no cell may be the only one hidden,
or subtraction would reveal it. Relations are found between every pair of levels in the
table, so a neighbourhood cannot be recovered from its ward, a ward from its borough, or a
2011 LSOA from the identical 2021 LSOA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["level", "place_code"]


def _relation(members: pd.DataFrame, fine: str, coarse: str) -> pd.DataFrame | None:
    """``level, place_code, key`` rows of the relations of ``fine`` places within ``coarse``."""
    whole = members[(members["level"] == coarse) & np.isclose(members["weight"], 1.0)]
    place_of = whole.drop_duplicates("lsoa21_code").set_index("lsoa21_code")["place_code"]
    parts = members[members["level"] == fine].assign(
        parent=lambda d: d["lsoa21_code"].map(place_of)
    )
    per_part = parts.groupby("place_code")["parent"].agg(["nunique", "count", "first"])
    whole_in_one = per_part[(per_part["nunique"] == 1) & (per_part["count"] > 0)]
    all_known = parts.groupby("place_code")["parent"].apply(lambda p: bool(p.notna().all()))
    nesting = whole_in_one[all_known.reindex(whole_in_one.index).fillna(False).astype(bool)]
    if nesting.empty:
        return None
    nested = parts[parts["place_code"].isin(nesting.index)]
    cover = nested.groupby("lsoa21_code")["weight"].sum()
    coarse_lsoas = members[members["level"] == coarse][["place_code", "lsoa21_code"]]
    coarse_lsoas = coarse_lsoas.assign(cover=coarse_lsoas["lsoa21_code"].map(cover).fillna(0.0))
    complete = coarse_lsoas.groupby("place_code")["cover"].apply(
        lambda c: bool(np.isclose(c, 1.0).all())
    )
    totals = set(complete[complete].index)
    child = nesting["first"]
    child = child[child.isin(totals)]
    if child.empty:
        return None
    rows = [
        pd.DataFrame({"level": fine, "place_code": child.index, "key": child.to_numpy()}),
        pd.DataFrame({"level": coarse, "place_code": sorted(totals & set(child)), "key": None}),
    ]
    rows[1]["key"] = rows[1]["place_code"]
    return pd.concat(rows, ignore_index=True)


def additive_groups(members: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One key column per relation between two levels, for every ``level, place_code``.

    Returns the frame (``level, place_code, rel_0, rel_1, ...``; missing where a place is in
    no group of that relation) and the names of the key columns.
    """
    places = members.drop_duplicates(KEYS)[KEYS].reset_index(drop=True)
    levels = list(dict.fromkeys(members["level"]))
    columns: list[str] = []
    for fine in levels:
        for coarse in levels:
            if fine == coarse:
                continue
            relation = _relation(members, fine, coarse)
            if relation is None:
                continue
            name = f"rel_{len(columns)}"
            columns.append(name)
            places = places.merge(relation.rename(columns={"key": name}), on=KEYS, how="left")
    return places, columns
