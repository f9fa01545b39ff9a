"""The default model (Greater Manchester, scale 1, seed 42): it passes every validation check,
and the default allocation formula's component shares are the model's own spend shares."""

from __future__ import annotations

from typing import Any

import pytest

from carepool.allocation import allocate, from_warehouse, load_formula
from carepool.allocation.need import modelled_spend
from carepool.config import Settings
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
    assert len(checks) >= 15
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
