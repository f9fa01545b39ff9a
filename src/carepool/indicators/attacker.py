"""The attacker of the differencing audit: linear programmes over every published level.

Security-sensitive. Used by :mod:`carepool.indicators.differencing`, which decides what to
hide; this module only finds how tightly an attacker can bound each hidden small count.

**What the attacker knows** of one published count (a *quantity*: a numerator or a
denominator of one indicator and period, or several that are the same numbers, as when
indicators share a population), with LSOA counts ``x >= 0`` and every place a weighted sum
of LSOAs (``c = A x``):

- a shown count ``r`` is the true count rounded: within ``round_to // 2`` of it for a sum of
  whole LSOAs of whole numbers, ``round_to / 2`` otherwise; and it is not one of the counts
  the rule hides, so a shown 0 is exactly 0 and a shown 10 is 8 to 12;
- a hidden count is at least 0 (whether a hidden cell is small or hidden to protect another
  is not published);
- an LSOA with no row (nobody the indicator counts) is 0; a place with no row says nothing.

A cell is hidden from the attacker only if every table publishing the quantity hides it.

**How.** One HiGHS model per quantity, with a column per LSOA and per other place, is kept for
the whole audit and re-solved warm from its last basis. Hiding a cell only removes what the
attacker knows, so a feasible point found once stays feasible: a cell is *certified* once
two feasible points put it at least the protection width apart (the truth is one). A few
solves that push random sets of uncertified cells up certify most cells at once; each cell
still open gets its own minimum and maximum, and the shown cells whose published bounds hold
that optimum (a non-zero reduced cost).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from dataclasses import dataclass, field

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from carepool.indicators.disclosure import DisclosureRule

PLACE = ["level", "place_code"]
COUNTS = ("numerator", "denominator")
#: Solver tolerance: bounds are compared to the protection width within this.
TOLERANCE = 1e-6
#: Random pushes per quantity before each open cell is solved on its own; they stop earlier
#: when one certifies nothing new.
_PUSHES = 24
_INF = highspy.kHighsInf


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

    def slots(self, rows: pd.DataFrame) -> npt.NDArray[np.int64]:
        index = pd.MultiIndex.from_frame(self.places)
        found = index.get_indexer(pd.MultiIndex.from_frame(rows[PLACE]))
        if (found < 0).any():
            raise ValueError("counts for a place the memberships do not hold")
        return found.astype(np.int64)


def _bounds(
    published: npt.NDArray[np.float64], whole: npt.NDArray[np.bool_], rule: DisclosureRule
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """What a shown count says of the truth: within the rounding, and not a count the rule
    hides (a shown 0 is 0 when the rule hides 1-7; a shown 10 is at least 8)."""
    slack = np.where(whole, rule.round_to // 2, rule.round_to / 2)
    lower = published - slack
    upper = published + slack
    below, above = rule.smallest - 1, rule.largest_suppressed + 1
    upper = np.where(upper < above, np.minimum(upper, below), upper)
    lower = np.where(lower > below, np.maximum(lower, above), lower)
    return np.maximum(lower, 0.0), upper


class _Model:
    """Builds the attacker's HiGHS model of a quantity over the geography."""

    def __init__(self, geography: Geography) -> None:
        self.geography = geography
        places = len(geography.places)
        self.lsoas = len(geography.lsoas)
        others = np.flatnonzero(geography.lsoa_of < 0)
        self.column_of = np.empty(places, dtype=np.int64)
        self.column_of[geography.lsoa_of >= 0] = geography.lsoa_of[geography.lsoa_of >= 0]
        self.column_of[others] = self.lsoas + np.arange(len(others))
        self.columns = self.lsoas + len(others)
        # rows: y_p - sum_l w_pl x_l = 0 for each place p not an LSOA
        matrix = sp.hstack(
            [-geography.weights[others], sp.identity(len(others), format="csr")]
        ).tocsc()
        self.matrix = matrix
        self.rows = len(others)

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


