"""The bridge from the model's all-cause premature mortality to the published preventable
series, learned on the English authorities outside the region."""

from __future__ import annotations

import numpy as np
import pytest

from carepool.model.premature_mortality import (
    MIN_AUTHORITIES,
    _all_cause_ratios,
    preventable_elasticity,
)

GM = frozenset(f"E080000{i:02d}" for i in range(1, 11))


def test_preventable_causes_are_more_unequal_than_all_causes() -> None:
    bridge = preventable_elasticity(GM)
    assert bridge is not None
    # every English district and unitary authority outside the region with both figures
    assert bridge.authorities >= 280
    assert 1.2 < bridge.beta < 1.6
    # the life-expectancy route predicts an authority's preventable rate to within ~8%
    assert bridge.residual_sd < 0.1
    assert bridge.preventable(1.0) == pytest.approx(1.0)  # England maps to England
    assert bridge.preventable(1.3) > 1.3
    assert bridge.preventable(0.9) < 0.9


def test_the_regions_own_published_figures_do_not_enter_the_fit() -> None:
    table = _all_cause_ratios()
    assert set(table["area_code"]) >= GM
    outside = table[~table["area_code"].isin(GM)]
    x = np.log(outside["model_all_causes"].to_numpy())
    y = np.log(outside["published_preventable"].to_numpy())
    bridge, everyone = preventable_elasticity(GM), preventable_elasticity(frozenset())
    assert bridge is not None
    assert everyone is not None
    assert bridge.beta == pytest.approx((x * y).sum() / (x * x).sum())
    # fitting with the region in gives another β: the exclusion is real
    assert everyone.beta != bridge.beta


def test_the_bridge_carries_manchester_to_its_published_level_and_the_order_holds() -> None:
    table = _all_cause_ratios().set_index("area_code").loc[sorted(GM)]
    bridge = preventable_elasticity(GM)
    assert bridge is not None
    model = table["model_all_causes"].to_dict()
    published = table["published_preventable"].to_dict()
    bridged = table["model_all_causes"] ** bridge.beta
    gap_before = abs(model["E08000003"] - published["E08000003"])
    gap_after = abs(bridge.preventable(model["E08000003"]) - published["E08000003"])
    assert gap_before > 0.25  # all causes over all causes understates Manchester
    assert gap_after < 0.15
    rho = np.corrcoef(bridged.rank(), table["published_preventable"].rank())[0, 1]
    assert rho > 0.85


def test_with_too_few_authorities_outside_the_region_there_is_no_bridge() -> None:
    everyone = frozenset(_all_cause_ratios()["area_code"])
    keep = sorted(everyone)[: MIN_AUTHORITIES - 1]
    assert preventable_elasticity(everyone - frozenset(keep)) is None
    assert preventable_elasticity(everyone - frozenset(sorted(everyone)[:MIN_AUTHORITIES]))
