"""The cohort-component step against a case worked by hand, and what must hold for any
population: nobody is negative, areas add up, and with no deaths, births or migration a
population only grows older."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from carepool.projection.cohort import AGES, FEMALE, MALE, age_one_year, step


def _empty(areas: int = 1) -> np.ndarray:
    return np.zeros((areas, 2, AGES))


def test_one_year_worked_by_hand() -> None:
    """1,000 women aged 20, 500 aged 30 and 800 men aged 20; everyone dies with probability
    0.01; fertility 0.1 a year at ages 20, 21, 30 and 31; net migration +10% for women aged 21.

    Survivors: women 21: 990, women 31: 495, men 21: 792; deaths 10 + 5 + 8 = 23.
    Women exposed (start and end averaged): age 20: (1000 + 0) / 2 = 500, 21: (0 + 990) / 2 =
    495, 30: 250, 31: 247.5; births = 0.1 x 1,492.5 = 149.25, girls 149.25 / 2.05 = 72.8049,
    boys 76.4451; 99% survive the year (1.4925 infant deaths).
    Migration: women 21: 990 x 1.1 = 1,089.
    """
    population = _empty()
    population[0, FEMALE, 20] = 1000
    population[0, FEMALE, 30] = 500
    population[0, MALE, 20] = 800
    fertility = np.zeros((1, AGES))
    fertility[0, [20, 21, 30, 31]] = 0.1
    migration = np.zeros_like(population)
    migration[0, FEMALE, 21] = 0.1

    result = step(population, np.full_like(population, 0.01), fertility, migration)

    after = result.population[0]
    assert after[FEMALE, 21] == pytest.approx(1089.0)
    assert after[FEMALE, 31] == pytest.approx(495.0)
    assert after[MALE, 21] == pytest.approx(792.0)
    assert result.births[0] == pytest.approx(149.25)
    assert after[FEMALE, 0] == pytest.approx(149.25 / 2.05 * 0.99)
    assert after[MALE, 0] == pytest.approx((149.25 - 149.25 / 2.05) * 0.99)
    assert result.deaths[0] == pytest.approx(23 + 1.4925)
    assert after.sum() == pytest.approx(2300 - 23 + 99 + 149.25 * 0.99)


def test_the_open_age_keeps_its_survivors_and_gains_those_of_99() -> None:
    population = _empty()
    population[0, :, 99] = 10
    population[0, :, 100] = 20
    older = age_one_year(population, np.full_like(population, 0.5))
    assert older[0, 0, 100] == pytest.approx(5 + 10)
    assert older[0, 0, 99] == 0


def test_a_migration_rate_below_minus_one_is_refused() -> None:
    population = _empty()
    rate = np.zeros_like(population)
    rate[0, 0, 5] = -1.5
    with pytest.raises(ValueError, match="below -1"):
        step(population, np.zeros_like(population), np.zeros((1, AGES)), rate)


populations = hnp.arrays(np.float64, (3, 2, AGES), elements=st.floats(0, 5_000))
probabilities = hnp.arrays(np.float64, (3, 2, AGES), elements=st.floats(0, 1))
rates = hnp.arrays(np.float64, (3, 2, AGES), elements=st.floats(-1, 2))
fertilities = hnp.arrays(np.float64, (3, AGES), elements=st.floats(0, 0.4))


@settings(max_examples=60, deadline=None)
@given(population=populations, q=probabilities, fertility=fertilities, migration=rates)
def test_no_population_is_ever_negative(
    population: np.ndarray, q: np.ndarray, fertility: np.ndarray, migration: np.ndarray
) -> None:
    result = step(population, q, fertility, migration)
    assert (result.population >= 0).all()
    assert (result.births >= 0).all()
    assert (result.deaths >= 0).all()


@settings(max_examples=60, deadline=None)
@given(population=populations, q=probabilities, fertility=fertilities, migration=rates)
def test_areas_add_up_to_their_sum(
    population: np.ndarray, q: np.ndarray, fertility: np.ndarray, migration: np.ndarray
) -> None:
    """Areas with the same rates: projecting each and adding equals projecting their sum."""
    same_q = np.broadcast_to(q[:1], q.shape)
    same_f = np.broadcast_to(fertility[:1], fertility.shape)
    same_m = np.broadcast_to(migration[:1], migration.shape)
    apart = step(population, same_q, same_f, same_m)
    together = step(population.sum(axis=0, keepdims=True), q[:1], fertility[:1], migration[:1])
    np.testing.assert_allclose(apart.population.sum(axis=0), together.population[0], atol=1e-6)
    np.testing.assert_allclose(apart.births.sum(), together.births.sum(), atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(population=populations, years=st.integers(1, 12))
def test_with_no_deaths_births_or_migration_people_only_grow_older(
    population: np.ndarray, years: int
) -> None:
    none = np.zeros_like(population)
    projected = population
    for _ in range(years):
        projected = step(projected, none, np.zeros((3, AGES)), none).population
    expected = np.zeros_like(population)
    expected[..., years:-1] = population[..., : AGES - 1 - years]
    expected[..., -1] = population[..., AGES - 1 - years :].sum(axis=-1)
    np.testing.assert_allclose(projected, expected)
    np.testing.assert_allclose(projected.sum(), population.sum())
