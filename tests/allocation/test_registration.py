"""Allocating on GP registered lists as well as on residents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from carepool.allocation import (
    AllocationRequest,
    counted_as,
    from_warehouse,
    load_formula,
    registered_lists,
    resolve,
    run_allocation,
)
from carepool.allocation.registration import registration_factors
from carepool.cli import app
from carepool.config import Settings
from carepool.errors import AllocationError
from carepool.warehouse.connection import connect

MANCHESTER, TRAFFORD = "E08000003", "E08000009"


@pytest.fixture(scope="module")
def settings(small_warehouse: Path) -> Settings:
    return Settings(data_dir=small_warehouse.parent, engine="duckdb")


def test_the_lists_are_nhs_englands_and_the_residents_the_census() -> None:
    lists = registered_lists()
    assert lists.year == "2025/26"
    assert len(lists.registered) == 10
    assert lists.registered[MANCHESTER] == 744_987  # the vendored allocation tool's list
    census = pd.read_csv(
        Path(__file__).parents[2] / "src/carepool/reference/data/population/"
        "census2021_population_sex_single_year_age_england_lad21.csv"
    )
    manchester = census[
        (census["lad21_code"] == MANCHESTER) & census["sex"].isin(["female", "male"])
    ]
    assert lists.residents[MANCHESTER] == manchester["population"].sum()
    # Manchester's list is far larger than its residents; Wigan's close to them
    assert lists.factor(MANCHESTER) > 1.3
    assert 0.95 < lists.factor("E08000010") < 1.1


def test_registered_patients_scale_each_boroughs_people_and_activity(settings: Settings) -> None:
    formula = load_formula()
    with connect(settings) as wh:
        residents = from_warehouse(wh, "2026-27", formula.variables(), ["lad"])
    patients = counted_as(residents, "registered")
    assert counted_as(residents, "resident") is residents
    factors = registration_factors(residents.lad_codes)
    lists = registered_lists()
    manchester = residents.lad_codes == MANCHESTER
    np.testing.assert_allclose(factors[manchester], lists.factor(MANCHESTER))
    np.testing.assert_allclose(patients.people(), residents.people() * factors, rtol=1e-12)
    for service, counts in residents.activity.items():
        np.testing.assert_allclose(
            patients.activity[service], counts * factors[:, None, None], err_msg=service
        )
    assert "registered" in patients.description
    assert (residents.population_basis, patients.population_basis) == ("resident", "registered")


def test_counting_patients_moves_share_to_the_borough_with_the_larger_list(
    settings: Settings,
) -> None:
    with connect(settings) as wh:
        targets: dict[str, dict[str, float]] = {}
        people: dict[str, dict[str, float]] = {}
        for population in ("resident", "registered"):
            run = resolve(wh, AllocationRequest(population=population))
            places = run_allocation(wh, run).places
            assert places["allocation"].sum() == run.total  # still exact pounds
            for table, column in ((targets, "target"), (people, "population")):
                values = places[column].astype(float)
                table[population] = dict(zip(places["place"], values, strict=True))
    lists = registered_lists()
    relative = lists.factor(MANCHESTER) / lists.factor(TRAFFORD)
    resident, registered = targets["resident"], targets["registered"]
    odds = (registered[MANCHESTER] / registered[TRAFFORD]) / (
        resident[MANCHESTER] / resident[TRAFFORD]
    )
    # need per head barely moves (the need model is refitted on the reweighted people), so
    # the targets' ratio moves by the ratio of the lists' uplifts
    assert odds == pytest.approx(relative, rel=0.02)
    assert people["registered"][MANCHESTER] > people["resident"][MANCHESTER]


def test_a_borough_without_vendored_lists_and_an_unknown_population_are_clear_errors(
    settings: Settings,
) -> None:
    with pytest.raises(AllocationError, match="no GP registered lists are vendored for E06000001"):
        registration_factors(np.array(["E08000003", "E06000001"]))
    with connect(settings) as wh, pytest.raises(AllocationError, match="resident, registered"):
        resolve(wh, AllocationRequest(population="patients"))


def test_the_population_option_on_allocate_explain_and_sensitivity(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    resident = runner.invoke(app, ["allocate", "--json"])
    registered = runner.invoke(app, ["allocate", "--population", "registered", "--json"])
    assert resident.exit_code == registered.exit_code == 0, registered.output
    mine = {r["place"]: r["population"] for r in json.loads(registered.stdout)}
    theirs = {r["place"]: r["population"] for r in json.loads(resident.stdout)}
    assert mine[MANCHESTER] > theirs[MANCHESTER]
    explained = runner.invoke(
        app, ["allocate", "explain", MANCHESTER, "--population", "registered"]
    )
    assert explained.exit_code == 0, explained.output
    assert "registered patients" in " ".join(explained.stdout.split())
    sensitivity = runner.invoke(
        app, ["allocate", "sensitivity", MANCHESTER, "--population", "registered", "--json"]
    )
    assert sensitivity.exit_code == 0, sensitivity.output
    wrong = runner.invoke(app, ["allocate", "--population", "patients"])
    assert wrong.exit_code == 2
    assert "expected one of resident, registered" in wrong.output
