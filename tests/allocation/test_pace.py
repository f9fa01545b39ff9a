"""Pace of change: exact sums, protections that hold, and infeasible policies refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.allocation import PaceOfChange, allocate
from carepool.allocation.pace import converge, growth_floor
from carepool.errors import AllocationError

from .synthetic import formula, random_data

PLACES = st.integers(min_value=1, max_value=30)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, PaceOfChange]:
    n = draw(PLACES)
    weights = np.array(draw(st.lists(st.floats(0.01, 10.0), min_size=n, max_size=n)))
    total = draw(st.integers(10**3, 10**10))
    target = weights / weights.sum() * total
    noise = np.array(draw(st.lists(st.floats(0.7, 1.3), min_size=n, max_size=n)))
    shrink = draw(st.floats(0.8, 1.0))  # last year's pool was smaller
    baseline_pence = np.round(target * noise / (target * noise).sum() * total * shrink * 100)
    pace = PaceOfChange(
        min_growth=draw(st.sampled_from([-0.02, 0.0, 0.005, 0.01])),
        max_below_target=draw(st.sampled_from([None, 0.02, 0.05, 0.1])),
        convergence=draw(st.floats(0.0, 1.0)),
    )
    return target, baseline_pence.astype(np.int64), total, pace


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_floor_and_the_limit_hold_and_the_pounds_add_up(
    scenario: tuple[np.ndarray, np.ndarray, int, PaceOfChange],
) -> None:
    target, baseline, total, pace = scenario
    floor = growth_floor(baseline, pace.min_growth)
    limit = np.ceil(target * (1 - (pace.max_below_target or 1)) - 1e-6)
    if max(floor.sum(), np.maximum(floor, limit).sum()) > total:
        with pytest.raises(AllocationError, match="pace-of-change policy cannot be met"):
            converge(target, baseline, total, pace)
        return
    result = converge(target, baseline, total, pace)
    assert result.allocation.dtype == np.int64
    assert int(result.allocation.sum()) == total
    # the floor, exactly: allocation in pence >= baseline * (1 + min_growth)
    assert np.all(result.allocation * 100 >= baseline * (1 + pace.min_growth) - 1e-6)
    if pace.max_below_target is not None:
        assert np.all(result.allocation >= target * (1 - pace.max_below_target) - 1e-6)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_full_convergence_without_protections_reaches_the_target(
    scenario: tuple[np.ndarray, np.ndarray, int, PaceOfChange],
) -> None:
    target, baseline, total, _ = scenario
    pace = PaceOfChange(min_growth=-0.5, max_below_target=None, convergence=1.0)
    result = converge(target, baseline, total, pace)
    assert np.all(np.abs(result.allocation - target) <= 1.0)


def test_no_convergence_keeps_baseline_shares() -> None:
    target = np.array([500.0, 300.0, 200.0]) * 10**6
    baseline = np.array([400, 400, 200], dtype=np.int64) * 10**8  # pence
    pace = PaceOfChange(min_growth=0.0, max_below_target=None, convergence=0.0)
    result = converge(target, baseline, 10**9, pace)
    assert list(result.allocation) == [400_000_000, 400_000_000, 200_000_000]
    growth = PaceOfChange(min_growth=0.0, max_below_target=None, convergence=0.0)
    assert list(converge(target, baseline, 2 * 10**9, growth).allocation) == [
        800_000_000,
        800_000_000,
        400_000_000,
    ]


def test_the_limit_below_target_lifts_a_place_and_the_others_pay() -> None:
    target = np.array([600.0, 400.0]) * 10**6
    baseline = np.array([400, 600], dtype=np.int64) * 10**8
    pace = PaceOfChange(min_growth=-0.5, max_below_target=0.05, convergence=0.0)
    result = converge(target, baseline, 10**9, pace)
    assert list(result.allocation) == [570_000_000, 430_000_000]
    assert list(result.protected) == [True, False]


def test_an_infeasible_policy_says_by_how_much() -> None:
    target = np.array([500.0, 500.0]) * 10**6
    baseline = np.array([500, 500], dtype=np.int64) * 10**8
    pace = PaceOfChange(min_growth=0.02, max_below_target=None, convergence=0.5)
    with pytest.raises(
        AllocationError, match=r"need £1,020,000,000 but the pool is £1,000,000,000"
    ):
        converge(target, baseline, 10**9, pace)


def test_growth_floor_is_exact_in_pence() -> None:
    assert list(growth_floor(np.array([10_001, 99, 0], dtype=np.int64), 0.01)) == [102, 1, 0]


def test_allocate_with_a_baseline_reports_pace_columns() -> None:
    data = random_data(5)
    first = allocate(formula(), data, total=10**9, year="2026-27").places
    baseline = {p: int(a) * 95 for p, a in zip(first["place"], first["allocation"], strict=True)}
    baseline[first["place"].iloc[0]] = int(first["allocation"].iloc[0]) * 80  # well under target
    result = allocate(formula(), data, total=10**9, year="2026-27", baseline=baseline)
    places = result.places
    assert int(places["allocation"].sum()) == 10**9
    assert places["baseline"].iloc[1] == pytest.approx(first["allocation"].iloc[1] * 0.95)
    assert places["growth"].notna().all()
    assert result.steps["step"].iloc[-1] == "pace_of_change"
    assert result.metadata["pace_of_change"]["convergence"] == 0.25


def test_a_baseline_must_name_every_place_and_no_other() -> None:
    data = random_data(5)
    places = allocate(formula(), data, total=10**6, year="2026-27").places["place"]
    partial = dict.fromkeys(places[1:], 100)
    with pytest.raises(AllocationError, match=r"missing 1 place\(s\): E08000000"):
        allocate(formula(), data, total=10**6, year="2026-27", baseline=partial)
    extra = {**dict.fromkeys(places, 100), "E08999999": 5}
    with pytest.raises(AllocationError, match=r"names 1 place\(s\) not at this level: E08999999"):
        allocate(formula(), data, total=10**6, year="2026-27", baseline=extra)
