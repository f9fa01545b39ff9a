from __future__ import annotations

import numpy as np
import pytest

from carepool.stats.life_table import BAND_STARTS, band_index, life_expectancy


def test_band_index_maps_ages_to_the_standard_bands() -> None:
    assert band_index([0, 1, 4, 5, 9, 89, 90, 104]).tolist() == [0, 1, 1, 2, 2, 18, 19, 19]


def test_constant_hazard_gives_the_exponential_life_expectancy() -> None:
    # With the same rate m in every band, life expectancy is close to 1/m.
    m = 0.02
    population = np.full(len(BAND_STARTS), 100_000.0)
    result = life_expectancy(population * m, population)
    assert result.at_birth == pytest.approx(1 / m, rel=0.02)
    lower, upper = result.limits[0.95]
    assert lower[0] < result.at_birth < upper[0]


def test_higher_mortality_means_lower_life_expectancy() -> None:
    population = np.full(len(BAND_STARTS), 50_000.0)
    rates = np.linspace(0.001, 0.2, len(BAND_STARTS))
    low = life_expectancy(population * rates, population).at_birth
    high = life_expectancy(population * rates * 1.5, population).at_birth
    assert high < low


def test_small_areas_get_no_figures() -> None:
    population = np.full(len(BAND_STARTS), 200.0)  # 4,000 people: at most 5,000 is too few
    assert np.isnan(life_expectancy(population * 0.01, population).value).all()
