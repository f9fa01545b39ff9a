"""Invariants of the synthetic population (property tests over seeds and scales)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepool.population import BuildRequest, build
from carepool.population.census import census_by_lad
from carepool.population.generator import nhs_numbers
from carepool.population.parameters import load_parameters
from carepool.population.social_care_rates import (
    MEAN_CARE_HOME_STAY_YEARS,
    self_funder_share_by_quintile,
)
from carepool.warehouse import TABLES, Kind, read_warehouse_table

TRAFFORD = "E08000009"


def _read(path: Path, table: str) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in read_warehouse_table(path, table).to_pydict().items()}


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**31), scale=st.sampled_from([0.01, 0.03]))
def test_generator_invariants(
    tmp_path_factory: pytest.TempPathFactory, seed: int, scale: float
) -> None:
    path = tmp_path_factory.mktemp("gen")
    manifest = build(BuildRequest(region=TRAFFORD, scale=scale, seed=seed), path)
    residents = read_warehouse_table(path, "residents")
    person_year = read_warehouse_table(path, "person_year").to_pandas()
    lsoa = pq.read_table(path / "lsoa.parquet").to_pandas()
    first, second = manifest["years"]

    # counts match the fitted population: Trafford's Census 2021 total, scaled and rounded
    year1 = person_year[person_year["year"] == first]
    census_total = int(census_by_lad([TRAFFORD])[TRAFFORD].sum())
    assert len(year1) == round(scale * census_total)
    assert int(lsoa["residents"].sum()) == len(year1)

    # every resident is placed in a real LSOA of the model
    assert set(residents.column("lsoa21_code").to_pylist()) <= set(lsoa["lsoa21_code"])
    assert residents.column("lsoa21_code").null_count == 0

    # money is never negative
    for column in TABLES["person_year"].columns:
        if column.kind == Kind.MONEY:
            assert (person_year[column.name] >= 0).all(), column.name

    # the dead do not return, and the living age by one year
    dead = set(year1.loc[year1["died"], "person_id"])
    year2 = person_year[person_year["year"] == second]
    assert dead.isdisjoint(set(year2["person_id"]))
    both = year1.merge(year2, on="person_id", suffixes=("_1", "_2"))
    assert (both["age_2"] == both["age_1"] + 1).all()
    assert len(both) == len(year1) - len(dead)
    assert (both["lsoa21_code_1"] == both["lsoa21_code_2"]).all()
    # chronic registers persist
    for condition in ("diabetes", "copd", "chd", "dementia", "learning_disability"):
        had = both[f"has_{condition}_1"]
        assert both.loc[had, f"has_{condition}_2"].all(), condition
    # newborns join in the second year and nobody else appears from nowhere
    newcomers = year2[~year2["person_id"].isin(year1["person_id"])]
    assert (newcomers["age"] == 0).all()


def test_same_seed_gives_identical_tables(tmp_path: Path) -> None:
    request = BuildRequest(region=TRAFFORD, scale=0.01, seed=11)
    build(request, tmp_path / "a")
    build(request, tmp_path / "b")
    for table in ("residents", "person_year", "activity_cost"):
        a = read_warehouse_table(tmp_path / "a", table)
        b = read_warehouse_table(tmp_path / "b", table)
        assert a.equals(b), table
    other = BuildRequest(region=TRAFFORD, scale=0.01, seed=12)
    build(other, tmp_path / "c")
    c = read_warehouse_table(tmp_path / "c", "person_year")
    assert not c.equals(read_warehouse_table(tmp_path / "a", "person_year"))


def test_costs_add_up_to_the_penny(small_warehouse: Path) -> None:
    py = read_warehouse_table(small_warehouse, "person_year")
    ac = read_warehouse_table(small_warehouse, "activity_cost")
    person_total = sum(
        pc.sum(py.column(c)).as_py()
        for c in (
            "nhs_cost_pence",
            "council_cost_pence",
            "asc_client_contribution_pence",
            "self_funded_pence",
        )
    )
    assert pc.sum(ac.column("cost_pence")).as_py() == person_total
    nhs = pc.sum(pc.filter(ac.column("cost_pence"), pc.equal(ac.column("payer_kind"), "nhs")))
    assert nhs.as_py() == pc.sum(py.column("nhs_cost_pence")).as_py()


def test_activity_is_tagged_with_the_partner_that_pays(small_warehouse: Path) -> None:
    ac = read_warehouse_table(small_warehouse, "activity_cost").to_pandas()
    nhs = ac[ac["payer_kind"] == "nhs"]
    council = ac[ac["payer_kind"] == "council"]
    assert set(nhs["payer_code"]) == {"E54000057"}
    assert (council["payer_code"] == council["lad_code"]).all()
    assert set(ac[ac["payer_kind"] == "self"]["payer_code"]) == {"SELF"}
    assert set(council["service"]) <= {
        "asc_home_care_hours",
        "asc_residential_weeks",
        "asc_nursing_weeks",
        "asc_reablement_episodes",
    }


def test_more_deprived_neighbourhoods_need_more_care(small_warehouse: Path) -> None:
    py = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    rate = py.groupby("imd_quintile").apply(
        lambda g: g["emergency_admissions"].sum() / (g["days_alive"].sum() / 365.25),
        include_groups=False,
    )
    assert rate.loc[1] > rate.loc[5]
    died = py.groupby("imd_quintile")["died"].mean()
    assert died.loc[1] > died.loc[5]


def test_nhs_numbers_are_distinct_and_pass_the_modulus_11_check() -> None:
    numbers = nhs_numbers(5000)
    assert len(set(numbers)) == 5000
    for number in numbers[:500]:
        digits = [int(d) for d in number]
        total = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
        check = 11 - total % 11
        assert (0 if check == 11 else check) == digits[9]


def test_care_is_means_tested(small_warehouse: Path) -> None:
    py = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    clients = py[py["asc_setting"].notna()]
    assert set(clients["asc_funding"]) == {"council_funded", "self_funder"}
    self_funders = clients[clients["asc_funding"] == "self_funder"]
    services = pq.read_table(small_warehouse / "services.parquet").to_pandas()
    reablement = int(
        services.loc[services["service"] == "asc_reablement_episodes", "unit_cost_pence"].iloc[0]
    )
    # a self-funder's council cost is only reablement, which is free to everyone
    assert (
        self_funders["council_cost_pence"] == self_funders["asc_reablement_episodes"] * reablement
    ).all()
    assert (self_funders["self_funded_pence"] > 0).any()
    council = clients[clients["asc_funding"] == "council_funded"]
    assert (council["asc_client_contribution_pence"] > 0).any()
    assert py.loc[py["asc_setting"].isna(), "asc_client_contribution_pence"].eq(0).all()


def test_a_self_funder_in_a_care_home_runs_down_their_capital(small_warehouse: Path) -> None:
    py = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    homes = py[py["asc_setting"].isin(["residential", "nursing"])]
    first, second = sorted(py["year"].unique())[:2]
    funding = homes.pivot_table(
        index="person_id", columns="year", values="asc_funding", aggfunc="first"
    ).dropna()
    moved = funding[(funding[first] == "self_funder") & (funding[second] == "council_funded")]
    assert len(moved) > 0  # capital ran down: the council pays from now on
    # nobody's capital comes back
    assert not ((funding[first] == "council_funded") & (funding[second] == "self_funder")).any()
    # a former self-funder is charged with capital at the upper limit: the full tariff
    charged = homes[(homes["year"] == second) & homes["person_id"].isin(moved.index)]
    assert (charged["asc_client_contribution_pence"] > 0).all()


def test_care_homes_turn_over_deaths_free_places_that_admissions_fill(
    three_year_warehouse: Path,
) -> None:
    # half of Trafford over three years: about 1,000 care home residents aged 85 and over,
    # enough to tell the two death rates apart (the small model has a few dozen)
    py = read_warehouse_table(three_year_warehouse, "person_year").to_pandas()
    first, second = sorted(py["year"].unique())[:2]
    old = py[py["age"] >= 85]
    in_home = old["asc_setting"].isin(["residential", "nursing"])
    # residents die more often than people of their age living at home: about a quarter a
    # year (16% when the homes did not turn over), over twice the rate at home at 85+
    assert old.loc[in_home, "died"].mean() > 2.2 * old.loc[~in_home, "died"].mean()
    homes = py[py["asc_setting"].isin(["residential", "nursing"]) & (py["age"] >= 65)]
    before = set(homes.loc[homes["year"] == first, "person_id"])
    now = homes[homes["year"] == second]
    admitted = (~now["person_id"].isin(before)).sum()
    died = homes.loc[homes["year"] == first, "died"].sum()
    yearly = died / (homes["year"] == first).sum()
    assert yearly > 0.2
    # the stay the means test assumes is the stay the model's deaths give
    assert 1.0 / yearly == pytest.approx(MEAN_CARE_HOME_STAY_YEARS, rel=0.3)
    # admissions replace the residents who died (and the need of an older population) ...
    assert admitted >= 0.8 * died
    # ... so the number living in homes holds
    assert len(now) == pytest.approx(len(before), rel=0.1)


def test_the_council_supported_gradient_is_the_cards_whoever_is_in_care() -> None:
    params = load_parameters()
    council = 1.0 - self_funder_share_by_quintile(params.self_funder_share_q1_q5)
    supported = params.care_rr_65plus * council
    # after the means test, council-supported clients follow the card's 1.8 ...
    assert supported[0] / supported[4] == pytest.approx(params.asc_rr[0] / params.asc_rr[4])
    assert params.asc_rr[0] / params.asc_rr[4] == pytest.approx(1.8)
    # ... with the national mean of council-supported clients unchanged
    assert supported.mean() == pytest.approx(float(np.mean(params.asc_rr * council)))
    # so care itself, whoever pays, varies little with deprivation
    assert params.care_rr_65plus[0] / params.care_rr_65plus[4] < 1.1


def test_this_years_use_predicts_next_years(small_warehouse: Path) -> None:
    """Persistent individual risk: last year's heavy users are next year's heavy users."""
    py = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    first, second = sorted(py["year"].unique())
    both = py[py["year"] == first].merge(
        py[py["year"] == second], on="person_id", suffixes=("_1", "_2")
    )
    admitted = both["emergency_admissions_1"] > 0
    assert admitted.sum() > 20
    rate_after_admission = both.loc[admitted, "emergency_admissions_2"].mean()
    rate_otherwise = both.loc[~admitted, "emergency_admissions_2"].mean()
    assert rate_after_admission > 2 * rate_otherwise
    gp = both[["gp_appointments_1", "gp_appointments_2"]].corr().iloc[0, 1]
    assert gp > 0.4


def test_a_tiny_sample_builds_with_full_scale_calibration(tmp_path: Path) -> None:
    """At 0.1% many ages are empty; calibration uses the full population, so it still solves."""
    manifest = build(BuildRequest(region="gm", scale=0.001, seed=1), tmp_path)
    assert manifest["tables"]["person_year"]["rows"] > 5000


def test_a_failed_build_leaves_the_old_warehouse_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    build_module = importlib.import_module("carepool.population.build")

    warehouse = tmp_path / "warehouse"
    build(BuildRequest(region=TRAFFORD, scale=0.01, seed=1), warehouse)

    def files() -> dict[str, bytes]:
        return {str(p.relative_to(warehouse)): p.read_bytes() for p in warehouse.rglob("*.*")}

    before = files()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_module, "write_manifest", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build(BuildRequest(region=TRAFFORD, scale=0.01, seed=2), warehouse)
    assert files() == before
    # the council it finished is kept beside the warehouse, for the same build to resume
    (staging,) = tmp_path.glob(".warehouse-building-*")
    assert (staging / "_councils" / f"{TRAFFORD}.json").is_file()
    monkeypatch.undo()
    build(BuildRequest(region=TRAFFORD, scale=0.01, seed=2), warehouse)
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse"]  # committed: nothing left
