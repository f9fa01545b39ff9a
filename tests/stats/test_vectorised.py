"""The vectorised DSR and life expectancy agree with the one-area functions, row by row."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from carepool.stats import life_table, standardised

K = len(standardised.ESP2013)
populations = hnp.arrays(np.float64, (4, K), elements=st.integers(1, 50_000).map(float))


@settings(max_examples=150, deadline=None)
@given(populations, st.floats(0.0, 0.05), st.integers(0, 2**31))
def test_dsr_many_matches_dsr(pops: np.ndarray, rate: float, seed: int) -> None:
    counts = np.random.default_rng(seed).poisson(pops * rate).astype(float)
    many = standardised.dsr_many(counts, pops)
    for i in range(pops.shape[0]):
        one = standardised.dsr(counts[i], pops[i])
        for key in ("value", "lower95", "upper95", "lower998", "upper998"):
            np.testing.assert_allclose(many[key][i], one[key], rtol=1e-12, equal_nan=True)


def test_dsr_many_lets_empty_bands_contribute_nothing() -> None:
    counts = np.array([[5.0, 10.0, 0.0]])
    pops = np.array([[1000.0, 2000.0, 0.0]])
    many = standardised.dsr_many(counts, pops, standard=[1.0, 1.0, 1.0])
    assert many["value"][0] == (5 / 1000 + 10 / 2000) / 3 * 100_000


bands = hnp.arrays(np.float64, (3, 20), elements=st.integers(0, 20_000).map(float))


@settings(max_examples=150, deadline=None)
@given(bands, st.floats(0.0, 0.4), st.integers(0, 2**31), st.booleans())
def test_life_expectancy_at_birth_matches_the_life_table(
    pops: np.ndarray, rate: float, seed: int, no_old_deaths: bool
) -> None:
    deaths = np.floor(pops * np.random.default_rng(seed).uniform(0, rate, pops.shape))
    if no_old_deaths:
        deaths[:, -1] = 0
    many = life_table.life_expectancy_at_birth(deaths, pops)
    for i in range(pops.shape[0]):
        one = life_table.life_expectancy(deaths[i], pops[i])
        np.testing.assert_allclose(many["value"][i], one.value[0], rtol=1e-10, equal_nan=True)
        for level, key in ((0.95, "95"), (0.998, "998")):
            lower, upper = one.limits[level]
            np.testing.assert_allclose(many[f"lower{key}"][i], lower[0], rtol=1e-10, equal_nan=True)
            np.testing.assert_allclose(many[f"upper{key}"][i], upper[0], rtol=1e-10, equal_nan=True)


def test_crude_rate_with_squares_equal_to_counts_is_the_poisson_rate() -> None:
    from carepool.stats import rates

    x = np.array([0.0, 3.0, 40.0, 500.0])
    n = np.array([1000.0, 1000.0, 1000.0, 1000.0])
    plain, same, wider = (
        {k: np.asarray(v, dtype=np.float64) for k, v in r.items() if k != "method"}
        for r in (
            rates.crude_rate(x, n),
            rates.crude_rate(x, n, squares=x),
            rates.crude_rate(x, n, squares=4 * x),
        )
    )
    for key in ("lower95", "upper95", "lower998", "upper998"):
        np.testing.assert_allclose(same[key], plain[key])
    # four times the variance: limits twice as far from the count
    np.testing.assert_allclose(
        (wider["upper95"] - plain["value"])[1:], 2 * (plain["upper95"] - plain["value"])[1:]
    )
