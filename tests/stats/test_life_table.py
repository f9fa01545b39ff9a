from __future__ import annotations

import numpy as np
import pytest

from carepool.stats.life_table import BAND_STARTS, abridged_life_expectancy, band_index


def test_band_index_maps_ages_to_the_standard_bands() -> None:
    assert band_index([0, 1, 4, 5, 9, 89, 90, 104]).tolist() == [0, 1, 1, 2, 2, 18, 19, 19]


def test_constant_hazard_gives_the_exponential_life_expectancy() -> None:
    # With the same rate m in every band, life expectancy is close to 1/m.
    m = 0.02
    widths = np.diff([*BAND_STARTS, 95])
    population = np.full(len(BAND_STARTS), 100_000.0)
    deaths = population * m
    e0 = abridged_life_expectancy(deaths, population).at_birth
    assert e0 == pytest.approx(1 / m, rel=0.02)
    assert widths.sum() == 95


def test_higher_mortality_means_lower_life_expectancy() -> None:
    population = np.full(len(BAND_STARTS), 50_000.0)
    rates = np.linspace(0.001, 0.2, len(BAND_STARTS))
    low = abridged_life_expectancy(population * rates, population).at_birth
    high = abridged_life_expectancy(population * rates * 1.5, population).at_birth
    assert high < low


def test_life_table_rejects_an_empty_open_band() -> None:
    population = np.full(len(BAND_STARTS), 1000.0)
    deaths = np.zeros(len(BAND_STARTS))
    with pytest.raises(ValueError, match="90\\+"):
        abridged_life_expectancy(deaths, population)
