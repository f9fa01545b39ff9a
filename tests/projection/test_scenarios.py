"""Scenarios as files: the shipped ones load, a user's may extend one, and every fault is
refused naming the file and the field, before anything runs or is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.errors import ProjectionError
from carepool.projection import ProjectionRequest, load_scenario, parse_scenario, shipped_scenarios

runner = CliRunner()


def test_every_shipped_scenario_loads() -> None:
    names = shipped_scenarios()
    assert {"baseline", "austerity", "prevention", "care-closer-to-home"} <= set(names)
    assert {"cap-on-care-costs", "raised-capital-limits", "free-personal-care"} <= set(names)
    for name in names:
        assert load_scenario(name).name == name


def test_a_scenario_extends_another_and_gives_only_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'extends = "austerity"\nname = "mine"\ntitle = "Mine"\n[demand]\nconditions = -0.01\n'
    )
    mine = load_scenario(str(path))
    assert mine.demand.conditions == -0.01
    assert mine.income.nhs_real_growth == [0.0]  # austerity's
    assert mine.costs.inflation == load_scenario("baseline").costs.inflation  # baseline's


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            'extends = "baseline"\nname = "x"\ntitle = "X"\nwibble = 1\n',
            "field wibble: not a key a scenario has",
        ),
        (
            'extends = "baseline"\nname = "x"\ntitle = "X"\n[demand]\nadmisions = 0.01\n',
            "field demand.admisions",
        ),
        (
            'extends = "baseline"\nname = "x"\ntitle = "X"\n[income]\nnhs_real_growth = [0.5]\n',
            "field income.nhs_real_growth.0",
        ),
        (
            'extends = "baseline"\nname = "x"\ntitle = "X"\n[demand]\nconditions = -0.3\n',
            "field demand.conditions",
        ),
        (
            'extends = "baseline"\nname = "x"\ntitle = "X"\n[demand.trends]\nbeds = 0.01\n',
            "field demand.trends",
        ),
        (
            'extends = "baseline"\nname = "x"\ntitle = "X"\n[charging]\npolicy = "free"\n',
            "field charging.policy",
        ),
        (
            'extends = "baseline"\nname = "x"\ntitle = "X"\n[charging]\nfrom_year = "2027"\n',
            "field charging.from_year",
        ),
        ('extends = "baseline"\nname = "X Y"\ntitle = "X"\n', "field name"),
        ('extends = "nothing"\nname = "x"\ntitle = "X"\n', "field extends"),
        ("name = ", "not valid TOML"),
    ],
)
def test_a_faulty_scenario_is_refused_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(ProjectionError) as caught:
        parse_scenario(text, "mine.toml")
    assert str(caught.value).startswith("mine.toml: ")
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"years": 21}, "years"),
        ({"years": 0}, "years"),
        ({"level": "ward"}, "level"),
        ({"draws": -1}, "draws"),
        ({"draws": 10_001}, "draws"),
        ({"scenarios": ()}, "scenario"),
    ],
)
def test_a_request_beyond_the_stated_limits_is_refused(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ProjectionError, match=f"^{field}:"):
        ProjectionRequest(**changes)  # type: ignore[arg-type]


def test_an_unknown_scenario_name_is_refused() -> None:
    with pytest.raises(ProjectionError, match="expected one of carepool's scenarios"):
        load_scenario("boom")


def _env(small_warehouse: Path) -> dict[str, str]:
    return {"CAREPOOL_DATA_DIR": str(small_warehouse.parent)}


def test_the_command_refuses_bad_input_and_writes_nothing(
    small_warehouse: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "baseline"\nname = "bad"\ntitle = "Bad"\n[costs]\ninflation = [3]\n')
    chart = tmp_path / "fan.html"
    for args, field in (
        (["--scenario", str(bad), "--chart", str(chart)], "field costs.inflation.0"),
        (["--years", "25", "--chart", str(chart)], "years:"),
        (["--level", "street"], "level:"),
        (["--gap-above", "ten", "--by", "2030-31"], "gap-above:"),
        (["--gap-above", "1000"], "--gap-above and --by"),
    ):
        result = runner.invoke(app, ["project", *args], env=_env(small_warehouse))
        assert result.exit_code == 2, result.output
        assert field in result.stderr
        assert "Traceback" not in result.output
    assert not chart.exists()


def test_json_prints_the_contract_and_compare_the_difference(small_warehouse: Path) -> None:
    env = _env(small_warehouse)
    result = runner.invoke(
        app, ["project", "--years", "3", "--draws", "10", "--level", "region", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    fields = {
        "scenario",
        "year",
        "place",
        "level",
        "measure",
        "partner",
        "value",
        "lower",
        "upper",
        "unit",
    }
    assert fields <= set(rows[0])
    assert any(r["measure"] == "gap" and r["partner"] for r in rows)
    compared = runner.invoke(
        app,
        ["project", "compare", "baseline", "austerity", "--years", "3", "--draws", "10", "--json"],
        env=env,
    )
    assert compared.exit_code == 0, compared.output
    pairs = json.loads(compared.stdout)
    gaps = [r for r in pairs if r["measure"] == "gap"]
    assert gaps
    for row in gaps:
        assert row["difference"] == pytest.approx(row["second"] - row["first"])
    assert all(row["second"] >= row["first"] for row in gaps if row["year"] != "2025-26")


def test_the_summary_names_the_partners_and_when_each_runs_short(
    small_warehouse: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "fan.html"
    result = runner.invoke(
        app,
        [
            "project",
            "--years",
            "4",
            "--draws",
            "20",
            "--gap-above",
            "0",
            "--by",
            "2028-29",
            "--chart",
            str(chart),
        ],
        env=_env(small_warehouse),
    )
    assert result.exit_code == 0, result.output
    assert "Money by partner" in result.stdout
    assert "Manchester Council" in result.stdout
    assert "short from" in result.stdout
    assert "The chance a partner's gap exceeds" in result.stdout
    assert chart.stat().st_size > 100_000
    assert "plotly" in chart.read_text()[:200_000].lower()


def test_a_shipped_scenario_prints_for_copying() -> None:
    result = runner.invoke(app, ["project", "scenario", "baseline"])
    assert result.exit_code == 0
    assert parse_scenario(result.stdout, "printed").name == "baseline"
    listed = runner.invoke(app, ["project", "scenarios"])
    assert "free-personal-care" in listed.stdout


def test_a_scenario_names_itself_and_gives_its_settlement_unless_it_extends(tmp_path: Path) -> None:
    with pytest.raises(ProjectionError, match="field name: a scenario needs a name of its own"):
        parse_scenario('extends = "baseline"\ntitle = "Mine"\n', "mine.toml")
    with pytest.raises(ProjectionError, match=r"field income: a scenario that extends none"):
        parse_scenario('name = "mine"\ntitle = "Mine"\n[costs]\ninflation = [0.02]\n', "mine.toml")
    whole = parse_scenario(
        'name = "mine"\ntitle = "Mine"\n[income]\nnhs_real_growth = [0.01]\n'
        "[costs]\ninflation = [0.02]\n",
        "mine.toml",
    )
    assert whole.income.nhs_real_growth == [0.01]


def test_a_reform_cannot_begin_before_the_projection(small_warehouse: Path, tmp_path: Path) -> None:
    early = tmp_path / "early.toml"
    early.write_text(
        'extends = "cap-on-care-costs"\nname = "early"\ntitle = "Early"\n'
        '[charging]\nfrom_year = "2019-20"\n'
    )
    late = tmp_path / "late.toml"
    late.write_text(
        'extends = "cap-on-care-costs"\nname = "late"\ntitle = "Late"\n'
        '[charging]\nfrom_year = "2045-46"\n'
    )
    env = _env(small_warehouse)
    refused = runner.invoke(app, ["project", "--scenario", str(early), "--years", "2"], env=env)
    assert refused.exit_code == 2
    assert "charging.from_year" in refused.stderr
    noted = runner.invoke(
        app, ["project", "--scenario", str(late), "--years", "2", "--draws", "5"], env=env
    )
    assert noted.exit_code == 0, noted.output
    assert "changes nothing here" in " ".join(noted.stderr.split())


def test_by_is_checked_before_anything_runs_and_a_calendar_year_is_its_financial_year(
    small_warehouse: Path,
) -> None:
    env = _env(small_warehouse)
    beyond = runner.invoke(
        app, ["project", "--years", "3", "--gap-above", "0", "--by", "2040-41"], env=env
    )
    assert beyond.exit_code == 2
    assert "by: expected a year the projection reaches, 2026-27 to 2028-29" in " ".join(
        beyond.stderr.split()
    )
    assert "Money by partner" not in beyond.stdout  # refused before any projection
    calendar = runner.invoke(
        app,
        ["project", "--years", "3", "--draws", "10", "--gap-above", "0", "--by", "2027", "--json"],
        env=env,
    )
    assert calendar.exit_code == 0, calendar.output
    rows = json.loads(calendar.stdout)
    chances = [r for r in rows if r["measure"] == "p_gap_above" and r["year"] == "2027-28"]
    assert chances
    assert all(0.0 <= r["value"] <= 1.0 for r in chances)
    assert any(r["measure"] == "p_gap_above_zero" for r in rows)


def test_without_a_model_the_command_says_where_it_looked(tmp_path: Path) -> None:
    result = runner.invoke(app, ["project"], env={"CAREPOOL_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 5
    assert str(tmp_path) in " ".join(result.stderr.split()).replace("\n", "")
