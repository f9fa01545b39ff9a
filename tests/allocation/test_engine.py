"""The allocation engine's invariants, as properties over random inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepool.allocation import allocate
from carepool.allocation.inputs import N_BANDS
from carepool.allocation.service import MAX_TOTAL
from carepool.allocation.shares import STEPS
from carepool.errors import AllocationError

from .synthetic import formula, need_data, random_data

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
#: Up to the largest total the command line accepts: exact at every one of them.
TOTALS = st.one_of(st.integers(min_value=1, max_value=10**10), st.integers(1, MAX_TOTAL))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(seed=SEEDS, total=TOTALS)
def test_allocations_are_whole_pounds_that_sum_exactly_to_the_total(seed: int, total: int) -> None:
    result = allocate(formula(), random_data(seed), total=total, year="2026-27")
    places = result.places
    assert places["allocation"].dtype == np.int64
    assert int(places["allocation"].sum()) == total
    assert int(places["target"].sum()) == total
    assert places["target_share"].sum() == pytest.approx(1.0)
    for _, steps in result.steps.groupby("step"):
        assert int(steps["amount"].sum()) == total
    components = result.components.groupby("component")["target"].sum()
    assert int(components.sum()) == total


@FAST
@given(seed=SEEDS)
def test_each_places_steps_add_up_to_its_allocation(seed: int) -> None:
    result = allocate(formula(), random_data(seed), total=10**9, year="2026-27")
    for place, steps in result.steps.groupby("place"):
        allocation = result.places.set_index("place").at[place, "allocation"]
        assert int(steps["change"].sum()) == allocation
        assert list(steps["step"]) == [s for s, _, stage in STEPS if stage is not None]


@FAST
@given(seed=SEEDS, lsoa=st.integers(0, 11), factor=st.floats(1.01, 3.0))
def test_more_weighted_need_never_gets_a_smaller_target_share(
    seed: int, lsoa: int, factor: float
) -> None:
    data = random_data(seed)
    before = allocate(formula(), data, total=10**9, year="2026-27").places
    data.variables["health_score"][lsoa] += factor  # more health deprivation, all else equal
    data.variables["income_score"][lsoa] *= factor
    after = allocate(formula(), data, total=10**9, year="2026-27").places
    place = str(data.lad_codes[lsoa])
    share = dict(zip(after["place"], after["target_share"], strict=True))
    old = dict(zip(before["place"], before["target_share"], strict=True))
    assert share[place] >= old[place] - 1e-12
    # and across places: the share follows weighted need
    order = np.argsort(after["weighted_population"].to_numpy())
    assert np.all(np.diff(after["target_share"].to_numpy()[order]) >= -1e-12)


@FAST
@given(seed=SEEDS, sizes=st.lists(st.floats(0.5, 4.0), min_size=2, max_size=5))
def test_equal_need_gets_equal_allocation_per_head(seed: int, sizes: list[float]) -> None:
    rng = np.random.default_rng(seed)
    profile = rng.gamma(2.0, 20.0, size=(N_BANDS, 2))
    population = np.stack([profile * s for s in sizes])  # same age-sex mix, different sizes
    n = len(sizes)
    same = {
        "health_score": np.full(n, 0.3),
        "income_score": np.full(n, 0.1),
        "imd_score": np.full(n, 20.0),
    }
    # a varied neighbour keeps every variable's spread non-zero
    population = np.concatenate([population, profile[None] * 2])
    variables = {k: np.append(v, v[0] * 2 + 1) for k, v in same.items()}
    data = need_data(population, variables, [f"E08{i:06d}" for i in range(n + 1)])
    total = 10**9
    places = allocate(formula(), data, total=total, year="2026-27").places.iloc[:n]
    per_head = places["allocation"] / (places["population"].astype(float))
    exact = places["target_share"] * total / np.array([profile.sum() * s for s in sizes])
    assert np.allclose(exact, exact.iloc[0], rtol=1e-12)
    assert np.allclose(per_head, per_head.iloc[0], rtol=1e-3)


@FAST
@given(seed=SEEDS, shuffle=st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_input_rows(seed: int, shuffle: object) -> None:
    data = random_data(seed)
    n = data.lsoa_codes.size
    order = list(range(n))
    shuffle.shuffle(order)  # type: ignore[attr-defined]
    shuffled = need_data(
        data.population[order],
        {k: v[order] for k, v in data.variables.items()},
        list(data.lad_codes[order]),
        list(data.lsoa_codes[order]),
    )
    shuffled = type(shuffled)(
        **{
            **vars(shuffled),
            "memberships": shuffled.memberships.sample(frac=1, random_state=seed % 1000),
        }
    )
    a = allocate(formula(), data, total=10**9, year="2026-27")
    b = allocate(formula(), shuffled, total=10**9, year="2026-27")
    pd.testing.assert_frame_equal(a.places, b.places)
    pd.testing.assert_frame_equal(a.steps, b.steps)


def test_the_same_inputs_give_the_same_bytes() -> None:
    runs = [allocate(formula(), random_data(3), total=6 * 10**9, year="2026-27") for _ in range(2)]
    as_bytes = [
        (r.places.to_csv(index=False) + json.dumps(r.explain("E08000001"))).encode() for r in runs
    ]
    assert as_bytes[0] == as_bytes[1]


@pytest.mark.parametrize("total", [0, -5, 2.5, True])
def test_a_total_that_is_not_a_positive_whole_number_is_refused(total: object) -> None:
    with pytest.raises(AllocationError, match="positive whole number of pounds"):
        allocate(formula(), random_data(1), total=total, year="2026-27")  # type: ignore[arg-type]


def test_explaining_an_unknown_place_names_it() -> None:
    result = allocate(formula(), random_data(1), total=10**6, year="2026-27")
    with pytest.raises(AllocationError, match="no place 'E08999999' at level 'lad'"):
        result.explain("E08999999")


def test_a_level_that_counts_a_neighbourhood_twice_is_refused() -> None:
    data = random_data(2)
    doubled = pd.concat([data.memberships, data.memberships.iloc[:1]])
    data = type(data)(**{**vars(data), "memberships": doubled})
    with pytest.raises(
        AllocationError, match="does not share out every neighbourhood exactly once"
    ):
        allocate(formula(), data, total=10**6, year="2026-27")


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(AllocationError, match="unknown level 'county'"):
        allocate(formula(), random_data(2), total=10**6, year="2026-27", level="county")
