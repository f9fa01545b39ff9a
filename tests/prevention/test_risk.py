"""Risk stratification: a model that is validated on data it did not see and is no easier
than published models, segments, published aggregates with small numbers hidden, and
person-level scores for analysts only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.errors import PermissionDenied
from carepool.ledger import Ledger
from carepool.prevention import RiskRequest, person_risks, risk_profile
from carepool.prevention.risk import SEGMENTS, fit_risk_model, latest_people, segment
from carepool.warehouse import connect

runner = CliRunner()


def test_the_risk_model_is_validated_and_no_easier_than_real_records(
    small_warehouse: Path, three_year_warehouse: Path
) -> None:
    with connect(warehouse_dir=three_year_warehouse) as warehouse:
        model = fit_risk_model(warehouse)
    assert model.held_out_year  # three years: fitted on the first pair, tested on the next
    assert (model.fitted_on, model.validated_on) == ("2024-25", "2025-26")
    # published models reach 0.70-0.78 on real records; far above would mean too easy data
    assert 0.60 < model.auroc < 0.80
    predicted = np.array([c.predicted for c in model.calibration])
    observed = np.array([c.observed for c in model.calibration])
    assert np.all(np.diff(predicted) >= 0)  # deciles of predicted risk, in order
    assert observed[-1] > 3 * observed[0]  # the top decile is admitted far more often
    people = sum(c.people for c in model.calibration)
    mean_predicted = sum(c.predicted * c.people for c in model.calibration) / people
    assert mean_predicted == pytest.approx(model.base_rate, abs=0.02)
    with connect(warehouse_dir=small_warehouse) as warehouse:
        two_years = fit_risk_model(warehouse)
    assert not two_years.held_out_year  # two years: held-out people, and it says so


def test_segments_are_exclusive_and_in_order(small_warehouse: Path) -> None:
    with connect(warehouse_dir=small_warehouse) as warehouse:
        people = latest_people(warehouse)
    labels = segment(people)
    assert set(labels) <= set(SEGMENTS)
    assert (labels[people["died"]] == "end_of_life").all()
    healthy = labels == "healthy"
    registers = [str(c) for c in people.columns if str(c).startswith("has_")]
    assert people[registers][healthy].to_numpy().sum() == 0


def test_published_aggregates_hide_small_numbers(small_warehouse: Path) -> None:
    with connect(warehouse_dir=small_warehouse) as warehouse:
        profile = risk_profile(warehouse, RiskRequest(top_share=0.05))
    top = profile.top_cohort
    shown = top.loc[~top["suppressed"], "top_risk"].astype(int)
    assert (shown == 0).sum() + (shown >= 8).sum() == len(shown)  # never 1-7
    assert (shown % 5 == 0).all()  # rounded to 5
    assert top.loc[top["suppressed"], "per_1000"].isna().all()
    # within each borough, no lone hidden cell that its total would give away
    hidden = top.groupby("lad_code")["suppressed"].sum()
    assert not (hidden == 1).any()


def test_person_level_scores_are_for_analysts_only(
    small_warehouse: Path, analyst_ledger: tuple[str, Ledger]
) -> None:
    _, ledger = analyst_ledger
    request = RiskRequest()
    with connect(warehouse_dir=small_warehouse) as warehouse:
        for who in ("t.public", "t.auditor", "t.admin"):
            with pytest.raises(PermissionDenied, match="analyst role"):
                person_risks(warehouse, request, ledger, "model-fund", who)
        with pytest.raises(PermissionDenied):
            person_risks(warehouse, request, ledger, "model-fund", "somebody.else")
        # an analyst of another partnership's fund has no business with these residents
        with pytest.raises(PermissionDenied, match="does not pool this model"):
            person_risks(warehouse, request, ledger, "other-fund", "t.analyst")
        scores = person_risks(warehouse, request, ledger, "model-fund", "t.analyst")
    assert {"person_id", "risk", "segment", "top_risk"} <= set(scores.columns)
    assert "nhs_number" not in scores.columns  # pseudonymous: no direct identifier
    assert scores["risk"].is_monotonic_decreasing


def test_risk_command_publishes_aggregates_and_guards_people(
    small_warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    analyst_ledger: tuple[str, Ledger],
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    result = runner.invoke(app, ["risk", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"]["validation"] == "held-out people (30%)"
    assert "person_id" not in result.stdout
    assert report["top_risk_cut"] == round(report["top_risk_cut"], 2)
    # no sweep of fine shares: they would place residents one at a time
    swept = runner.invoke(app, ["risk", "--top-share", "0.00001", "--json"])
    assert swept.exit_code == 2
    assert "top share" in swept.output
    url, _ = analyst_ledger
    monkeypatch.setenv("CAREPOOL_DATABASE_URL", url)
    monkeypatch.setenv("CAREPOOL_FUND", "model-fund")
    out = tmp_path / "people.csv"
    refused = runner.invoke(app, ["risk", "--people", str(out), "--user", "t.public"])
    assert refused.exit_code == 6
    assert "analyst role" in refused.output
    assert not out.exists()
    given = runner.invoke(app, ["risk", "--people", str(out), "--user", "t.analyst"])
    assert given.exit_code == 0, given.output
    assert out.stat().st_mode & 0o777 == 0o600  # readable by its owner only
    again = runner.invoke(app, ["risk", "--people", str(out), "--user", "t.analyst"])
    assert again.exit_code == 2  # never over an existing file
    assert "exists" in again.output
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    linked = runner.invoke(app, ["risk", "--people", str(link), "--user", "t.analyst"])
    assert linked.exit_code == 2
    assert victim.read_text() == "keep me"  # nor through a link
    narrow = tmp_path / "narrow.toml"
    narrow.write_text((Path(__file__).parent / "narrow.toml").read_text())
    public = runner.invoke(app, ["appraise", "--library", str(narrow), "--user", "t.public"])
    assert public.exit_code == 6
    monkeypatch.delenv("CAREPOOL_USER", raising=False)
    nobody = runner.invoke(app, ["appraise", "--library", str(narrow)])
    assert nobody.exit_code == 2  # who is asking must be said
    assert "--user" in nobody.output
