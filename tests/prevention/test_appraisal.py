"""Appraising interventions on a built model: the arithmetic by hand, the partners' shares, and
the command's machine-readable contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.prevention.conftest import principal
from typer.testing import CliRunner

from carepool.cli import app
from carepool.errors import AppraisalError, PermissionDenied
from carepool.ledger import Ledger
from carepool.prevention import (
    AppraisalRequest,
    appraise,
    discount_factors,
    model_inputs,
    parse_library,
)
from carepool.prevention.appraisal import central_figures, flows, prepare, present_values
from carepool.prevention.cohort import CohortCells, cohort_cells
from carepool.prevention.library import OUTCOMES, Cohort
from carepool.prevention.risk import risk_scores
from carepool.warehouse import connect

runner = CliRunner()

ONE = """
[[intervention]]
id = "visits"
name = "Home visits"
delivered_by = "council"
cohort = { ages = [65, 120] }
uptake = { value = 0.5, source = "test" }
success = { value = 0.8, source = "test" }
deadweight = { value = 0.25, source = "test" }
drop_off = { value = 0.5, source = "test" }
costs = [{ payer = "council", per_participant = [100.0, 10.0], source = "test" }]
effects = [
  { outcome = "emergency_admissions", rate_ratio = { value = 0.9, source = "test" } },
  { outcome = "asc_home_care_hours", rate_ratio = { value = 0.8, source = "test" } },
]
qalys_per_success_year = { value = 0.1, source = "test" }
cost_grade = 1
effect_grade = 2
"""


def _cells() -> CohortCells:
    people = np.zeros((1, 5))
    people[0, 0] = 1000.0
    events = np.zeros((1, 5, len(OUTCOMES)))
    events[0, 0, OUTCOMES.index("emergency_admissions")] = 200.0
    events[0, 0, OUTCOMES.index("asc_home_care_hours")] = 50_000.0
    events[0, 0, OUTCOMES.index("deaths")] = 0.0
    return CohortCells("2025-26", ("E08000009",), ("E54000057",), people, events)


def test_the_chain_worked_by_hand() -> None:
    """1,000 people; 500 take part at £100 then £10; 300 attributable (× 0.8 × 0.75); half a
    year's effect in year 0, a full year in year 1, half in year 2; no deaths."""
    (item,) = parse_library(ONE, "test")
    units = {"emergency_admissions": 2711.0, "asc_home_care_hours": 30.0}
    payer = {"emergency_admissions": "nhs", "asc_home_care_hours": "council"}
    prepared = prepare(item, _cells(), units, payer, horizon=3, scale=1.0)
    flow = flows(prepared, central_figures(item))
    # per attributable person a year: 0.2 admissions × 10% × £2,711 to the NHS, and 50 hours
    # × 20% × £30 to the council; 300 attributable, 5% optimism bias off benefits
    nhs_year = 300 * 0.2 * 0.1 * 2711.0 * 0.95
    council_year = 300 * 50 * 0.2 * 30.0 * 0.95
    assert flow.saving[0, 0, 0] == pytest.approx([nhs_year * 0.5, nhs_year, nhs_year * 0.5])
    assert flow.saving[0, 0, 1] == pytest.approx(
        [council_year * 0.5, council_year, council_year * 0.5]
    )
    # costs: grade 1, no optimism bias; 500 participants
    assert flow.cost[0, 0, 1] == pytest.approx([50_000.0, 5_000.0, 0.0])
    assert flow.qalys[0] == pytest.approx(np.array([0.5, 1.0, 0.5]) * 300 * 0.1 * 0.95)
    df = discount_factors(3)
    pv = present_values(prepared, central_figures(item))
    assert pv.saving[0, 0, 0] == pytest.approx(float(flow.saving[0, 0, 0] @ df))
    assert pv.cost[0, 0, 1] == pytest.approx(50_000.0 + 5_000.0 / 1.035)
    assert pv.qalys[0] == pytest.approx(float(flow.qalys[0] @ discount_factors(3, "health")))


