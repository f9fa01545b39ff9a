"""The attacker's linear programme: every place as a sum, and one HiGHS model per block.

Security-sensitive. Used by :mod:`carepool.indicators.attacker`, which decides what to solve;
this module only builds the models: :class:`Geography` (every published place as a weighted
sum of LSOAs, and as a sum of the largest places that partition it) and :class:`Joint` (the
columns and rows of a block of quantities, and where counts nest their atoms).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    from carepool.indicators.attacker import Quantity

PLACE = ["level", "place_code"]
#: The areas the attacker's programme is first solved over, one at a time, smallest first
#: (:attr:`Geography.tiers`): each council, each ICB, then groups of four ICBs (of England's
#: 42), so that a count pinned by an England-wide decile within one ICB can be traded with
#: another's before the whole country is solved.
AREA_TIERS: tuple[tuple[str, int], ...] = (("lad", 1), ("icb", 1), ("icb", 4))


@dataclass(frozen=True)
class Geography:
    """Every place of every level as a weighted sum of LSOAs."""

    places: pd.DataFrame  # level, place_code; row i is place i
    lsoas: pd.Index
    #: places x LSOAs, the weights.
    weights: sp.csr_matrix
    #: The LSOA column of each place of level ``lsoa``, else -1.
    lsoa_of: npt.NDArray[np.int64]
    #: Whether a place is a sum of whole LSOAs (every weight 1).
    whole: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, members: pd.DataFrame) -> Geography:
        slot = members.groupby(PLACE, sort=False).ngroup().to_numpy(dtype=np.int64)
        first = pd.Series(np.arange(len(slot))).groupby(slot).first().to_numpy()
        places = members.iloc[first][PLACE].reset_index(drop=True)
        lsoa, lsoas = pd.factorize(members["lsoa21_code"])
        weight = members["weight"].to_numpy(dtype=np.float64)
        weights = sp.csr_matrix((weight, (slot, lsoa)), shape=(len(places), len(lsoas)))
        lsoa_of = np.full(len(places), -1, dtype=np.int64)
        at_lsoa = (places["level"] == "lsoa").to_numpy()
        lsoa_of[at_lsoa] = pd.Index(lsoas).get_indexer(places.loc[at_lsoa, "place_code"])
        whole = np.ones(len(places), dtype=bool)
        whole[slot[~np.isclose(weight, 1.0)]] = False
        return cls(places, pd.Index(lsoas), weights, lsoa_of, whole)

    @functools.cached_property
    def parts(self) -> sp.csr_matrix:
        """places x places: each place not an LSOA as a sum of the largest places that
        partition it (a borough of its wards, a decile of its boroughs' shares of it), and an
        apportioned place as its weighted LSOAs.

        The same sums as :attr:`weights`, written with a fraction of the non-zeros: a region
        is ten boroughs, not 1,700 LSOAs. The solver's work grows with the non-zeros. A place
        is made only of places ranked below it (fewer LSOAs; an LSOA before any other place of
        the same LSOAs; then the first), so no sum refers back to itself.
        """
        binary = self.weights.tocsr(copy=True)
        binary.data[:] = 1.0
        size = np.diff(binary.indptr)
        count = len(self.places)
        is_lsoa = self.lsoa_of >= 0
        rank = np.empty(count, dtype=np.int64)
        rank[np.lexsort((np.arange(count), ~is_lsoa, size))] = np.arange(count)
        lsoa_place = np.empty(len(self.lsoas), dtype=np.int64)
        lsoa_place[self.lsoa_of[is_lsoa]] = np.flatnonzero(is_lsoa)
        whole = np.flatnonzero(self.whole)
        overlap = (binary[whole] @ binary[whole].T).tocsr()
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, place in enumerate(whole.tolist()):
            if is_lsoa[place]:
                continue
            span = slice(overlap.indptr[i], overlap.indptr[i + 1])
            others = whole[overlap.indices[span]]
            inside = others[(overlap.data[span] == size[others]) & (rank[others] < rank[place])]
            covered = np.zeros(len(self.lsoas), dtype=bool)
            for part in inside[np.argsort(-size[inside], kind="stable")].tolist():
                lsoas = binary.indices[binary.indptr[part] : binary.indptr[part + 1]]
                if covered[lsoas].any():
                    continue
                covered[lsoas] = True
                rows.append(place)
                cols.append(part)
                vals.append(1.0)
        apportioned = self.weights[~self.whole].tocoo()
        rows += np.flatnonzero(~self.whole)[apportioned.row].tolist()
        cols += lsoa_place[apportioned.col].tolist()
        vals += apportioned.data.tolist()
        parts = sp.csr_matrix((vals, (rows, cols)), shape=(count, count))
        # the same sums: for any LSOA counts (random ones find a difference almost surely)
        counts = self.weights @ np.random.default_rng(0).random(len(self.lsoas))
        if not np.allclose((parts @ counts)[~is_lsoa], counts[~is_lsoa]):
            raise RuntimeError("the places' parts do not sum to their LSOAs")
        return parts

    @functools.cached_property
    def tiers(self) -> list[list[Area]]:
        """The parts of the geography the attacker's programme is first solved over, smallest
        first (:data:`AREA_TIERS`). A tier whose places are not published, or that would be
        one area (a region of one council, of one ICB, of four ICBs or fewer), is left out."""
        tiers = [self.areas_of(level, size) for level, size in AREA_TIERS]
        return [tier for tier in tiers if tier]

    def areas_of(self, level: str, size: int = 1) -> list[Area]:
        """The parts of the places of ``level``, ``size`` at a time (the largest places
        together, then the next), largest first; none when that makes fewer than two."""
        rows = np.flatnonzero((self.places["level"] == level).to_numpy())
        by_size = sorted(rows.tolist(), key=lambda row: -self.weights[row].nnz)
        groups = [by_size[i : i + size] for i in range(0, len(by_size), size)]
        if len(groups) < 2:
            return []
        return [
            self.area(np.unique(np.concatenate([self.weights[row].indices for row in group])))
            for group in groups
        ]

    def area(self, lsoa_columns: npt.NDArray[np.int32]) -> Area:
        """The places touching these LSOAs, each as its sum over them alone."""
        columns = np.sort(np.asarray(lsoa_columns, dtype=np.int64))
        within = self.weights[:, columns].tocsr()
        slots = np.flatnonzero(np.diff(within.indptr) > 0).astype(np.int64)
        weights = within[slots]
        lsoa_of = np.full(len(slots), -1, dtype=np.int64)
        at_lsoa = self.lsoa_of[slots] >= 0
        lsoa_of[at_lsoa] = np.searchsorted(columns, self.lsoa_of[slots[at_lsoa]])
        entries = weights.tocoo()
        whole = np.ones(len(slots), dtype=bool)
        whole[entries.row[~np.isclose(entries.data, 1.0)]] = False
        part = Geography(
            self.places.iloc[slots].reset_index(drop=True),
            self.lsoas[columns],
            weights,
            lsoa_of,
            whole,
        )
        inside = np.diff(weights.indptr) == np.diff(self.weights.indptr)[slots]
        return Area(part, slots, columns, inside)

    def slots(self, rows: pd.DataFrame) -> npt.NDArray[np.int64]:
        index = pd.MultiIndex.from_frame(self.places)
        found = index.get_indexer(pd.MultiIndex.from_frame(rows[PLACE]))
        if (found < 0).any():
            raise ValueError("counts for a place the memberships do not hold")
        return found.astype(np.int64)


@dataclass(frozen=True)
class Area:
    """One place's part of a :class:`Geography` (a council's, an ICB's): the places that
    touch its LSOAs, each taken as its sum over those LSOAs alone (a place that spans it, as
    its part of that place)."""

    geography: Geography
    #: The whole geography's slot of each of this part's places.
    slots: npt.NDArray[np.int64]
    #: The whole geography's LSOA column of each of this part's LSOAs.
    lsoas: npt.NDArray[np.int64]
    #: Per place of this part: whether all of it lies in the area.
    inside: npt.NDArray[np.bool_]


class Joint:
    """Builds the attacker's HiGHS model of a block of quantities over the geography.

    Quantity ``k`` has a column per place, at ``k * per + column_of[slot]`` (its LSOAs first),
    and rows ``y_p - sum_l w_pl y_l = 0`` for each place ``p`` not an LSOA. Where counts nest,
    each atom of their family and period (:mod:`carepool.indicators.nesting`) has a column per
    LSOA, and each count a row per LSOA ``y_l - sum_a z_al = 0`` over the atoms it sums. A
    quantity that is a single atom on its own is that atom's columns: a block of one quantity
    is just that quantity's model.
    """

    def __init__(self, geography: Geography, quantities: Sequence[Quantity]) -> None:
        self.geography = geography
        lsoas = len(geography.lsoas)
        self.lsoas = lsoas
        others = np.flatnonzero(geography.lsoa_of < 0)
        self.per = lsoas + len(others)
        self.column_of = np.empty(len(geography.places), dtype=np.int64)
        at_lsoa = geography.lsoa_of >= 0
        self.column_of[at_lsoa] = geography.lsoa_of[at_lsoa]
        self.column_of[others] = lsoas + np.arange(len(others))
        #: The place slot of each of a quantity's columns (the inverse of ``column_of``).
        self.slot_of = np.empty(self.per, dtype=np.int64)
        self.slot_of[self.column_of] = np.arange(len(self.column_of))
        count = len(quantities)
        base: dict[tuple[Hashable, int], int] = {}
        for k, quantity in enumerate(quantities):
            if len(quantity.definitions) == 1:
                ((universe, atoms),) = quantity.definitions
                if len(atoms) == 1 and (universe, min(atoms)) not in base:
                    base[(universe, min(atoms))] = k * self.per
        identified = set(base)
        self.columns = count * self.per
        for quantity in quantities:
            for universe, atoms in sorted(quantity.definitions, key=repr):
                for atom in sorted(atoms):
                    if (universe, atom) not in base:
                        base[(universe, atom)] = self.columns
                        self.columns += lsoas
        summed = -geography.parts[others].tocoo()
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.int64]] = []
        vals: list[npt.NDArray[np.float64]] = []
        row = 0
        lsoa = np.arange(lsoas, dtype=np.int64)
        for k, quantity in enumerate(quantities):
            offset = k * self.per
            rows += [row + summed.row, row + np.arange(len(others))]
            cols += [offset + self.column_of[summed.col], offset + lsoas + np.arange(len(others))]
            vals += [summed.data, np.ones(len(others))]
            row += len(others)
            for universe, atoms in sorted(quantity.definitions, key=repr):
                if len(atoms) == 1 and base[(universe, min(atoms))] == offset:
                    continue  # the quantity's own columns are the atom's
                rows.append(row + lsoa)
                cols.append(offset + lsoa)
                vals.append(np.ones(lsoas))
                for atom in atoms:
                    rows.append(row + lsoa)
                    cols.append(base[(universe, atom)] + lsoa)
                    vals.append(-np.ones(lsoas))
                row += lsoas
        self.rows = row
        self.nested = len(base) > len(identified) or count > 1
        self.matrix = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.rows, self.columns),
        )

    def columns_of(self, k: int, slots: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The model columns of quantity ``k`` at place ``slots``."""
        return np.asarray(k * self.per + self.column_of[slots], dtype=np.int64)

    def highs(
        self, lower: npt.NDArray[np.float64], upper: npt.NDArray[np.float64]
    ) -> highspy.Highs:
        lp = highspy.HighsLp()
        lp.num_col_ = self.columns
        lp.num_row_ = self.rows
        lp.col_cost_ = np.zeros(self.columns)
        lp.col_lower_ = lower
        lp.col_upper_ = upper
        lp.row_lower_ = np.zeros(self.rows)
        lp.row_upper_ = np.zeros(self.rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.matrix.indptr
        lp.a_matrix_.index_ = self.matrix.indices
        lp.a_matrix_.value_ = self.matrix.data
        solver = quiet_solver()
        solver.passModel(lp)
        return solver


_banner_shown = False
_banner_lock = threading.Lock()


def quiet_solver() -> highspy.Highs:
    """A HiGHS solver that prints nothing.

    HiGHS writes its banner to the C library's standard output once per process, as the
    Python object sets up its callbacks and before any option can turn it off; a command's
    output must not carry it, so the first solver is made with file descriptor 1 pointed at
    the null device for that moment.
    """
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            solver = _new_solver()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                solver = _new_solver()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
            _banner_shown = True
    solver.setOptionValue("output_flag", False)
    # primal simplex: a new objective leaves the last basis primal feasible, so each solve
    # starts where the last ended (twice as fast here as the default dual simplex)
    solver.setOptionValue("simplex_strategy", 4)
    return solver


def _new_solver() -> highspy.Highs:
    return highspy.Highs()  # type: ignore[no-untyped-call]  # highspy has no annotation here
