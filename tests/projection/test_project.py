"""The projection ahead on a small model: places add up, draws are reproducible and never
negative, money is cost less income, and each scenario moves what it says it moves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from carepool.errors import ProjectionError
from carepool.projection import ProjectionRequest, project, projection_rows
from carepool.projection.engine import COLUMNS
from carepool.projection.service import ProjectionResult
from carepool.warehouse import connect

YEARS = 6


@pytest.fixture(scope="module")
def projected(small_warehouse: Path) -> ProjectionResult:
    request = ProjectionRequest(
        scenarios=(
            "baseline",
            "austerity",
            "care-closer-to-home",
            "raised-capital-limits",
            "cap-on-care-costs",
            "free-personal-care",
        ),
        years=YEARS,
        level="msoa",
        draws=40,
        seed=5,
    )
    with connect(warehouse_dir=small_warehouse) as warehouse:
        return project(warehouse, request)


def _lad(result: ProjectionResult, scenario: str, column: str) -> np.ndarray:
    """The central case, ``(year, lad)``."""
    return result.scenario(scenario).projected.lad[:, :, 0, COLUMNS.index(column)]


def test_neighbourhoods_add_up_to_boroughs_and_boroughs_to_the_region(
    projected: ProjectionResult,
) -> None:
    item = projected.scenario("baseline").projected
    lad_of = projected.base.lad_of_msoa
    for lad in range(len(projected.base.lad_codes)):
        summed = item.msoa[:, lad_of == lad][..., 0].sum(axis=1)
        np.testing.assert_allclose(summed, item.lad[:, lad, 0, :], rtol=1e-4)
    rows = projection_rows(projected)
    region = rows[(rows["scenario"] == "baseline") & (rows["measure"] == "population")]
    by_year = region.groupby("year")["value"].sum()
    np.testing.assert_allclose(by_year.to_numpy(), item.lad[:, :, 0, 0].sum(axis=1), rtol=1e-4)


def test_the_census_is_brought_forward_to_the_models_last_year(
    projected: ProjectionResult,
) -> None:
    """The model's residents are Census 2021's: by the model's last year (2025-26, four
    years on) their number has moved by a few per cent, not stayed put."""
    base = projected.base
    assert projected.years[0] == base.year
    assert len(projected.years) == YEARS + 1
    census = base.by_lad().sum(axis=(1, 2))
    population = _lad(projected, "baseline", "population")[0]
    assert (np.abs(population / census - 1.0) < 0.08).all()
    assert not np.allclose(population, census)


def test_no_draw_of_any_measure_is_negative(projected: ProjectionResult) -> None:
    for item in projected.scenarios:
        assert (item.projected.lad >= -1e-6).all(), item.scenario.name
        assert (item.projected.msoa >= -1e-6).all(), item.scenario.name


def test_the_same_seed_gives_the_same_projection(small_warehouse: Path) -> None:
    request = ProjectionRequest(years=3, draws=20, seed=11, level="lad")
    with connect(warehouse_dir=small_warehouse) as warehouse:
        first = project(warehouse, request)
        again = project(warehouse, request)
        other = project(warehouse, ProjectionRequest(years=3, draws=20, seed=12, level="lad"))
    np.testing.assert_array_equal(
        first.scenarios[0].projected.lad, again.scenarios[0].projected.lad
    )
    assert not np.array_equal(first.scenarios[0].projected.lad, other.scenarios[0].projected.lad)
    # the central case does not depend on the seed
    np.testing.assert_allclose(
        first.scenarios[0].projected.lad[:, :, 0], other.scenarios[0].projected.lad[:, :, 0]
    )


def test_without_draws_the_band_is_the_central_case(small_warehouse: Path) -> None:
    with connect(warehouse_dir=small_warehouse) as warehouse:
        result = project(warehouse, ProjectionRequest(years=2, draws=0, level="lad"))
    rows = projection_rows(result)
    assert (rows["lower"] == rows["value"]).all()
    assert (rows["upper"] == rows["value"]).all()


def test_the_gap_is_cost_less_income_from_a_balanced_base(projected: ProjectionResult) -> None:
    money = projected.scenario("baseline").money
    np.testing.assert_allclose(money.gap, money.cost - money.income)
    np.testing.assert_allclose(money.income[0], money.cost[0])  # headroom 0
    assert money.partners[0].kind == "nhs"
    assert [p.code for p in money.partners[1:]] == list(projected.base.lad_codes)


def test_austerity_leaves_every_partner_further_short(projected: ProjectionResult) -> None:
    base = projected.scenario("baseline").money
    flat = projected.scenario("austerity").money
    np.testing.assert_allclose(flat.income[:, :, 0], np.repeat(flat.income[:1, :, 0], YEARS + 1, 0))
    assert (flat.gap[1:, :, 0] > base.gap[1:, :, 0]).all()
    # the same draws: the costs are the same, only the income differs
    np.testing.assert_allclose(flat.cost, base.cost)


def test_care_closer_to_home_moves_admissions_into_the_community(
    projected: ProjectionResult,
) -> None:
    """By the last year a tenth of emergency admissions are replaced, each by 10 community
    contacts and 28 hours of home care (the shipped scenario)."""
    base = _lad(projected, "baseline", "emergency_admissions")[-1]
    closer = _lad(projected, "care-closer-to-home", "emergency_admissions")[-1]
    np.testing.assert_allclose(closer, base * 0.9, rtol=1e-4)
    avoided = base * 0.1
    hours = _lad(projected, "care-closer-to-home", "asc_home_care_hours")[-1]
    np.testing.assert_allclose(
        hours - _lad(projected, "baseline", "asc_home_care_hours")[-1], avoided * 28, rtol=1e-3
    )
    halfway = YEARS // 2
    np.testing.assert_allclose(
        _lad(projected, "care-closer-to-home", "emergency_admissions")[halfway],
        _lad(projected, "baseline", "emergency_admissions")[halfway] * (1 - 0.1 * halfway / YEARS),
        rtol=1e-4,
    )


def test_reforms_move_social_care_from_people_to_councils(projected: ProjectionResult) -> None:
    """From 2027-28 each reform costs the councils more and people less; free personal care
    most, then the cap, then raised limits alone; before it, nothing changes."""

    def council(name: str) -> np.ndarray:
        return np.asarray(_lad(projected, name, "council_cost_pence").sum(axis=1))

    def people(name: str) -> np.ndarray:
        return np.asarray(_lad(projected, name, "people_pay_pence").sum(axis=1))

    reform_starts = projected.years.index("2027-28")
    np.testing.assert_allclose(
        council("free-personal-care")[:reform_starts], council("baseline")[:reform_starts]
    )
    last = -1
    assert council("raised-capital-limits")[last] > council("baseline")[last]
    assert council("cap-on-care-costs")[last] >= council("raised-capital-limits")[last]
    assert council("free-personal-care")[last] > council("cap-on-care-costs")[last]
    assert people("free-personal-care")[last] < people("baseline")[last]
    total = council("baseline") + people("baseline")
    np.testing.assert_allclose(council("free-personal-care") + people("free-personal-care"), total)
    newly = projected.scenario("free-personal-care").newly_supported
    assert newly[-1].sum() > 0
    assert projected.scenario("baseline").newly_supported.sum() == 0


def test_the_rows_carry_the_contract(projected: ProjectionResult) -> None:
    rows = projection_rows(projected)
    assert list(rows.columns)[:3] == ["scenario", "year", "place"]
    for field in ("level", "measure", "partner", "value", "lower", "upper", "unit"):
        assert field in rows.columns
    gaps = rows[rows["measure"] == "gap"]
    assert set(gaps["partner"]) == {p.code for p in projected.partners}
    assert set(gaps["level"]) == {"region", "lad"}
    assert (rows["lower"] <= rows["value"] + 1e-6).mean() > 0.9
    assert (rows["lower"] <= rows["upper"]).all()
    assert {"quintile"} <= set(rows["level"])
    msoa = rows[(rows["level"] == "msoa") & (rows["scenario"] == "baseline")]
    assert msoa["place"].nunique() == len(projected.base.msoa_codes)


def test_prevention_effects_carry_into_demand(small_warehouse: Path, tmp_path: Path) -> None:
    """A scenario's own effects reach their full size in the last year; the shipped
    prevention scenario's come from the portfolio carepool chooses, and only lower demand."""
    mine = tmp_path / "fewer.toml"
    mine.write_text(
        'extends = "baseline"\nname = "fewer"\ntitle = "Fewer admissions"\n'
        "[prevention]\neffects = { emergency_admissions = -0.05, care_home_places = -0.02 }\n"
    )
    request = ProjectionRequest(
        scenarios=("baseline", str(mine), "prevention"), years=3, draws=5, level="lad"
    )
    with connect(warehouse_dir=small_warehouse) as warehouse:
        result = project(warehouse, request)
    for column, effect in (("emergency_admissions", -0.05), ("care_home_places", -0.02)):
        np.testing.assert_allclose(
            _lad(result, "fewer", column)[-1], _lad(result, "baseline", column)[-1] * (1 + effect)
        )
    hook = result.scenario("prevention").prevention
    assert hook is not None
    assert hook.budget_pounds == 10_000_000
    assert all(value <= 0 for value in hook.effects.values())
    # what the portfolio costs is on its payers' books in every projected year
    codes = {p.code for p in result.partners}
    assert set(hook.cost_by_partner) <= codes
    assert sum(hook.cost_by_partner.values()) == pytest.approx(hook.cost_pounds_a_year, rel=0.05)
    for column in hook.effects:
        assert (
            _lad(result, "prevention", column)[-1] <= _lad(result, "baseline", column)[-1] + 1e-6
        ).all()


def test_demand_by_sex_and_age_band_adds_up_to_the_borough(small_warehouse: Path) -> None:
    with connect(warehouse_dir=small_warehouse) as warehouse:
        result = project(
            warehouse, ProjectionRequest(years=3, draws=10, level="lad", by_age_sex=True)
        )
    rows = projection_rows(result)
    banded = rows[(rows["age_group"] != "all") & (rows["measure"] == "emergency_admissions")]
    assert set(banded["age_group"]) == {"0-14", "15-64", "65-84", "85+"}
    assert set(banded["sex"]) == {"female", "male"}
    whole = rows[(rows["age_group"] == "all") & (rows["measure"] == "emergency_admissions")]
    summed = banded.groupby(["year", "place"])["value"].sum()
    totals = whole.set_index(["year", "place"])["value"]
    np.testing.assert_allclose(summed.sort_index(), totals.sort_index(), atol=1.0)
    with pytest.raises(ProjectionError, match="by age and sex"):
        ProjectionRequest(level="msoa", by_age_sex=True)