def test_appraisal_on_the_model_credits_each_partner(
    small_warehouse: Path, tmp_path: Path, analyst_ledger: tuple[str, Ledger]
) -> None:
    library = tmp_path / "one.toml"
    library.write_text(ONE)
    request = AppraisalRequest(interventions=("visits",), library=(library,), draws=2_000, seed=3)
    who = principal(analyst_ledger[1])
    with connect(warehouse_dir=small_warehouse) as warehouse:
        (result,) = appraise(warehouse, request, principal=who)
        again = appraise(warehouse, request, principal=who)[0]
    assert result.by_partner == again.by_partner  # seeded: the same draws every run
    by_id = {p.partner: p for p in result.by_partner}
    assert set(by_id) == {"E54000057", "E08000003", "E08000009"}
    # the councils pay; the ICB only saves
    assert by_id["E54000057"].cost_pence == 0
    assert by_id["E54000057"].benefit_pence > 0
    assert by_id["E08000003"].cost_pence > 0
    # parts add up to the whole, in whole pence
    assert sum(p.cost_pence for p in result.by_partner) == result.cost_pence
    assert sum(p.npv_pence for p in result.by_partner) == result.npv_pence
    assert sum(p.shapley_pence for p in result.by_partner) == result.npv_pence
    assert result.npv_pence == result.benefit_pence - result.cost_pence
    assert by_id["E54000057"].p_npv_positive == 1.0  # it pays nothing and always saves
    assert sum(q["cohort"] for q in result.by_quintile) == pytest.approx(result.cohort)
    assert result.ceac[0][0] == 0.0
    probabilities = [p for _, p in result.ceac]
    assert probabilities == sorted(probabilities)  # a higher threshold never lowers it