@dataclass
class Quantity:
    """One published count vector, the attacker's model of it, and what is certified."""

    tables: list[tuple[str, str]]
    column: str
    #: Per place slot: the true count, NaN where the tables have no row.
    truth: npt.NDArray[np.float64]
    #: Per place slot: the published (rounded) count.
    published: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    #: Place slots of the cells to protect, and the values found for them so far at feasible
    #: points (the truth is one).
    sensitive: npt.NDArray[np.int64]
    low: npt.NDArray[np.float64] = field(init=False)
    high: npt.NDArray[np.float64] = field(init=False)
    #: Per place slot: hidden from the attacker (in every table publishing the quantity).
    hidden: npt.NDArray[np.bool_] = field(init=False)
    highs: highspy.Highs | None = None

    def __post_init__(self) -> None:
        self.low = self.truth[self.sensitive].copy()
        self.high = self.low.copy()
        self.hidden = np.zeros(len(self.truth), dtype=bool)

    @property
    def name(self) -> str:
        return ", ".join(f"{i} {y} {self.column}" for i, y in self.tables)

    def open(self, width: float) -> npt.NDArray[np.bool_]:
        return np.asarray(self.high - self.low < width - TOLERANCE)


@dataclass(frozen=True)
class Finding:
    """A sensitive cell bounded too tightly, and the shown cells that bound it."""

    quantity: Quantity
    slot: int
    low: float
    high: float
    binding: npt.NDArray[np.int64]


class Attacker:
    """Solves the attacker's linear programmes for every quantity, warm from the last basis."""

    def __init__(self, geography: Geography, rule: DisclosureRule) -> None:
        self.model = _Model(geography)
        self.geography = geography
        self.rule = rule
        self.width = float(rule.largest_suppressed - rule.smallest)
        self.solves = 0
        self.single = 0
        #: Place slot of each model column.
        self.slot_of = np.empty(self.model.columns, dtype=np.int64)
        self.slot_of[self.model.column_of] = np.arange(len(self.model.column_of))

    def reveal(self, quantity: Quantity, hidden: npt.NDArray[np.bool_]) -> None:
        """Tell the attacker's model which cells are hidden now (never fewer than before)."""
        newly = hidden & ~quantity.hidden
        quantity.hidden = quantity.hidden | hidden
        columns = self.model.column_of
        if quantity.highs is None:
            lower = np.empty(self.model.columns)
            upper = np.empty(self.model.columns)
            lower[columns] = np.where(quantity.hidden, 0.0, quantity.lower)
            upper[columns] = np.where(quantity.hidden, _INF, quantity.upper)
            quantity.highs = self.model.highs(lower, upper)
        elif newly.any():
            changed = columns[newly].astype(np.int32)
            quantity.highs.changeColsBounds(
                len(changed), changed, np.zeros(len(changed)), np.full(len(changed), _INF)
            )

    def certify(self, quantity: Quantity, seed: int) -> list[Finding]:
        """Certify every sensitive cell of ``quantity`` that can be; the others, found."""
        if not quantity.open(self.width).any():
            return []
        highs = quantity.highs
        assert highs is not None
        rng = np.random.default_rng(seed)
        columns = self.model.column_of[quantity.sensitive]
        left = int(quantity.open(self.width).sum())
        for push in range(_PUSHES):
            still = quantity.open(self.width)
            chosen = still if push == 0 else still & (rng.random(len(still)) < 0.5)
            cost = np.zeros(self.model.columns)
            cost[columns[chosen]] = 1.0
            self._solve(highs, cost, highspy.ObjSense.kMaximize)
            self._record(quantity)
            now = int(quantity.open(self.width).sum())
            if now == 0 or (push > 0 and now == left):
                break
            left = now
        findings = []
        order = np.argsort(quantity.high - quantity.low, kind="stable")
        for i in order:
            if not quantity.open(self.width)[i]:
                continue
            finding = self._single(quantity, int(i))
            if finding is not None:
                findings.append(finding)
        return findings

    def _single(self, quantity: Quantity, i: int) -> Finding | None:
        """The attacker's exact bounds on one cell, or None once it is certified.

        The maximum first; the minimum only if a feasible point has not already put the cell
        at 0, below which no count goes.
        """
        highs = quantity.highs
        assert highs is not None
        cost = np.zeros(self.model.columns)
        cost[self.model.column_of[quantity.sensitive[i]]] = 1.0
        bounds = {highspy.ObjSense.kMinimize: 0.0}
        binding: list[npt.NDArray[np.int64]] = []
        for sense in (highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize):
            if sense == highspy.ObjSense.kMinimize and quantity.low[i] <= TOLERANCE:
                break
            self.single += 1
            status = self._solve(highs, cost, sense)
            if status == highspy.HighsModelStatus.kUnbounded:
                quantity.high[i] = np.inf
                return None
            self._record(quantity)
            if not quantity.open(self.width)[i]:
                return None
            bounds[sense] = highs.getInfo().objective_function_value
            binding.append(self._binding(quantity))
        return Finding(
            quantity,
            int(quantity.sensitive[i]),
            bounds[highspy.ObjSense.kMinimize],
            bounds[highspy.ObjSense.kMaximize],
            np.unique(np.concatenate(binding)),
        )

    def _solve(
        self, highs: highspy.Highs, cost: npt.NDArray[np.float64], sense: highspy.ObjSense
    ) -> highspy.HighsModelStatus:
        self.solves += 1
        everything = np.arange(self.model.columns, dtype=np.int32)
        highs.changeColsCost(len(everything), everything, cost)
        highs.changeObjectiveSense(sense)
        highs.run()
        status = highs.getModelStatus()
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded):
            raise RuntimeError(f"the differencing audit's solver stopped: {status}")
        return status

    def _record(self, quantity: Quantity) -> None:
        """Widen the values found for the sensitive cells by the solver's feasible point."""
        assert quantity.highs is not None
        values = np.asarray(quantity.highs.getSolution().col_value)
        found = values[self.model.column_of[quantity.sensitive]]
        np.minimum(quantity.low, found, out=quantity.low)
        np.maximum(quantity.high, found, out=quantity.high)

    def _binding(self, quantity: Quantity) -> npt.NDArray[np.int64]:
        """Place slots of shown cells whose published bounds hold the optimum."""
        assert quantity.highs is not None
        duals = np.abs(np.asarray(quantity.highs.getSolution().col_dual))
        slots = self.slot_of[duals > 1e-9]
        shown = ~quantity.hidden[slots] & ~np.isnan(quantity.truth[slots])
        return np.asarray(slots[shown], dtype=np.int64)


