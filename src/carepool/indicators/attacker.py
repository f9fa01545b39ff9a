"""The attacker of the differencing audit: linear programmes over every published level.

Security-sensitive. Used by :mod:`carepool.indicators.differencing`, which decides what to
hide; this module only finds how tightly an attacker can bound each hidden small count (the
models themselves are built by :mod:`carepool.indicators.attacker_model`).

**What the attacker knows** of one published count (a *quantity*: a numerator or a
denominator of one indicator and period, or several that are the same numbers, as when
indicators share a population), with LSOA counts ``x >= 0`` and every place a weighted sum
of LSOAs (``c = A x``):

- a shown count ``r`` is the true count rounded: within ``round_to // 2`` of it for a sum of
  whole LSOAs of whole numbers, ``round_to / 2`` otherwise; and it is not one of the counts
  the rule hides, so a shown 0 is exactly 0 and a shown 10 is 8 to 12;
- a hidden count is at least 0 (whether a hidden cell is small or hidden to protect another
  is not published);
- an LSOA with no row (nobody the indicator counts) is 0; a place with no row says nothing;
- how counts nest, from the published definitions (:mod:`carepool.indicators.nesting`): in
  each LSOA a numerator counts some of its denominator's people, deaths from cancer and from
  circulatory disease are some of the deaths under 75, which are some of the deaths of men
  and women; each count of a family and period is a sum of shared non-negative atoms.

A cell is hidden from the attacker only if every table publishing the quantity hides it.

**How.** Quantities whose counts nest form a *block* (most quantities are a block alone); one
HiGHS model per block, with a column per place of each quantity (and per LSOA of each atom
where counts nest), is kept for the whole audit and re-solved warm from its last basis.
Hiding a cell only removes what the attacker knows, so a feasible point found once stays
feasible: a cell is *certified* once two feasible points put it at least the protection width
apart (the truth is one; where counts nest, the build checks it is). A few
solves that push random sets of uncertified cells up certify most cells at once; each cell
still open gets its own minimum and maximum, and the shown cells whose published bounds hold
that optimum (a non-zero reduced cost).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.indicators.attacker_model import Area, Geography, Joint
from carepool.indicators.disclosure import DisclosureRule
from carepool.indicators.nesting import Count, Nesting, atoms

COUNTS = ("numerator", "denominator")
#: Solver tolerance: bounds are compared to the protection width within this.
TOLERANCE = 1e-6
#: Random pushes per quantity before each open cell is solved on its own; they stop earlier
#: when one certifies nothing new.
_PUSHES = 24
#: Where counts nest, pushes stop once one certifies fewer cells than this.
_NESTED_GAIN = 16
_INF = highspy.kHighsInf
#: A region of more LSOAs than this is not solved whole: a cell the largest areas of
#: :attr:`~carepool.indicators.attacker_model.Geography.tiers` leave bounded too tightly is
#: taken as found, with the cells that bind it there (hiding one of them may protect more
#: than the whole would need, never less). England's whole programme is thirty times Greater
#: Manchester's (1,700 LSOAs), and its solves take minutes each; the largest English region,
#: the South East, has 5,600 LSOAs and is solved whole.
WHOLE_LSOAS = 12_000


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


@dataclass(eq=False)
class Quantity:
    """One published count vector, what the attacker knows of it, and what is certified."""

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
    #: What the count sums, for each table that publishes it: a universe (a family of
    #: measures and a period, :mod:`carepool.indicators.nesting`) and atoms of it.
    definitions: set[tuple[Hashable, frozenset[int]]] = field(default_factory=set)
    low: npt.NDArray[np.float64] = field(init=False)
    high: npt.NDArray[np.float64] = field(init=False)
    #: Per place slot: hidden from the attacker (in every table publishing the quantity).
    hidden: npt.NDArray[np.bool_] = field(init=False)

    def __post_init__(self) -> None:
        self.low = self.truth[self.sensitive].copy()
        self.high = self.low.copy()
        self.hidden = np.zeros(len(self.truth), dtype=bool)

    @property
    def name(self) -> str:
        return ", ".join(f"{i} {y} {self.column}" for i, y in self.tables)

    def open(self, width: float) -> npt.NDArray[np.bool_]:
        return np.asarray(self.high - self.low < width - TOLERANCE)


@dataclass
class Block:
    """Quantities whose counts nest, in one model (most quantities are a block alone)."""

    quantities: list[Quantity]
    model: Joint
    highs: highspy.Highs | None = None

    @property
    def name(self) -> str:
        return "; ".join(quantity.name for quantity in self.quantities)

    @property
    def tables(self) -> set[tuple[str, str]]:
        return {key for quantity in self.quantities for key in quantity.tables}

    def open(self, width: float) -> bool:
        return any(quantity.open(width).any() for quantity in self.quantities)


@dataclass(frozen=True)
class Finding:
    """A sensitive cell bounded too tightly, and the shown cells that bound it."""

    quantity: Quantity
    slot: int
    low: float
    high: float
    #: The shown cells whose published bounds hold the attacker's bound: (quantity, slot).
    binding: list[tuple[Quantity, int]]


class Attacker:
    """Solves the attacker's linear programmes for every block, warm from the last basis."""

    def __init__(self, geography: Geography, rule: DisclosureRule, by_council: bool = True) -> None:
        self.geography = geography
        #: Whether to solve one area at a time first (:meth:`_certify_by_area`).
        self.by_council = by_council
        self.rule = rule
        self.width = float(rule.largest_suppressed - rule.smallest)
        self.solves = 0
        self.single = 0
        #: Solves of the programmes of one area at a time (:meth:`_certify_by_area`).
        self.council_solves = 0
        #: Cells of a region too large to solve whole taken as found as the largest areas
        #: found them (:data:`WHOLE_LSOAS`).
        self.taken_as_found = 0
        #: Blocks whose counts break the relations the definitions declare (a loaded extract
        #: that counts someone screened who was not eligible, say): audited unrelated.
        self.unrelated: list[str] = []

    def blocks(self, quantities: Sequence[Quantity]) -> list[Block]:
        """The quantities in blocks: those whose counts nest together (share a universe)."""
        root = list(range(len(quantities)))

        def find(i: int) -> int:
            while root[i] != i:
                root[i] = root[root[i]]
                i = root[i]
            return i

        first: dict[Hashable, int] = {}
        for i, quantity in enumerate(quantities):
            for universe, _ in quantity.definitions:
                if universe in first:
                    root[find(i)] = find(first[universe])
                else:
                    first[universe] = i
        grouped: dict[int, list[Quantity]] = {}
        for i, quantity in enumerate(quantities):
            grouped.setdefault(find(i), []).append(quantity)
        blocks = []
        for members in grouped.values():
            block = Block(members, Joint(self.geography, members))
            if block.model.nested and not self._holds_truth(block):
                self.unrelated.append(block.name)
                for quantity in members:
                    quantity.definitions = {((id(quantity),), frozenset({0}))}
                    blocks.append(Block([quantity], Joint(self.geography, [quantity])))
            else:
                blocks.append(block)
        return blocks

    def _holds_truth(self, block: Block) -> bool:
        """Whether the true counts satisfy the block's relations: the certification takes the
        truth for a feasible point, and the attacker's bounds mean nothing otherwise."""
        lower = np.zeros(block.model.columns)
        upper = np.full(block.model.columns, _INF)
        for k, quantity in enumerate(block.quantities):
            slots = np.arange(len(quantity.truth))
            columns = block.model.columns_of(k, slots)
            present = ~np.isnan(quantity.truth)
            at_lsoa = self.geography.lsoa_of >= 0
            lower[columns[present]] = quantity.truth[present]
            upper[columns[present]] = quantity.truth[present]
            upper[columns[~present & at_lsoa]] = 0.0
        highs = block.model.highs(lower, upper)
        highs.run()
        return bool(highs.getModelStatus() == highspy.HighsModelStatus.kOptimal)

    def reveal(self, block: Block, hidden: Sequence[npt.NDArray[np.bool_]]) -> None:
        """Tell the attacker's model which cells of each quantity are hidden now (never fewer
        than before)."""
        for k, (quantity, mask) in enumerate(zip(block.quantities, hidden, strict=True)):
            newly = mask & ~quantity.hidden
            quantity.hidden = quantity.hidden | mask
            if block.highs is not None and newly.any():
                changed = block.model.columns_of(k, np.flatnonzero(newly)).astype(np.int32)
                block.highs.changeColsBounds(
                    len(changed), changed, np.zeros(len(changed)), np.full(len(changed), _INF)
                )

    def _highs(self, block: Block) -> highspy.Highs:
        """The block's solver, made when first needed (most blocks have nothing to certify)."""
        if block.highs is None:
            lower = np.zeros(block.model.columns)
            upper = np.full(block.model.columns, _INF)
            for k, quantity in enumerate(block.quantities):
                columns = block.model.columns_of(k, np.arange(len(quantity.truth)))
                lower[columns] = np.where(quantity.hidden, 0.0, quantity.lower)
                upper[columns] = np.where(quantity.hidden, _INF, quantity.upper)
            block.highs = block.model.highs(lower, upper)
        return block.highs

    def certify(self, block: Block, seed: int) -> list[Finding]:
        """Certify every sensitive cell of ``block`` that can be; the others, found.

        One council at a time first, then one ICB, then four ICBs at a time
        (:meth:`_certify_by_area`); the whole programme is solved only for the cells those
        leave neither certified nor found."""
        if not block.open(self.width):
            return []
        findings, settled, largest = self._certify_by_area(block, seed)
        quantities = block.quantities

        def still(k: int) -> npt.NDArray[np.bool_]:
            return np.asarray(quantities[k].open(self.width) & ~settled[k])

        unsettled = [(k, int(i)) for k in range(len(quantities)) for i in np.flatnonzero(still(k))]
        if not unsettled:
            # the whole programme is not needed now; made again from the bounds if it is
            block.highs = None
            return findings
        if len(self.geography.lsoas) > WHOLE_LSOAS and all(c in largest for c in unsettled):
            # too large to solve whole: each cell left is taken as found, bound as the
            # largest areas found it (so hiding what the whole might not need, never less)
            block.highs = None
            self.taken_as_found += len(unsettled)
            return findings + [largest[cell] for cell in unsettled]
        highs = self._highs(block)
        rng = np.random.default_rng(seed)
        columns = [block.model.columns_of(k, q.sensitive) for k, q in enumerate(quantities)]
        left = sum(int(still(k).sum()) for k in range(len(quantities)))
        # Where counts nest the model is several times larger, and a push that moves thousands
        # of cells at once takes tens of thousands of simplex steps: the interior point method
        # is ten times faster there. Only the first push runs its crossover, for a basis the
        # single solves start from; a push needs only a feasible point. On one quantity
        # alone, warm primal simplex is the faster.
        highs.setOptionValue("solver", "ipm" if block.model.nested else "simplex")
        basis = None
        for push in range(_PUSHES):
            cost = np.zeros(block.model.columns)
            for k, sensitive in enumerate(columns):
                open_ = still(k)
                chosen = open_ if push == 0 else open_ & (rng.random(len(open_)) < 0.5)
                cost[sensitive[chosen]] = 1.0
            self._solve(highs, cost, highspy.ObjSense.kMaximize)
            if block.model.nested and basis is None:
                basis = highs.getBasis()
                highs.setOptionValue("run_crossover", "off")
            self._record(block)
            now = sum(int(still(k).sum()) for k in range(len(quantities)))
            # a push on a nested block costs as much as a dozen single solves
            enough = _NESTED_GAIN if block.model.nested else 1
            if now == 0 or (push > 0 and left - now < enough):
                break
            left = now
        highs.setOptionValue("solver", "simplex")
        if basis is not None:
            highs.setOptionValue("run_crossover", "on")
            highs.setBasis(basis)
        for k, quantity in enumerate(quantities):
            order = np.argsort(quantity.high - quantity.low, kind="stable")
            for i in order:
                if not still(k)[i]:
                    continue
                single = self._single(block, k, int(i))
                if single is not None:
                    findings.append(single)
        return findings

    def _certify_by_area(
        self, block: Block, seed: int
    ) -> tuple[list[Finding], list[npt.NDArray[np.bool_]], dict[tuple[int, int], Finding]]:
        """Certify what points found one area at a time can (:func:`_area_part`), and find
        the cells these programmes bound exactly as the whole would. Returns the findings;
        per quantity, which sensitive cells they settle; and, for each cell the largest
        areas left open, by ``(quantity, position among its sensitive cells)``, what those
        found of it (bound by cells some of which are places spanning the area).

        Each point is a point of the whole programme, so nothing is certified that the whole
        would not certify. A cell of a place within the area that its programme bounds too
        tightly by shown cells within the area alone (no place spanning the area holds the
        bound: its moved bounds are the only ones the whole does not share) is bounded
        exactly so by the whole, whose feasible points all satisfy those cells' bounds: it
        is found here, with the cells that bind it. The rest is left to the next tier of
        areas (councils, ICBs, groups of ICBs), and then to the whole."""
        quantities = block.quantities
        found: list[Finding] = []
        settled = [np.zeros(len(quantity.sensitive), dtype=bool) for quantity in quantities]
        largest: dict[tuple[int, int], Finding] = {}
        tiers = self.geography.tiers if self.by_council else []
        for tier, areas in enumerate(tiers):
            largest = {}
            for number, area in enumerate(areas):
                parts = [_area_part(q, area, ~settled[k]) for k, q in enumerate(quantities)]
                if not any(part.open(self.width).any() for part, _, _ in parts):
                    continue
                local = Attacker(area.geography, self.rule, by_council=False)
                members = [part for part, _, _ in parts]
                model = Joint(area.geography, members)
                findings = local.certify(Block(members, model), seed + 1000 * tier + number)
                self.council_solves += local.solves
                for quantity, (part, index, rest) in zip(quantities, parts, strict=True):
                    quantity.low[index] = np.minimum(quantity.low[index], part.low + rest)
                    quantity.high[index] = np.maximum(quantity.high[index], part.high + rest)
                for finding in findings:
                    k = members.index(finding.quantity)
                    slot = int(area.slots[finding.slot])
                    position = int(np.searchsorted(quantities[k].sensitive, slot))
                    binding = [
                        (quantities[members.index(q)], int(area.slots[s]))
                        for q, s in finding.binding
                    ]
                    outside = quantities[k].truth[slot] - finding.quantity.truth[finding.slot]
                    shift = float(np.nan_to_num(outside))
                    whole = Finding(
                        quantities[k], slot, finding.low + shift, finding.high + shift, binding
                    )
                    cells = [(finding.quantity, finding.slot), *finding.binding]
                    if all(area.inside[s] for _, s in cells):
                        settled[k][position] = True
                        found.append(whole)
                    else:  # the whole may bound it less tightly: a larger area decides
                        largest[k, position] = whole
        return found, settled, largest

    def _single(self, block: Block, k: int, i: int) -> Finding | None:
        """The attacker's exact bounds on one cell, or None once it is certified.

        The maximum first; the minimum only if a feasible point has not already put the cell
        at 0, below which no count goes.
        """
        highs = self._highs(block)
        quantity = block.quantities[k]
        cost = np.zeros(block.model.columns)
        cost[block.model.columns_of(k, quantity.sensitive[i : i + 1])] = 1.0
        bounds = {highspy.ObjSense.kMinimize: 0.0}
        binding: list[tuple[Quantity, int]] = []
        for sense in (highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize):
            if sense == highspy.ObjSense.kMinimize and quantity.low[i] <= TOLERANCE:
                break
            self.single += 1
            status = self._solve(highs, cost, sense)
            if status == highspy.HighsModelStatus.kUnbounded:
                quantity.high[i] = np.inf
                return None
            self._record(block)
            if not quantity.open(self.width)[i]:
                return None
            bounds[sense] = highs.getInfo().objective_function_value
            binding += self._binding(block)
        return Finding(
            quantity,
            int(quantity.sensitive[i]),
            bounds[highspy.ObjSense.kMinimize],
            bounds[highspy.ObjSense.kMaximize],
            sorted(set(binding), key=lambda qs: (block.quantities.index(qs[0]), qs[1])),
        )

    def _solve(
        self, highs: highspy.Highs, cost: npt.NDArray[np.float64], sense: highspy.ObjSense
    ) -> highspy.HighsModelStatus:
        self.solves += 1
        everything = np.arange(len(cost), dtype=np.int32)
        highs.changeColsCost(len(everything), everything, cost)
        highs.changeObjectiveSense(sense)
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnknown and _option(highs, "solver") == "ipm":
            # the interior point method without its crossover could not confirm its point
            # (a large nested model): that solve is made again by simplex, whose point is
            # a vertex that satisfies every bound
            crossover = _option(highs, "run_crossover")
            highs.setOptionValue("solver", "simplex")
            highs.run()
            status = highs.getModelStatus()
            highs.setOptionValue("solver", "ipm")
            highs.setOptionValue("run_crossover", crossover)
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded):
            raise RuntimeError(f"the differencing audit's solver stopped: {status}")
        return status

    def _record(self, block: Block) -> None:
        """Widen the values found for the sensitive cells by the solver's feasible point."""
        assert block.highs is not None
        values = np.asarray(block.highs.getSolution().col_value)
        for k, quantity in enumerate(block.quantities):
            found = values[block.model.columns_of(k, quantity.sensitive)]
            np.minimum(quantity.low, found, out=quantity.low)
            np.maximum(quantity.high, found, out=quantity.high)

    def _binding(self, block: Block) -> list[tuple[Quantity, int]]:
        """Shown cells whose published bounds hold the optimum (non-zero reduced costs)."""
        assert block.highs is not None
        duals = np.abs(np.asarray(block.highs.getSolution().col_dual))
        columns = np.flatnonzero(duals[: len(block.quantities) * block.model.per] > 1e-9)
        found = []
        for column in columns:
            quantity = block.quantities[int(column) // block.model.per]
            slot = int(block.model.slot_of[int(column) % block.model.per])
            if not quantity.hidden[slot] and not np.isnan(quantity.truth[slot]):
                found.append((quantity, slot))
        return found


def _area_part(
    quantity: Quantity, area: Area, wanted: npt.NDArray[np.bool_]
) -> tuple[Quantity, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """``quantity`` over one area (a council, an ICB), every LSOA outside it held at the
    truth: its places are the area's parts of them, and a place spanning the area has its
    bounds moved by the truth of the rest of it. Any point of this programme, with the truth
    elsewhere, is a point of the whole: the places within the area keep their bounds, every
    place outside it is at the truth, and a place spanning it is its part here plus the
    truth of the rest, within bounds just when the part is within the moved ones.

    Returns the part, the positions in ``quantity.sensitive`` of the area's sensitive cells
    still ``wanted`` (not yet settled), and what to add to the part's values of them for the
    whole's (the rest)."""
    geography = area.geography
    truth = quantity.truth[area.slots]
    at_lsoa = geography.lsoa_of >= 0
    lsoa_counts = np.zeros(len(geography.lsoas))
    lsoa_counts[geography.lsoa_of[at_lsoa]] = np.nan_to_num(truth[at_lsoa], nan=0.0)
    part_truth = np.where(np.isnan(truth), np.nan, geography.weights @ lsoa_counts)
    rest = np.nan_to_num(truth - part_truth, nan=0.0)
    index = np.flatnonzero(np.isin(quantity.sensitive, area.slots) & wanted)
    sensitive = np.searchsorted(area.slots, quantity.sensitive[index]).astype(np.int64)
    part = Quantity(
        quantity.tables,
        quantity.column,
        part_truth,
        quantity.published[area.slots],
        np.maximum(quantity.lower[area.slots] - rest, 0.0),
        quantity.upper[area.slots] - rest,
        sensitive,
        quantity.definitions,
    )
    part.hidden = quantity.hidden[area.slots].copy()
    part.low = quantity.low[index] - rest[sensitive]
    part.high = quantity.high[index] - rest[sensitive]
    return part, index, rest[sensitive]


def _option(highs: highspy.Highs, name: str) -> str | bool | float | int:
    """An option's value (highspy gives it with the call's status)."""
    value = highs.getOptionValue(name)
    found = value[1] if isinstance(value, tuple) else value
    if not isinstance(found, str | bool | float | int):
        raise RuntimeError(f"HiGHS option {name!r} has no value")
    return found


def _vector_key(values: npt.NDArray[np.float64]) -> bytes:
    return hashlib.sha256(np.round(np.nan_to_num(values, nan=-1.0), 6).tobytes()).digest()


def quantities(
    keyed: pd.DataFrame,
    tables: dict[tuple[str, str], npt.NDArray[np.int64]],
    slots: npt.NDArray[np.int64],
    geography: Geography,
    rule: DisclosureRule,
    nesting: Nesting | None = None,
) -> list[Quantity]:
    """Every distinct count vector the tables publish, with what the attacker knows of it:
    its published bounds and, with ``nesting``, how it relates to the others."""
    places = len(geography.places)
    by_vector: dict[bytes, Quantity] = {}
    counted: list[tuple[Quantity, Hashable, Count]] = []
    family: dict[Hashable, set[Count]] = {}
    for key, rows in tables.items():
        for column in COUNTS:
            truth = np.full(places, np.nan)
            truth[slots[rows]] = keyed[column].to_numpy(dtype=np.float64)[rows]
            vector = _vector_key(truth)
            quantity = by_vector.get(vector)
            if quantity is None:
                quantity = by_vector[vector] = _quantity(key, column, truth, geography, rule)
            else:
                quantity.tables.append(key)
            count = nesting.count(key[0], column) if nesting is not None else None
            if count is None:
                quantity.definitions.add(((*key, column), frozenset({0})))
            else:
                universe: Hashable = (count.family, key[1])
                counted.append((quantity, universe, count))
                family.setdefault(universe, set()).add(count)
    numbered = {universe: sorted(counts, key=repr) for universe, counts in family.items()}
    sums = {universe: dict(zip(c, atoms(c), strict=True)) for universe, c in numbered.items()}
    for quantity, universe, count in counted:
        quantity.definitions.add((universe, sums[universe][count]))
    return list(by_vector.values())


def _quantity(
    key: tuple[str, str],
    column: str,
    truth: npt.NDArray[np.float64],
    geography: Geography,
    rule: DisclosureRule,
) -> Quantity:
    """A count vector's published bounds and sensitive cells."""
    is_lsoa = geography.lsoa_of >= 0
    # whole numbers of whole LSOAs are known to within round_to // 2
    atoms_ = truth[is_lsoa]
    counts_whole = bool(np.all(np.isnan(atoms_) | (atoms_ == np.round(atoms_))))
    published = np.round(truth / rule.round_to) * rule.round_to
    lower, upper = _bounds(published, geography.whole & counts_whole, rule)
    absent = np.isnan(truth)
    lower[absent] = 0.0
    upper[absent] = np.where(is_lsoa[absent], 0.0, _INF)
    _check_truth(truth, geography, f"{key[0]} {key[1]} {column}")
    sensitive = np.flatnonzero(
        ~absent & geography.whole & rule.primary(pd.Series(truth)).to_numpy(dtype=bool)
    )
    return Quantity([key], column, truth, published, lower, upper, sensitive.astype(np.int64))


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