def test_appraise_json_follows_the_contract(
    small_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    result = runner.invoke(
        app, ["appraise", "--intervention", "falls_prevention", "--draws", "500", "--json"]
    )
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert set(item) >= {
        "id",
        "name",
        "cost_pence",
        "npv_pence",
        "by_partner",
        "qalys",
        "cost_per_qaly",
    }
    for partner in item["by_partner"]:
        assert set(partner) >= {
            "partner",
            "cost_pence",
            "benefit_pence",
            "npv_pence",
            "shapley_pence",
            "p_npv_positive",
        }
        assert isinstance(partner["cost_pence"], int)
    table = runner.invoke(app, ["appraise", "--draws", "0"])
    assert table.exit_code == 0, table.output
    assert "Falls prevention" in table.stdout


def test_unknown_intervention_and_bad_options_are_clear_errors(
    small_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    result = runner.invoke(app, ["appraise", "--intervention", "unicorns"])
    assert result.exit_code == 2
    assert "unknown intervention 'unicorns'" in result.output
    with pytest.raises(AppraisalError, match="draws"):
        AppraisalRequest(draws=-1)
    with pytest.raises(AppraisalError, match="scale"):
        AppraisalRequest(scale=0.0)


def test_a_cohort_by_risk_takes_the_top_share_of_predicted_risk(small_warehouse: Path) -> None:
    everyone = Cohort(ages=(18, 120))
    top = Cohort(ages=(18, 120), top_risk_share=0.05)
    with connect(warehouse_dir=small_warehouse) as warehouse:
        scores = risk_scores(warehouse)
        all_cells = cohort_cells(warehouse, everyone, "2025-26")
        top_cells = cohort_cells(warehouse, top, "2025-26", scores)
        with pytest.raises(AppraisalError, match="risk model"):
            cohort_cells(warehouse, top, "2025-26")
    admissions = OUTCOMES.index("emergency_admissions")
    # the top 5% of everyone, adults among them
    assert 0 < top_cells.size <= 0.05 * len(scores) + 1
    rate_top = top_cells.events[..., admissions].sum() / top_cells.size
    rate_all = all_cells.events[..., admissions].sum() / all_cells.size
    assert rate_top > 3 * rate_all  # this year's admissions are far commoner at the top


def test_partners_with_no_stake_get_no_share_and_the_two_commands_agree(
    small_warehouse: Path,
) -> None:
    """Bowel screening outreach is delivered and paid for by the NHS and saves only the NHS:
    the councils have no stake, so no fair share and no chance of gaining to report. The
    ICB's fair share is the one the portfolio's place games give."""
    with connect(warehouse_dir=small_warehouse) as warehouse:
        (result,) = appraise(
            warehouse, AppraisalRequest(interventions=("bowel_screening_outreach",), draws=200)
        )
    by_id = {p.partner: p for p in result.by_partner}
    for council in ("E08000003", "E08000009"):
        assert by_id[council].shapley_pence == 0
        assert by_id[council].p_npv_positive is None
    assert by_id["E54000057"].shapley_pence == result.npv_pence
    assert sum(p.npv_pence for p in result.by_partner) == result.benefit_pence - result.cost_pence


def test_the_baseline_is_the_year_after_the_cohort_is_chosen(small_warehouse: Path) -> None:
    """People chosen for an emergency admission this year have fewer the next (regression to
    the mean): the baseline an intervention can act on is next year's."""
    admitted = Cohort(ages=(65, 120), min_emergency_admissions=1)
    with connect(warehouse_dir=small_warehouse) as warehouse:
        same = cohort_cells(warehouse, admitted, "2024-25")
        following = cohort_cells(warehouse, admitted, "2024-25", outcome_year="2025-26")
    admissions = OUTCOMES.index("emergency_admissions")
    per_person_same = same.events[..., admissions].sum() / same.size
    per_person_next = following.events[..., admissions].sum() / following.size
    assert per_person_same >= 1.0  # chosen for having at least one
    assert per_person_next < 0.7 * per_person_same
    assert following.size < same.size  # those who died in the year are not followed
    assert following.year == "2025-26"


def test_a_library_of_ones_own_is_for_analysts_of_this_models_fund(
    small_warehouse: Path, tmp_path: Path, analyst_ledger: tuple[str, Ledger]
) -> None:
    """A library's cohorts are the user's to choose, and a narrow one (one person aged 95+ on
    a register) would describe a resident: only an analyst of a fund pooling these places may
    appraise one."""
    _, ledger = analyst_ledger
    library = tmp_path / "narrow.toml"
    library.write_text(ONE.replace("ages = [65, 120]", "ages = [95, 120], conditions = ['cancer']"))
    request = AppraisalRequest(library=(library,), draws=0)
    with connect(warehouse_dir=small_warehouse) as warehouse:
        with pytest.raises(PermissionDenied, match="needs an analyst"):
            appraise(warehouse, request)
        for who in (principal(ledger, "t.public"), principal(ledger, "t.auditor")):
            with pytest.raises(PermissionDenied, match="analyst role"):
                appraise(warehouse, request, principal=who)
        with pytest.raises(PermissionDenied, match="does not pool this model"):
            appraise(warehouse, request, principal=principal(ledger, fund="other-fund"))
        assert appraise(warehouse, request, principal=principal(ledger))


def test_shared_inputs_are_read_once_and_hold_the_choice(small_warehouse: Path) -> None:
    """The demo reads the model once for the appraisal and the portfolio; a request that
    also names interventions would be silently ignored, so it is refused."""
    with connect(warehouse_dir=small_warehouse) as warehouse:
        inputs = model_inputs(warehouse, (), ("falls_prevention",))
        (result,) = appraise(warehouse, AppraisalRequest(draws=0), inputs=inputs)
        assert result.intervention.id == "falls_prevention"
        with pytest.raises(AppraisalError, match="model_inputs"):
            appraise(
                warehouse,
                AppraisalRequest(interventions=("reablement",), draws=0),
                inputs=inputs,
            )
