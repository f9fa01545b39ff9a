"""The back-cast as a regression test: 2011 carried to 2021 with only what was known in 2011
stays within its error bounds against Census 2021, and its parts do what they say."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.geography import resolve_region
from carepool.projection import AGE_GROUP_BOUND, BOROUGH_BOUND, backcast
from carepool.projection.ages import split_groups, to_groups
from carepool.projection.backcast import _history
from carepool.projection.history import History
from carepool.projection.migration import at_level, project_decade, residual_rates

GM = resolve_region("gm").lad_codes


@pytest.fixture(scope="module")
def method() -> History:
    return _history(GM)


def test_the_backcast_keeps_its_bounds() -> None:
    result = backcast("gm")
    assert result.borough_mape <= BOROUGH_BOUND
    assert result.broad_mape <= AGE_GROUP_BOUND
    assert result.within_bounds
    # the method does better than leaving migration out, at both levels
    none = result.variants[result.variants["variant"] == "no migration"].iloc[0]
    assert result.borough_mape < float(none["borough_mape"])
    assert result.broad_mape < float(none["broad_age_mape"])
    assert len(result.table[result.table["age_group"] == "all ages"]) == 10


def test_the_residual_rates_reproduce_their_decade(method: History) -> None:
    decade = method.decade(2001)
    rates = residual_rates(decade)
    projected = to_groups(project_decade(decade, rates))
    # every group from 5-9 up (the under-fives are the fertility's)
    np.testing.assert_allclose(projected[..., 1:], decade.end_groups[..., 1:], rtol=2e-3)


def test_the_registers_level_is_met_exactly(method: History) -> None:
    base = method.single(2011)
    rates = residual_rates(method.decade(2001))
    wanted = np.linspace(-500, 2000, len(GM))
    moved = at_level(rates, base, wanted)
    np.testing.assert_allclose((moved * base).sum(axis=(1, 2)), wanted, atol=1e-6)


def test_splitting_groups_and_summing_back_gives_the_census(method: History) -> None:
    groups = method.groups(2011)
    np.testing.assert_allclose(to_groups(split_groups(groups, method.lx)), groups)


def test_fertility_read_from_the_children_is_a_plausible_level(method: History) -> None:
    """Total fertility in 2011 from each borough's own under-fives: between 1.4 and 2.4, as
    ONS's borough figures of the time are (1.69 in Manchester to 2.19 in Oldham in 2014)."""
    tfr = method.fertility(2011).sum(axis=1)
    assert ((tfr > 1.4) & (tfr < 2.4)).all()


def test_the_command_prints_the_errors_and_the_bounds() -> None:
    result = CliRunner().invoke(app, ["project", "backcast", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["within_bounds"] is True
    assert {row["age_group"] for row in answer["rows"]} >= {"all ages", "0-14", "15-64", "65+"}
    table = CliRunner().invoke(app, ["project", "backcast"])
    assert "Manchester" in table.stdout
    assert "within the bounds" in table.stdout


def test_each_borough_dies_at_its_own_rate() -> None:
    """The multipliers give each borough its published life expectancy: Manchester's hazard
    well above England's, Trafford's below (2015-17, as the back-cast reads it)."""
    from carepool.population import period_life_expectancy
    from carepool.projection.mortality import (
        hazard_multipliers,
        hazard_scaled,
        life_table_qx,
        published_life_expectancy,
    )

    base = life_table_qx("2010-2012")
    multiplier = hazard_multipliers(GM, base, "2015 - 17")
    manchester, trafford = GM.index("E08000003"), GM.index("E08000009")
    assert (multiplier[manchester] > 1.3).all()
    assert (multiplier[trafford] < 1.0).all()
    published = published_life_expectancy("2015 - 17")
    gap = published[("E08000003", 1)] - published[("E92000001", 1)]
    ours = period_life_expectancy(hazard_scaled(base[1], multiplier[manchester, 1]))
    assert ours - period_life_expectancy(base[1]) == pytest.approx(gap, abs=0.01)
