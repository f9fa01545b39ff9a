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


def _relation(members: pd.DataFrame, fine: str, coarse: str) -> pd.Series | None:
    """The key of each ``fine`` place's group within ``coarse``, by place slot.

    ``members`` has integer columns ``slot`` (one per place of a level), ``lsoa`` and float
    ``weight``. Each group's key is the slot of its total, which is itself in the group.
    """
    coarse_rows = members[members["level"] == coarse]
    whole = coarse_rows[np.isclose(coarse_rows["weight"], 1.0)]
    slot_of = whole.drop_duplicates("lsoa").set_index("lsoa")["slot"]
    parts = members[members["level"] == fine]
    parent = parts["lsoa"].map(slot_of)
    by_part = parent.groupby(parts["slot"], sort=False)
    # a part nests when all its LSOAs lie wholly in one and the same coarse place
    known = parent.notna().groupby(parts["slot"], sort=False).all()
    child = by_part.first()[(by_part.nunique() == 1) & known].astype(np.int64)
    if child.empty:
        return None
    nested = parts[parts["slot"].isin(child.index)]
    cover = nested.groupby("lsoa")["weight"].sum()
    # a coarse place is a total of its nested parts when they cover every one of its LSOAs
    covered = np.isclose(coarse_rows["lsoa"].map(cover).fillna(0.0), 1.0)
    complete = pd.Series(covered, index=coarse_rows.index).groupby(coarse_rows["slot"]).all()
    child = child[child.isin(complete[complete].index)]
    if child.empty:
        return None
    totals = np.unique(child.to_numpy())
    relation: pd.Series = pd.concat([child, pd.Series(totals, index=totals)])
    return relation


def additive_groups(members: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One key column per relation between two levels, for every ``level, place_code``.

    Returns the frame (``level, place_code, rel_0, rel_1, ...``; missing where a place is in
    no group of that relation) and the names of the key columns.
    """
    slots = members.groupby(KEYS, sort=False).ngroup().to_numpy()
    work = pd.DataFrame(
        {
            "level": members["level"].to_numpy(object),
            "slot": slots,
            "lsoa": pd.factorize(members["lsoa21_code"])[0],
            "weight": members["weight"].to_numpy(np.float64),
        }
    )
    first = pd.Series(np.arange(len(slots))).groupby(slots).first()
    places = members.iloc[first.to_numpy()][KEYS].reset_index(drop=True)
    levels = list(dict.fromkeys(work["level"]))
    columns: list[str] = []
    for fine in levels:
        for coarse in levels:
            if fine == coarse:
                continue
            relation = _relation(work, fine, coarse)
            if relation is None:
                continue
            name = f"rel_{len(columns)}"
            columns.append(name)
            keys = np.full(len(places), np.nan)
            keys[relation.index.to_numpy()] = relation.to_numpy()
            places[name] = keys
    return places, columns
