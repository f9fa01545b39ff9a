"""Pace of change: moving each place from last year's baseline towards its target, in whole
pounds that sum exactly to the pool.

With baseline ``B``, target ``T`` (both summing to their totals) and a pool ``P``:

1. Everyone's baseline grows with the pool, ``G = P / sum(B)``, and closes the fraction
   ``convergence`` of the gap to target: ``p = B*G + convergence * (T - B*G)`` (sums to P).
2. Protections set a lower bound for each place: the growth floor ``B * (1 + min_growth)``
   and, if set, ``T * (1 - max_below_target)``; bounds are rounded up to whole pounds.
3. Places below their bound are raised to it; the cost is met by every other place giving up
   the same fraction of its provisional allocation (so shares above the bounds keep their
   proportions), recomputed until no place is below its bound.
4. Whole pounds: places on their bound get exactly it; the rest share what is left in
   proportion to their provisional allocation by largest remainder, ties by place code.

When the bounds alone cost more than the pool the policy is infeasible: an error says by how
much, and nothing is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from carepool.allocation.formula import PaceOfChange
from carepool.errors import AllocationError
from carepool.stats import largest_remainder

Array = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PaceResult:
    allocation: Ints  # whole pounds, sums to the pool
    provisional: Array  # step 1, pounds
    lower_bound: Ints  # step 2, whole pounds
    protected: npt.NDArray[np.bool_]  # allocation held at its lower bound


def whole_pounds(shares: Array, total: int) -> Ints:
    """``total`` pounds shared in proportion to ``shares`` (largest remainder, exact sum)."""
    return largest_remainder(shares, total)


def growth_floor(baseline_pence: Ints, min_growth: float) -> Ints:
    """Smallest whole-pound allocation that is at least baseline * (1 + min_growth), exactly."""
    rate = 1 + Fraction(str(min_growth))
    return np.array(
        [math.ceil(Fraction(int(b)) * rate / 100) for b in baseline_pence], dtype=np.int64
    )


def converge(target: Array, baseline_pence: Ints, total: int, pace: PaceOfChange) -> PaceResult:
    """Allocations in whole pounds under ``pace`` (see the module docstring).

    ``target`` is in pounds (summing to ``total``), ``baseline_pence`` last year's
    allocations in pence; both ordered by place code.
    """
    baseline = baseline_pence.astype(np.float64) / 100.0
    if baseline.sum() <= 0:
        raise AllocationError("the baseline allocations sum to zero; pace of change needs them")
    grown = baseline * (total / baseline.sum())
    provisional = grown + pace.convergence * (target - grown)
    bound = growth_floor(baseline_pence, pace.min_growth)
    if pace.max_below_target is not None:
        limit = np.ceil(target * (1 - pace.max_below_target) - 1e-6).astype(np.int64)
        bound = np.maximum(bound, limit)
    needed = int(bound.sum())
    if needed > total:
        raise AllocationError(
            f"the pace-of-change policy cannot be met: its protections (growth floor "
            f"{pace.min_growth:+.2%}, at most {pace.max_below_target or 0:.1%} below target) "
            f"need £{needed:,} but the pool is £{total:,} (short by £{needed - total:,})"
        )
    protected = np.zeros(target.size, dtype=bool)
    while True:
        free = ~protected
        left = total - int(bound[protected].sum())
        weights = provisional[free]
        if weights.sum() <= 0:
            weights = np.ones(int(free.sum()))
        parts = largest_remainder(weights, left)
        below = parts < bound[free]
        if not below.any():
            break
        protected[np.flatnonzero(free)[below]] = True
    allocation = bound.copy()
    allocation[~protected] = parts
    return PaceResult(allocation, provisional, bound, protected)