def _vector_key(values: npt.NDArray[np.float64]) -> bytes:
    return hashlib.sha256(np.round(np.nan_to_num(values, nan=-1.0), 6).tobytes()).digest()


def quantities(
    keyed: pd.DataFrame,
    tables: dict[tuple[str, str], npt.NDArray[np.int64]],
    slots: npt.NDArray[np.int64],
    geography: Geography,
    rule: DisclosureRule,
) -> list[Quantity]:
    """Every distinct count vector the tables publish, with what the attacker knows of it."""
    places = len(geography.places)
    is_lsoa = geography.lsoa_of >= 0
    by_vector: dict[bytes, Quantity] = {}
    for key, rows in tables.items():
        for column in COUNTS:
            truth = np.full(places, np.nan)
            truth[slots[rows]] = keyed[column].to_numpy(dtype=np.float64)[rows]
            vector = _vector_key(truth)
            if vector in by_vector:
                by_vector[vector].tables.append(key)
                continue
            # whole numbers of whole LSOAs are known to within round_to // 2
            atoms = truth[is_lsoa]
            counts_whole = bool(np.all(np.isnan(atoms) | (atoms == np.round(atoms))))
            published = np.round(truth / rule.round_to) * rule.round_to
            lower, upper = _bounds(published, geography.whole & counts_whole, rule)
            absent = np.isnan(truth)
            lower[absent] = 0.0
            upper[absent] = np.where(is_lsoa[absent], 0.0, _INF)
            _check_truth(truth, geography, f"{key[0]} {key[1]} {column}")
            sensitive = np.flatnonzero(
                ~absent & geography.whole & rule.primary(pd.Series(truth)).to_numpy(dtype=bool)
            )
            by_vector[vector] = Quantity(
                [key], column, truth, published, lower, upper, sensitive.astype(np.int64)
            )
    return list(by_vector.values())


def _check_truth(truth: npt.NDArray[np.float64], geography: Geography, name: str) -> None:
    """Every place's count must be the weighted sum of its LSOAs' (an LSOA with no row being
    0), or the attacker's model would not hold the truth and its bounds would mean nothing."""
    x = np.nan_to_num(truth[geography.lsoa_of >= 0], nan=0.0)
    lsoa_truth = np.zeros(len(geography.lsoas))
    lsoa_truth[geography.lsoa_of[geography.lsoa_of >= 0]] = x
    sums = geography.weights @ lsoa_truth
    present = ~np.isnan(truth)
    gap = np.abs(sums[present] - truth[present])
    if gap.size and gap.max() > 1e-6 * max(1.0, float(np.abs(truth[present]).max())):
        raise RuntimeError(f"{name}: a place's count is not the sum of its LSOAs' counts")
