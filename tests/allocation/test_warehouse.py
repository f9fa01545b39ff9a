"""Allocation inputs from a built model, recomputed from the Parquet files with pandas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carepool.ages import FIVE_YEAR
from carepool.allocation import allocate, fit_need_model, from_warehouse, load_formula
from carepool.allocation.inputs import population_year
from carepool.allocation.need import estimate_curve
from carepool.allocation.variables import COUNCIL_SERVICES
from carepool.config import Settings
from carepool.errors import AllocationError
from carepool.warehouse import read_warehouse_table
from carepool.warehouse.connection import connect


@pytest.fixture(scope="module")
def settings(small_warehouse: Path) -> Settings:
    return Settings(data_dir=small_warehouse.parent, engine="duckdb")


@pytest.fixture(scope="module")
def person_year(small_warehouse: Path) -> pd.DataFrame:
    frame = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    latest: pd.DataFrame = frame[frame["year"] == frame["year"].max()]
    return latest


def test_population_and_activity_match_the_person_year_table(
    settings: Settings, person_year: pd.DataFrame
) -> None:
    formula = load_formula()
    with connect(settings) as wh:
        last = sorted(
            read_warehouse_table(settings.warehouse_dir, "person_year").to_pandas()["year"].unique()
        )[-1]
        data = from_warehouse(wh, "2030-31", formula.variables(), ["lad"])
    assert data.population_year == last
    assert data.people().sum() == pytest.approx(person_year["days_alive"].sum() / 365)
    by_lsoa = person_year.groupby("lsoa21_code")["days_alive"].sum() / 365
    got = pd.Series(data.people(), index=data.lsoa_codes)
    pd.testing.assert_series_equal(got[by_lsoa.index], by_lsoa, check_names=False)
    council = person_year["asc_funding"] == "council_funded"
    for service in ("emergency_admissions", *COUNCIL_SERVICES):
        rows = person_year[council] if service in COUNCIL_SERVICES else person_year
        assert data.activity[service].sum() == rows[service].sum(), service
    old = person_year[person_year["age"] >= 85]
    assert data.population[:, -1, :].sum() == pytest.approx(old["days_alive"].sum() / 365)


def test_the_estimated_cost_curve_is_cost_per_head_by_band_and_sex(
    settings: Settings, person_year: pd.DataFrame
) -> None:
    formula = load_formula()
    acute = formula.component("acute")
    with connect(settings) as wh:
        data = from_warehouse(wh, "2030-31", formula.variables(), ["lad"])
        prices = wh.to_pandas(wh.table("services")).set_index("service")["unit_cost_pence"]
    frame = person_year.assign(
        band=np.minimum(person_year["age"] // 5, len(FIVE_YEAR.starts) - 1),
        cost=sum(person_year[s] * prices[s] / 100 for s in acute.services),
        py=person_year["days_alive"] / 365,
    )
    cells = frame.groupby(["band", "sex"])[["cost", "py"]].sum()
    per_head = (cells["cost"] / cells["py"]).unstack("sex")[["female", "male"]].to_numpy()
    expected = per_head / (cells["cost"].sum() / cells["py"].sum())
    assert np.allclose(estimate_curve(acute, data), expected, rtol=1e-9)


def test_premature_mortality_is_an_msoa_smr_under_75(
    settings: Settings, small_warehouse: Path
) -> None:
    formula = load_formula()
    with connect(settings) as wh:
        data = from_warehouse(wh, "2030-31", ["premature_mortality", "morbidity"], ["lad"])
    everyone = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    young = everyone[everyone["age"] < 75].assign(
        band=lambda f: f["age"] // 5, py=lambda f: f["days_alive"] / 365
    )
    rates = (
        young.groupby(["band", "sex"])["died"].sum() / young.groupby(["band", "sex"])["py"].sum()
    )
    cell_rate = young.merge(rates.rename("rate"), left_on=["band", "sex"], right_index=True)["rate"]
    young = young.assign(expected=young["py"] * cell_rate)
    lsoas = pd.read_parquet(small_warehouse / "lsoa.parquet").set_index("lsoa21_code")
    young["msoa"] = young["lsoa21_code"].map(lsoas["msoa21_code"])
    by_msoa = young.groupby("msoa")[["died", "expected"]].sum()
    smr = by_msoa["died"] / by_msoa["expected"]
    got = pd.Series(data.variables["premature_mortality"], index=data.lsoa_codes)
    want = lsoas["msoa21_code"].reindex(list(data.lsoa_codes)).map(smr).to_numpy()
    assert np.allclose(got.to_numpy(), want, rtol=1e-9)
    morbidity = data.variables["morbidity"]
    assert (morbidity >= 0).all()
    # indirectly standardised over the whole area: the population-weighted mean ratio is ~1
    assert np.average(morbidity, weights=data.people()) == pytest.approx(1.0, abs=0.05)
    assert formula.inequalities_variable == "premature_mortality"


@pytest.mark.parametrize("level", ["lad", "msoa", "ward", "lsoa11"])
def test_every_level_gets_exact_pounds(settings: Settings, level: str) -> None:
    formula = load_formula()
    with connect(settings) as wh:
        data = from_warehouse(wh, "2026-27", formula.variables(), [level])
    result = allocate(formula, data, total=123_456_789, year="2026-27", level=level)
    assert int(result.places["allocation"].sum()) == 123_456_789
    assert result.places["population"].sum() == pytest.approx(
        data.people().sum(), abs=len(result.places)
    )


def test_estimated_weights_are_reported(settings: Settings) -> None:
    formula = load_formula()
    with connect(settings) as wh:
        data = from_warehouse(wh, "2026-27", formula.variables(), ["lad"])
    model = fit_need_model(formula, data)
    assert set(model.estimated["acute"]) == {"health_score"}
    assert np.isfinite(model.coefficients["acute"]["health_score"])
    result = allocate(formula, data, total=10**6, year="2026-27", model=model)
    assert result.metadata["coefficients"] == model.coefficients


def test_a_year_before_the_model_is_refused(settings: Settings) -> None:
    with connect(settings) as wh, pytest.raises(AllocationError, match="the model starts in"):
        population_year(wh, "2001-02")
