"""The differencing audit: no hidden small count can be narrowed by linear programming.

Security-sensitive. Secondary suppression (:func:`carepool.indicators.disclosure.protect`)
makes sure no total and its parts has exactly one hidden cell, but the levels carepool
publishes overlap -- an LSOA lies in an MSOA, a ward, a 2011 LSOA and a deprivation decile at
once -- and an attacker holding every published table can set all of them against each other
at once. This module is that attacker. For every published count it solves the linear
programme the attacker would, over every level together, and hides further cells until no
hidden count of 1-7 can be bounded more tightly than the protection interval.

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

**The protection interval.** Every *sensitive* cell -- a hidden count the rule hides because
it is small, of a place made of whole LSOAs -- must keep bounds at least
``rule.largest_suppressed - rule.smallest`` apart (6 for counts of 1-7): the attacker learns
no more than that the count lies somewhere in a range as wide as the one the rule hides.
Apportioned places (a 2011 LSOA that takes part of a 2021 LSOA) are not themselves audited:
their counts are shares of LSOA counts, which are.

**How.** One HiGHS model per quantity, with a column per LSOA and per other place, is kept for
the whole audit and re-solved warm from its last basis. Hiding a cell only removes what the
attacker knows, so a feasible point found once stays feasible: a cell is *certified* once
two feasible points put it at least the protection width apart (the truth is one). A few
solves that push random sets of uncertified cells up certify most cells at once; each cell
still open gets its own minimum and maximum. A cell bounded too tightly is protected by
hiding, in every table publishing the quantity, the shown cell with the smallest count among
those whose published bounds hold the attacker's optimum (a non-zero reduced cost), then
applying secondary suppression again; rounds repeat until every sensitive cell is certified.

See docs/methods/disclosure-control.md.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from carepool.indicators.disclosure import SUPPRESSED, DisclosureRule, protect

TABLE = ["indicator", "year"]
PLACE = ["level", "place_code"]
COUNTS = ("numerator", "denominator")
#: Solver tolerance: bounds are compared to the protection width within this.
_TOLERANCE = 1e-6
#: Random pushes per quantity before each open cell is solved on its own; they stop earlier
#: when one certifies nothing new.
_PUSHES = 24
#: Rounds of further suppression before the audit gives up (each hides at least one cell).
_MAX_ROUNDS = 200
_INF = highspy.kHighsInf


def counts_digest(rows: pd.DataFrame) -> str:
    """A digest of one table's counts (``level, place_code, numerator, denominator``), so a
    recorded audit is used only for the counts it audited."""
    ordered = rows.sort_values(PLACE, kind="stable")
    digest = hashlib.sha256()
    for column in PLACE:
        digest.update("\x1f".join(ordered[column].astype(str)).encode())
        digest.update(b"\x1e")
    for column in COUNTS:
        values = ordered[column].to_numpy(dtype=np.float64)
        digest.update(np.round(values, 6).tobytes())
    return digest.hexdigest()[:32]


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


@dataclass
class Audit:
    """The audit's result: the cells hidden and what was found."""

    #: The published pattern: :func:`carepool.indicators.publish.pattern`'s columns.
    pattern: pd.DataFrame
    #: Cells hidden beyond the rule's own (``indicator, year, level, place_code, reason``):
    #: ``secondary`` (secondary suppression) or ``differencing`` (hidden by this audit).
    extra: pd.DataFrame
    report: dict[str, Any]


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
        solver = _quiet_solver()
        solver.passModel(lp)
        return solver


_banner_shown = False


def _quiet_solver() -> highspy.Highs:
    """A HiGHS solver that prints nothing.

    HiGHS writes its banner to the C library's standard output once per process, as the
    Python object sets up its callbacks and before any option can turn it off; a command's
    output must not carry it, so the first solver is made with file descriptor 1 pointed at
    the null device for that moment.
    """
    global _banner_shown
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
    return solver


def _new_solver() -> highspy.Highs:
    return highspy.Highs()  # type: ignore[no-untyped-call]  # highspy has no annotation here


@dataclass
class _Quantity:
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
        return np.asarray(self.high - self.low < width - _TOLERANCE)


