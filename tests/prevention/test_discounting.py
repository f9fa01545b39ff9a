"""Green Book discounting against the test factors the finance reference tabulates."""

from __future__ import annotations

import pytest

from carepool.prevention import discount_factors
from carepool.prevention.discounting import rate


def test_the_standard_schedule_matches_the_green_book_test_values() -> None:
    money = discount_factors(32, "money")
    assert money[0] == 1.0
    assert money[1] == pytest.approx(1 / 1.035)
    assert money[5] == pytest.approx(0.841973, abs=1e-6)
    assert money[10] == pytest.approx(0.708919, abs=1e-6)
    assert money[30] == pytest.approx(0.356278, abs=1e-6)
    # year 31 is the first at 3.0%
    assert money[31] == pytest.approx(0.345901, abs=1e-6)
    assert rate(31) == pytest.approx(0.03)


def test_health_effects_are_discounted_at_one_and_a_half_percent() -> None:
    health = discount_factors(31, "health")
    assert health[10] == pytest.approx(0.861667, abs=1e-6)
    assert health[30] == pytest.approx(0.639762, abs=1e-6)
