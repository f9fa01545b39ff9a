from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.stats.rounding import MAX_TOTAL, exact_share, largest_remainder

weights = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=40)


@given(weights, st.integers(min_value=0, max_value=10_000_000))
def test_largest_remainder_parts_sum_to_the_whole_and_stay_within_one(
    w: list[float], total: int
) -> None:
    if sum(w) == 0:
        w = [*w[:-1], 1.0]
    parts = largest_remainder(w, total)
    assert parts.sum() == total
    quotas = np.asarray(w) / sum(w) * total
    assert np.all(np.abs(parts - quotas) < 1.0 + 1e-6)
    assert np.all(parts >= 0)


@given(weights, st.integers(min_value=2**50, max_value=MAX_TOTAL))
def test_largest_remainder_is_exact_at_any_total_it_accepts(w: list[float], total: int) -> None:
    """Beyond 2**53 floating point cannot hold the quotas to a unit: the parts still sum to
    the total exactly, each within one of its exact quota."""
    if sum(w) == 0:
        w = [*w[:-1], 1.0]
    parts = largest_remainder(w, total)
    assert int(parts.sum()) == total
    whole = sum(Fraction(x) for x in w)
    for part, weight in zip(parts.tolist(), w, strict=True):
        assert abs(part - Fraction(weight) * total / whole) < 1


def test_largest_remainder_refuses_a_total_beyond_64_bits() -> None:
    with pytest.raises(ValueError, match="at most"):
        largest_remainder([1.0, 2.0], MAX_TOTAL + 1)


def test_largest_remainder_gives_leftovers_to_largest_remainders() -> None:
    assert largest_remainder([1, 1, 1], 100).tolist() == [34, 33, 33]
    assert largest_remainder([0.5, 0.3, 0.2], 7).tolist() == [4, 2, 1]


def test_largest_remainder_keeps_exact_integer_quotas() -> None:
    counts = np.array([1751, 1838, 0, 17])
    assert largest_remainder(counts, int(counts.sum())).tolist() == counts.tolist()


def test_largest_remainder_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        largest_remainder([1, -1], 3)
    with pytest.raises(ValueError, match="sum to zero"):
        largest_remainder([0, 0], 3)


@given(
    st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=30),
    st.floats(min_value=0, max_value=1),
)
def test_exact_share_never_exceeds_a_cell_and_sums_exactly(counts: list[int], f: float) -> None:
    c = np.array(counts, dtype=np.int64)
    total = int(c.sum())
    k = round(f * total)
    parts = exact_share(c, k, total)
    assert parts.sum() == k
    assert np.all((parts >= 0) & (parts <= c))