@dataclass(frozen=True)
class _Finding:
    """A sensitive cell bounded too tightly, and the shown cells that bound it."""

    quantity: _Quantity
    slot: int
    low: float
    high: float
    binding: npt.NDArray[np.int64]


class _Attacker:
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

    def reveal(self, quantity: _Quantity, hidden: npt.NDArray[np.bool_]) -> None:
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

    def certify(self, quantity: _Quantity, seed: int) -> list[_Finding]:
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

    def _single(self, quantity: _Quantity, i: int) -> _Finding | None:
        """The attacker's exact bounds on one cell, or None once it is certified."""
        highs = quantity.highs
        assert highs is not None
        cost = np.zeros(self.model.columns)
        cost[self.model.column_of[quantity.sensitive[i]]] = 1.0
        bounds = {}
        binding: list[npt.NDArray[np.int64]] = []
        for sense in (highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize):
            self.single += 1
            status = self._solve(highs, cost, sense)
            if status == highspy.HighsModelStatus.kUnbounded:
                quantity.high[i] = np.inf
                return None
            self._record(quantity)
            if not quantity.open(self.width)[i]:
                return None
            bounds[sense] = highs.getInfo().objective_function_value
            if sense == highspy.ObjSense.kMaximize or bounds[sense] > _TOLERANCE:
                binding.append(self._binding(quantity))
        return _Finding(
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

    def _record(self, quantity: _Quantity) -> None:
        """Widen the values found for the sensitive cells by the solver's feasible point."""
        assert quantity.highs is not None
        values = np.asarray(quantity.highs.getSolution().col_value)
        found = values[self.model.column_of[quantity.sensitive]]
        np.minimum(quantity.low, found, out=quantity.low)
        np.maximum(quantity.high, found, out=quantity.high)

    def _binding(self, quantity: _Quantity) -> npt.NDArray[np.int64]:
        """Place slots of shown cells whose published bounds hold the optimum."""
        assert quantity.highs is not None
        duals = np.abs(np.asarray(quantity.highs.getSolution().col_dual))
        slots = self.slot_of[duals > 1e-9]
        shown = ~quantity.hidden[slots] & ~np.isnan(quantity.truth[slots])
        return np.asarray(slots[shown], dtype=np.int64)


def _vector_key(values: npt.NDArray[np.float64]) -> bytes:
    return hashlib.sha256(np.round(np.nan_to_num(values, nan=-1.0), 6).tobytes()).digest()


def _quantities(
    keyed: pd.DataFrame,
    tables: dict[tuple[str, str], npt.NDArray[np.int64]],
    slots: npt.NDArray[np.int64],
    geography: Geography,
    rule: DisclosureRule,
) -> list[_Quantity]:
    """Every distinct count vector the tables publish, with what the attacker knows of it."""
    places = len(geography.places)
    is_lsoa = geography.lsoa_of >= 0
    by_vector: dict[bytes, _Quantity] = {}
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
            by_vector[vector] = _Quantity(
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


def _table_key(key: Any) -> tuple[str, str]:
    """``(indicator, year)`` from a groupby key of those two columns."""
    return str(key[0]), str(key[1])


def _seed(quantity: _Quantity, round_: int) -> int:
    text = f"{quantity.name}:{round_}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def audit(
    keyed: pd.DataFrame,
    relations: Sequence[str],
    members: pd.DataFrame,
    rule: DisclosureRule,
) -> Audit:
    """Hide cells until no sensitive cell of any table can be bounded more tightly than the
    protection interval by linear programming over every level together.

    ``keyed`` holds every table's counts (``indicator, level, place_code, year, numerator,
    denominator``) for every place of ``members``, with the additive-group key columns
    ``relations`` (:func:`carepool.indicators.relations.additive_groups`).
    """
    started = time.perf_counter()
    keyed = keyed.reset_index(drop=True)
    groupings = [["indicator", "year", relation] for relation in relations]
    geography = Geography.of(members)
    slots = geography.slots(keyed)
    tables = {
        _table_key(key): np.asarray(rows, dtype=np.int64)
        for key, rows in keyed.groupby(TABLE, sort=True).indices.items()
    }

    def suppress(rows: npt.NDArray[np.int64], forced: npt.NDArray[np.bool_] | None) -> pd.DataFrame:
        return protect(
            keyed.iloc[rows],
            count="numerator",
            denominator="denominator",
            groupings=groupings,
            rule=rule,
            forced=forced,
        )

    hidden = np.zeros(len(keyed), dtype=bool)
    for rows in tables.values():
        hidden[rows] = suppress(rows, None)[SUPPRESSED].to_numpy(dtype=bool)
    by_rule = hidden.copy()
    primary = rule.primary(keyed["numerator"]).to_numpy(dtype=bool) | rule.primary(
        keyed["denominator"]
    ).to_numpy(dtype=bool)
    quantities = _quantities(keyed, tables, slots, geography, rule)
    attacker = _Attacker(geography, rule)
    size = np.diff(geography.weights.indptr)

    def hidden_at(key: tuple[str, str]) -> npt.NDArray[np.bool_]:
        mask = np.ones(len(geography.places), dtype=bool)
        rows = tables[key]
        mask[slots[rows]] = hidden[rows]
        return mask

    changed = set(tables)
    rounds = 0
    while True:
        findings: list[_Finding] = []
        for quantity in quantities:
            if changed.isdisjoint(quantity.tables):
                continue
            seen = np.logical_and.reduce([hidden_at(key) for key in quantity.tables])
            attacker.reveal(quantity, seen)
            findings += attacker.certify(quantity, _seed(quantity, rounds))
        if not findings:
            break
        rounds += 1
        if rounds > _MAX_ROUNDS:
            raise RuntimeError(
                f"the differencing audit did not converge in {_MAX_ROUNDS} rounds; "
                f"{len(findings)} cells still bounded too tightly"
            )
        to_hide: dict[tuple[str, str], set[int]] = {}
        for finding in findings:
            q = finding.quantity
            if finding.binding.size == 0:
                raise RuntimeError(
                    f"{q.name}: {geography.places.iloc[finding.slot].to_dict()} is bounded "
                    f"to {finding.low:g}-{finding.high:g} by nothing that can be hidden"
                )
            candidates = finding.binding
            choice = candidates[
                np.lexsort((candidates, size[candidates], q.published[candidates]))[0]
            ]
            for key in q.tables:
                to_hide.setdefault(key, set()).add(int(choice))
        changed = set(to_hide)
        for key, chosen in to_hide.items():
            rows = tables[key]
            forced = hidden[rows] | np.isin(slots[rows], list(chosen))
            hidden[rows] = suppress(rows, forced)[SUPPRESSED].to_numpy(dtype=bool)

    frames = []
    for rows in tables.values():
        published = suppress(rows, hidden[rows] & ~primary[rows])
        if not np.array_equal(published[SUPPRESSED].to_numpy(dtype=bool), hidden[rows]):
            raise RuntimeError("the audited pattern is not closed under secondary suppression")
        frames.append(published.drop(columns=list(relations)))
    pattern = pd.concat(frames, ignore_index=True)
    beyond = hidden & ~primary
    extra = keyed.loc[beyond, [*TABLE, *PLACE]].reset_index(drop=True)
    extra["reason"] = np.where(by_rule[beyond], "secondary", "differencing")
    report: dict[str, Any] = {
        "rule": rule.name,
        "smallest": rule.smallest,
        "largest_suppressed": rule.largest_suppressed,
        "round_to": rule.round_to,
        "protection": attacker.width,
        "solver": f"HiGHS {_quiet_solver().version()}",
        "tables": len(tables),
        "quantities": len(quantities),
        "sensitive_cells": int(sum(len(q.sensitive) for q in quantities)),
        "hidden_by_rule": int(by_rule.sum()),
        "hidden_by_audit": int((hidden & ~by_rule).sum()),
        "rounds": rounds,
        "solves": attacker.solves,
        "seconds": round(time.perf_counter() - started, 2),
        "counts": {f"{i}/{y}": counts_digest(keyed.iloc[rows]) for (i, y), rows in tables.items()},
    }
    return Audit(pattern, extra, report)
