"""All of England from vendored data: every MSOA, exact pounds, ONS population totals."""

from __future__ import annotations

import pytest

from carepool.allocation import allocate, for_england
from carepool.errors import AllocationError

from .synthetic import FORMULA, formula

POPULATION_MID_2020 = 56_550_138  # ONS mid-2020 estimate, England


def test_england_by_msoa_and_icb() -> None:
    spec = formula()
    data = for_england(spec.variables(), ["msoa", "icb"])
    assert data.people().sum() == pytest.approx(POPULATION_MID_2020)
    assert not data.sex_known
    msoa = allocate(spec, data, total=127_200_000_000, year="2026-27", level="msoa")
    assert len(msoa.places) == 6_856
    assert int(msoa.places["allocation"].sum()) == 127_200_000_000
    icb = allocate(spec, data, total=127_200_000_000, year="2026-27", level="icb")
    assert len(icb.places) == 42
    assert icb.places["population"].sum() == pytest.approx(POPULATION_MID_2020, abs=42)
    gm = icb.places.set_index("place").loc["E54000057"]
    assert gm["name"] == "NHS Greater Manchester Integrated Care Board"


def test_model_variables_are_not_available_for_england() -> None:
    text = FORMULA.replace('variable = "imd_score"', 'variable = "premature_mortality"')
    spec = formula(text)
    with pytest.raises(AllocationError, match="'premature_mortality' needs a built model"):
        for_england(spec.variables(), ["msoa"])


def test_estimating_needs_costed_activity() -> None:
    text = FORMULA.replace(
        'need = [{ variable = "health_score", weight = 0.3 }]',
        'services = ["emergency_admissions"]\nneed = [{ variable = "health_score" }]',
    )
    spec = formula(text)
    data = for_england(spec.variables(), ["lad"])
    with pytest.raises(AllocationError, match="fit the need model on a built model first"):
        allocate(spec, data, total=10**6, year="2026-27")
