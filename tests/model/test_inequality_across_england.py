"""The model's method orders England's authorities by their inequality in life expectancy."""

from __future__ import annotations

import numpy as np

from carepool.model.england import authorities
from carepool.model.inequality_across_england import expected_slope, slope_order

GM = frozenset(f"E080000{i:02d}" for i in range(1, 11))


def test_local_deciles_cut_the_authority_at_tenths_of_its_residents() -> None:
    trafford = next(a for a in authorities() if a.code == "E08000009")
    deciles = trafford.local_decile
    residents = trafford.people.sum(axis=1)
    shares = np.bincount(deciles - 1, weights=residents, minlength=10) / residents.sum()
    assert np.allclose(shares, 0.1, atol=0.02)
    # the most deprived decile holds the highest IMD scores
    assert trafford.imd_score[deciles == 1].min() > trafford.imd_score[deciles == 10].max()


def test_a_more_deprived_decile_lives_shorter_so_the_slope_is_positive() -> None:
    for authority in authorities()[:20]:
        assert expected_slope(authority, 1) > 0


def test_the_method_orders_englands_authorities_as_published() -> None:
    order = slope_order(GM)
    for sex in ("male", "female"):
        rho, n = order[sex]
        assert n >= 280  # every authority outside the region with a published slope
        assert rho >= 0.7
    # the region's own boroughs are left out
    assert slope_order(frozenset())["male"][1] == order["male"][1] + len(GM)
