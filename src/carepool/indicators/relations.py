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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

KEYS = ["level", "place_code"]


@dataclass(frozen=True)
class _Level:
    """One level's membership rows as arrays, sorted by place slot."""

    slot: npt.NDArray[np.int64]
    lsoa: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    #: Where each place's rows start, and the place slots in that order.
    starts: npt.NDArray[np.int64]
    places: npt.NDArray[np.int64]
    #: The place holding each LSOA wholly (weight 1), or -1.
    whole: npt.NDArray[np.int64]

    @classmethod
    def of(cls, slot: np.ndarray, lsoa: np.ndarray, weight: np.ndarray, lsoas: int) -> _Level:
        order = np.argsort(slot, kind="stable")
        slot, lsoa, weight = slot[order], lsoa[order], weight[order]
        places, starts = np.unique(slot, return_index=True)
        whole = np.full(lsoas, -1, dtype=np.int64)
        wholly = np.isclose(weight, 1.0)
        # the first place that holds an LSOA wholly (assignment keeps the last: reverse)
        whole[lsoa[wholly][::-1]] = slot[wholly][::-1]
        return cls(slot, lsoa, weight, starts, places, whole)


def _relation(fine: _Level, coarse: _Level, lsoas: int) -> pd.Series | None:
    """The key of each ``fine`` place's group within ``coarse``, by place slot: the slot of
    the group's total, which is itself in the group."""
    parent = coarse.whole[fine.lsoa]
    # a part nests when all its LSOAs lie wholly in one and the same coarse place
    low = np.minimum.reduceat(parent, fine.starts)
    high = np.maximum.reduceat(parent, fine.starts)
    nests = (low >= 0) & (low == high)
    if not nests.any():
        return None
    in_nesting = np.repeat(nests, np.diff(np.append(fine.starts, fine.slot.size)))
    cover = np.bincount(fine.lsoa[in_nesting], fine.weight[in_nesting], minlength=lsoas)
    # a coarse place is a total of its nested parts when they cover every one of its LSOAs
    covered = np.isclose(cover[coarse.lsoa], 1.0).astype(np.int64)
    complete = np.zeros(int(coarse.places.max()) + 1, dtype=bool)
    complete[coarse.places] = np.minimum.reduceat(covered, coarse.starts) == 1
    parts, totals = fine.places[nests], low[nests]
    keep = complete[totals]
    if not keep.any():
        return None
    parts, totals = parts[keep], totals[keep]
    wholes = np.unique(totals)
    return pd.Series(np.concatenate([totals, wholes]), index=np.concatenate([parts, wholes]))


def additive_groups(members: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One key column per relation between two levels, for every ``level, place_code``.

    Returns the frame (``level, place_code, rel_0, rel_1, ...``; missing where a place is in
    no group of that relation) and the names of the key columns.
    """
    slots = members.groupby(KEYS, sort=False).ngroup().to_numpy(dtype=np.int64)
    lsoa, lsoa_codes = pd.factorize(members["lsoa21_code"])
    weight = members["weight"].to_numpy(np.float64)
    level_of = members["level"].to_numpy(object)
    first = pd.Series(np.arange(len(slots))).groupby(slots).first()
    places = members.iloc[first.to_numpy()][KEYS].reset_index(drop=True)
    names = list(dict.fromkeys(level_of))
    levels = {
        name: _Level.of(slots[rows], lsoa[rows], weight[rows], len(lsoa_codes))
        for name in names
        if (rows := level_of == name).any()
    }
    columns: list[str] = []
    for fine in names:
        for coarse in names:
            if fine == coarse:
                continue
            relation = _relation(levels[fine], levels[coarse], len(lsoa_codes))
            if relation is None:
                continue
            name = f"rel_{len(columns)}"
            columns.append(name)
            # float32 holds every place's slot exactly (below 2**24) with NaN for none, in
            # half the memory: all of England's tables are 3 million rows by 77 relations
            keys = np.full(len(places), np.nan, dtype=np.float32)
            keys[relation.index.to_numpy()] = relation.to_numpy()
            places[name] = keys
    return places, columns
