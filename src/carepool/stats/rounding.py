"""Rounding that keeps totals: parts sum exactly to the whole."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def largest_remainder(
    weights: npt.ArrayLike, total: int, *, cap: npt.ArrayLike | None = None
) -> npt.NDArray[np.int64]:
    """Share the integer ``total`` in proportion to ``weights`` (Hamilton's method).

    Each part gets the floor of its quota; the units left over go to the largest fractional
    remainders, ties broken by position so the result is deterministic. The parts sum exactly
    to ``total`` and each is within one of its quota. Used wherever counts or pence must add up.

    ``cap``, if given, is an upper bound on each part; it must hold for the quotas themselves
    (a part whose quota equals its cap is never rounded up).
    """
    w = np.asarray(weights, dtype=np.float64)
    if total < 0:
        raise ValueError(f"total must be non-negative, got {total}")
    if w.ndim != 1:
        raise ValueError("weights must be one-dimensional")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and non-negative")
    s = float(w.sum())
    if total == 0:
        return np.zeros(w.shape, dtype=np.int64)
    if s <= 0:
        raise ValueError("cannot share a positive total over weights that sum to zero")
    quotas = w / s * total
    parts = np.floor(quotas).astype(np.int64)
    remainders = quotas - parts
    if cap is not None:
        c = np.asarray(cap, dtype=np.int64)
        remainders = np.where(parts >= c, -1.0, remainders)
    short = int(total - parts.sum())
    if short > 0:
        order = np.lexsort((np.arange(w.size), -remainders))
        parts[order[:short]] += 1
    elif short < 0:  # only through float error in the quotas
        order = np.lexsort((np.arange(w.size), remainders))
        order = order[parts[order] > 0]
        parts[order[:-short]] -= 1
    return parts


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
