"""The default model (Greater Manchester, scale 1, seed 42): it passes every validation check,
and the default allocation formula's component shares are the model's own spend shares."""

from __future__ import annotations

from typing import Any

import pytest

from carepool.allocation import allocate, from_warehouse, load_formula
from carepool.allocation.need import modelled_spend
from carepool.config import Settings
from carepool.indicators import HES_RULE, INDICATORS, Method
from carepool.model import build_model
from carepool.population import BuildRequest, run_checks
from carepool.warehouse.connection import connect

#: Public health grant 2025/26 (DHSC circular) over England's mid-2020 population (ONS).
PUBLIC_HEALTH_PER_HEAD = 3_858_000_000 / 56_550_138


@pytest.fixture(scope="module")
def default_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("default")
    manifest = build_model(BuildRequest(), data_dir / "warehouse")
    return Settings(data_dir=data_dir, engine="duckdb"), manifest


def test_default_model_passes_validation(default_model: tuple[Settings, dict[str, Any]]) -> None:
    settings, manifest = default_model
    with connect(settings) as engine:
        checks = run_checks(engine, manifest["lad_codes"], manifest["years"][0])
    failures = [c for c in checks if not c.ok]
    assert {c.check for c in checks} == {
        "life_expectancy_male",
        "life_expectancy_female",
        "life_expectancy_gap_q5_q1_male",
        "life_expectancy_gap_q5_q1_female",
        "prevalence_depression_18plus",
        "social_care_clients_per_1000_65+",
        "social_care_clients_per_1000_18-64",
        "care_home_self_funder_share",
        "public_cost_per_head",
    }
    assert not failures, "\n".join(
        f"{c.check}: model {c.model:.2f} vs {c.target:.2f} ± {c.tolerance:.2f}" for c in failures
    )


def test_default_formula_shares_are_the_models_spend_shares(
    default_model: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _ = default_model
    formula = load_formula()
    with connect(settings) as engine:
        data = from_warehouse(engine, "2026-27", formula.variables(), ["lad", "msoa"])
    spend = modelled_spend(formula, data)
    spend["public_health"] = PUBLIC_HEALTH_PER_HEAD * float(data.people().sum())
    total = sum(spend.values())
    for component in formula.components:
        assert component.share == pytest.approx(spend[component.id] / total, abs=0.005), (
            component.id
        )

    for level, places in (("lad", 10), ("msoa", 353)):
        result = allocate(formula, data, total=6_000_000_000, year="2026-27", level=level)
        assert len(result.places) == places
        assert int(result.places["allocation"].sum()) == 6_000_000_000


def test_the_default_model_records_its_disclosure_audit(
    default_model: tuple[Settings, dict[str, Any]],
) -> None:
    """The full build audits every published indicator of all of Greater Manchester by linear
    programming and commits what it found (how long it took is for `make bench`)."""
    settings, manifest = default_model
    report = manifest["disclosure"]
    assert report["rule"] == HES_RULE.name
    assert report["protection"] == HES_RULE.largest_suppressed - HES_RULE.smallest
    counted = [i for i in INDICATORS if i.method is not Method.SHARE_OF_SPEND]
    assert len(report["counts"]) == report["tables"]
    assert {key.split("/")[0] for key in report["counts"]} == {i.id for i in counted}
    # every count of 1-7 in the region's small areas was a cell to protect, and some needed
    # more than secondary suppression
    assert report["sensitive_cells"] > 10_000
    assert report["hidden_by_audit"] > 0
    assert report["rounds"] >= 1
    with connect(settings) as engine:
        recorded = engine.to_pandas(engine.table("disclosure"))
    assert (recorded["reason"] == "differencing").sum() == report["hidden_by_audit"]
    assert len(recorded) == manifest["tables"]["disclosure"]["rows"]
