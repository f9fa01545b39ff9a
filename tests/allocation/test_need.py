"""The need model: fitted weights recover a known relationship; stages keep the population."""

from __future__ import annotations

import numpy as np
import pytest

from carepool.allocation import fit_need_model, parse_formula
from carepool.allocation.inputs import N_BANDS
from carepool.allocation.need import all_stages, standardised

from .synthetic import formula, need_data, random_data

ESTIMATING = """
[[component]]
id = "acute"
share = 1.0
services = ["emergency_admissions"]
need = [{ variable = "health_score" }, { variable = "income_score", weight = 0.1 }]
"""


@pytest.mark.parametrize("beta", [-0.2, 0.0, 0.15, 0.6])
def test_an_estimated_weight_recovers_the_relationship_in_the_costs(beta: float) -> None:
    rng = np.random.default_rng(11)
    n = 200
    population = rng.gamma(3.0, 10.0, size=(n, N_BANDS, 2))
    curve = np.linspace(0.5, 4.0, N_BANDS)[:, None] * np.array([1.0, 1.2])
    data = need_data(
        population,
        {"health_score": rng.normal(0, 1, n), "income_score": rng.uniform(0.0, 0.5, n)},
        [f"E08{i % 5:06d}" for i in range(n)],
    )
    z = standardised(data, ["health_score", "income_score"])
    spells = (
        population
        * curve
        * np.exp(beta * z["health_score"] + 0.1 * z["income_score"])[:, None, None]
    )
    data.activity["emergency_admissions"] = spells
    data.unit_cost_pence["emergency_admissions"] = 271_100
    model = fit_need_model(parse_formula(ESTIMATING, "e.toml"), data)
    assert model.coefficients["acute"]["health_score"] == pytest.approx(beta, abs=1e-8)
    assert model.coefficients["acute"]["income_score"] == 0.1
    assert model.estimated["acute"] == ("health_score",)
    weighted_mean = (model.curves["acute"] * population.sum(axis=0)).sum() / population.sum()
    assert weighted_mean == pytest.approx(1.0)
    assert np.allclose(model.curves["acute"] / model.curves["acute"][0, 0], curve / curve[0, 0])


def test_every_stage_sums_to_the_population() -> None:
    data = random_data(4)
    spec = formula()
    stages = all_stages(spec, data, fit_need_model(spec, data))
    for by_stage in stages.values():
        for values in by_stage.values():
            assert values.sum() == pytest.approx(data.people().sum())
            assert (values >= 0).all()
