"""Attacks on the projection's inputs, each kept as a test: what was found by trying to make
`carepool project` take what it should refuse, or leave behind what it should not."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.errors import ProjectionError
from carepool.projection import parse_scenario

runner = CliRunner()
HEAD = 'extends = "baseline"\nname = "x"\ntitle = "X"\n'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # a value of another type is refused, not read as something else
        (
            "[care_closer_to_home]\nadmissions_shifted = true\n",
            "care_closer_to_home.admissions_shifted",
        ),
        ('[uncertainty]\npopulation = "off"\n', "uncertainty.population"),
        ("[uncertainty]\npopulation = 0\n", "uncertainty.population"),
        ('[prevention]\nportfolio_fair = "no"\n', "prevention.portfolio_fair"),
        ('[demand]\nconditions = "0.1_0"\n', "demand.conditions"),
        ('[costs]\ninflation = ["0.02"]\n', "costs.inflation.0"),
        # the population is the projection's own: no trend or effect may set it
        ("[demand.trends]\npopulation = 0.2\n", "demand.trends"),
        ("[prevention.effects]\npopulation_65_plus = -0.9\n", "prevention.effects"),
        ("[demand]\nconditions = nan\n", "demand.conditions"),
        ("[demand]\nconditions = inf\n", "demand.conditions"),
    ],
)
def test_a_scenario_value_of_the_wrong_kind_is_refused(body: str, field: str) -> None:
    with pytest.raises(ProjectionError) as caught:
        parse_scenario(HEAD + body, "attack.toml")
    assert f"field {field}" in str(caught.value)


def test_whole_numbers_are_numbers() -> None:
    scenario = parse_scenario(
        HEAD + "[demand]\nconditions = 0\n[income]\nheadroom = 0\n", "ok.toml"
    )
    assert scenario.demand.conditions == 0.0


def test_a_failed_chart_write_leaves_the_old_chart_whole(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = tmp_path / "fan.html"
    chart.write_text("the chart from before")

    def full(self: object, path: Path, **_: object) -> None:
        Path(path).write_text("half a chart")
        raise OSError(27, "File too large")

    import plotly.graph_objects as go

    monkeypatch.setattr(go.Figure, "write_html", full)
    result = runner.invoke(
        app,
        ["project", "--years", "2", "--draws", "3", "--chart", str(chart), "--json"],
        env={"CAREPOOL_DATA_DIR": str(small_warehouse.parent)},
    )
    assert result.exit_code == 2
    assert "cannot write the chart" in result.stderr
    assert chart.read_text() == "the chart from before"
    assert [p.name for p in tmp_path.iterdir()] == ["fan.html"]


@pytest.mark.parametrize("amount", ["1,5", "1,2,3", "£,5", "1_000", "1e12", "١٢٣", "-5", "nan"])
def test_gap_above_reads_amounts_as_strictly_as_the_ledger(
    small_warehouse: Path, amount: str
) -> None:
    result = runner.invoke(
        app,
        ["project", "--gap-above", amount, "--by", "2026-27"],
        env={"CAREPOOL_DATA_DIR": str(small_warehouse.parent)},
    )
    assert result.exit_code == 2
    assert "gap-above:" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["project", "--json", "compare", "baseline", "austerity"],
        ["project", "--years", "99", "scenarios"],
        ["project", "--draws", "5", "backcast"],
    ],
)
def test_an_option_before_a_subcommand_is_refused_not_ignored(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "a subcommand's options go after it" in " ".join(result.stderr.split())


def test_compare_refuses_json_and_csv_together_before_it_runs(tmp_path: Path) -> None:
    # no model here: had it run first, it would have said so
    result = runner.invoke(
        app,
        ["project", "compare", "baseline", "austerity", "--json", "--csv"],
        env={"CAREPOOL_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "choose one of --json and --csv" in result.stderr
