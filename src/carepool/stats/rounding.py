"""Rounding that keeps totals: parts sum exactly to the whole."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import numpy.typing as npt

#: The largest total :func:`largest_remainder` shares: parts are 64-bit integers.
MAX_TOTAL = 2**63 - 1
#: Totals up to this are shared in floating point, whose quotas are then good to about a
#: thousandth of a unit; larger ones in exact fractions.
_FLOAT_TOTAL = 2**40


def largest_remainder(
    weights: npt.ArrayLike, total: int, *, cap: npt.ArrayLike | None = None
) -> npt.NDArray[np.int64]:
    """Share the integer ``total`` in proportion to ``weights`` (Hamilton's method).

    Each part gets the floor of its quota; the units left over go to the largest fractional
    remainders, ties broken by position so the result is deterministic. The parts sum exactly
    to ``total`` and each is within one of its quota. Used wherever counts or pence must add up.

    ``cap``, if given, is an upper bound on each part; it must hold for the quotas themselves
    (a part whose quota equals its cap is never rounded up).

    Exact at any total up to :data:`MAX_TOTAL`: quotas are computed in floating point up to
    2**40 (about a trillion, where they are good to a thousandth of a unit) and in exact
    fractions of the weights beyond.
    """
    w = np.asarray(weights, dtype=np.float64)
    if total < 0:
        raise ValueError(f"total must be non-negative, got {total}")
    if total > MAX_TOTAL:
        raise ValueError(f"total must be at most {MAX_TOTAL:,}, got {total:,}")
    if w.ndim != 1:
        raise ValueError("weights must be one-dimensional")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and non-negative")
    s = float(w.sum())
    if total == 0:
        return np.zeros(w.shape, dtype=np.int64)
    if s <= 0:
        raise ValueError("cannot share a positive total over weights that sum to zero")
    if total > _FLOAT_TOTAL:
        return _exact_largest_remainder(w, total, cap)
    quotas = w / s * total
    parts = np.floor(quotas).astype(np.int64)
    remainders = quotas - parts
    if cap is not None:
        c = np.asarray(cap, dtype=np.int64)
        remainders = np.where(parts >= c, -1.0, remainders)
    short = total - int(parts.sum())
    if short > 0:
        order = np.lexsort((np.arange(w.size), -remainders))
        parts[order[:short]] += 1
    elif short < 0:  # only through float error in the quotas
        order = np.lexsort((np.arange(w.size), remainders))
        order = order[parts[order] > 0]
        parts[order[:-short]] -= 1
    return parts


def _exact_largest_remainder(
    w: npt.NDArray[np.float64], total: int, cap: npt.ArrayLike | None
) -> npt.NDArray[np.int64]:
    """:func:`largest_remainder` in exact fractions (each float weight is an exact fraction)."""
    weights = [Fraction(float(value)) for value in w]
    whole = sum(weights, Fraction(0))
    quotas = [weight * total / whole for weight in weights]
    parts = [quota.numerator // quota.denominator for quota in quotas]
    remainders = [quota - part for quota, part in zip(quotas, parts, strict=True)]
    if cap is not None:
        caps = np.asarray(cap, dtype=np.int64).tolist()
        remainders = [
            Fraction(-1) if part >= limit else rest
            for part, limit, rest in zip(parts, caps, remainders, strict=True)
        ]
    order = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return np.asarray(parts, dtype=np.int64)


def exact_share(
    counts: npt.NDArray[np.int64], numerator: int, denominator: int
) -> npt.NDArray[np.int64]:
    """Share ``numerator`` over cells holding ``counts`` in proportion to ``counts``.

    Exact integer arithmetic: part_i = floor(counts_i * numerator / denominator) plus one for
    the largest remainders, so sum(parts) == numerator and 0 <= part_i <= counts_i, given
    sum(counts) == denominator and 0 <= numerator <= denominator.
    """
    if counts.sum() != denominator or not 0 <= numerator <= denominator:
        raise ValueError("exact_share needs sum(counts) == denominator >= numerator >= 0")
    if denominator == 0:
        return np.zeros_like(counts)
    product = counts.astype(np.int64) * numerator
    parts = product // denominator
    remainders = product % denominator
    short = int(numerator - parts.sum())
    order = np.lexsort((np.arange(counts.size), -remainders))
    parts[order[:short]] += 1
    return parts
