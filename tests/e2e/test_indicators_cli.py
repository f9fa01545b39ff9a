"""`carepool indicators` as a user runs it, on the small model built once per session."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.cli.indicators import sparkline
from carepool.indicators import CONTRACT, INDICATORS

runner = CliRunner()


@pytest.fixture
def data_dir(small_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    return small_warehouse.parent


def test_json_rows_carry_the_documented_contract(data_dir: Path) -> None:
    result = runner.invoke(app, ["indicators", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {row["level"] for row in rows} == {"region", "lad"}
    assert {row["indicator"] for row in rows} == {i.id for i in INDICATORS}
    for row in rows:
        assert list(row)[: len(CONTRACT)] == CONTRACT
        assert isinstance(row["suppressed"], bool)
        assert row["numerator"] is None or isinstance(row["numerator"], int)
        if row["suppressed"]:
            assert row["value"] is None
        elif row["lower"] is not None:
            assert row["lower"] <= row["value"] <= row["upper"]
            assert row["lower_998"] <= row["lower"]
            assert row["upper"] <= row["upper_998"]


def test_pooled_years_are_one_period_labelled_by_its_years(data_dir: Path) -> None:
    args = ["indicators", "--place", "E08000009", "--indicator", "life_expectancy_female"]
    result = runner.invoke(app, [*args, "--pool", "2", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["period"], r["pooled_years"], r["trend"]) for r in rows] == [
        ("2024-25 to 2025-26", 2, "cannot be calculated")
    ]
    assert "2-year pooled periods" in " ".join(result.stderr.split())
    table = runner.invoke(app, [*args, "--pool", "2"])
    assert table.exit_code == 0, table.output
    assert "2024-25 to" in table.stdout


def test_one_place_one_indicator_one_year(data_dir: Path) -> None:
    args = ["indicators", "--place", "E08000009", "--indicator", "ld_health_checks"]
    result = runner.invoke(app, [*args, "--year", "2025", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["place"], r["level"], r["period"]) for r in rows] == [
        ("E08000009", "lad", "2025-26")
    ]


def test_csv_has_a_header_and_a_row_per_result(data_dir: Path) -> None:
    result = runner.invoke(app, ["indicators", "--level", "quintile", "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[: len(CONTRACT)] == CONTRACT
    assert {r["place"] for r in rows} == {f"IMD-Q{q}" for q in range(1, 6)}


def test_the_table_view_names_places_and_explains_suppression(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["indicators", "--level", "msoa", "--indicator", "u75_mortality_cvd"]
    )
    assert result.exit_code == 0, result.output
    assert "suppressed" in result.stdout
    assert "u75_mortality_cvd" in result.stdout
    # as Fingertips: one table for the latest period, a neighbourhood a row, England and the
    # region in its title, not one table per neighbourhood; earlier periods in the Years
    # column's small chart
    titles = [line for line in result.stdout.splitlines() if "(u75_mortality_cvd;" in line]
    assert len(titles) == 1
    text = " ".join(result.stdout.split())
    assert "per 100,000 (age-standardised)), 2025-26: England" in text
    assert text.count("Manchester 001") == 1
    assert "Years" in text
    assert "Years: the value in each period from 2024-25 to 2025-26" in text


def test_a_few_places_show_unit_and_benchmark_values(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["indicators", "--place", "E08000009", "--indicator", "ld_health_checks"]
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "2025-26" in line)
    assert "%" in row  # the unit
    assert re.search(r"│ \d+\.\d (better|worse|similar) ", row)  # England's value, compared


def test_the_years_column_draws_every_period_of_a_place(data_dir: Path) -> None:
    """The text table shows a place's latest value with a bar for each period asked (the
    JSON has a row for each), so a trend over the years is seen, not only the last two."""
    as_json = runner.invoke(
        app, ["indicators", "--place", "E08000003", "--indicator", "ld_health_checks", "--json"]
    )
    rows = json.loads(as_json.stdout)
    assert len(rows) == 2
    values = [row["value"] for row in sorted(rows, key=lambda r: r["period"])]
    table = runner.invoke(
        app, ["indicators", "--place", "E08000003", "--indicator", "ld_health_checks"]
    )
    assert table.exit_code == 0, table.output
    line = next(line for line in table.stdout.splitlines() if "ld_health_checks" in line)
    assert "2025-26" in line
    assert "2024-25" not in line
    expected = "▁█" if values[0] < values[1] else "█▁" if values[0] > values[1] else "▄▄"
    assert expected in line


def test_a_missing_value_says_why(data_dir: Path) -> None:
    result = runner.invoke(app, ["indicators", "--level", "msoa", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    notes = {row["value_note"] for row in rows if row["value"] is None}
    assert None not in notes
    assert "suppressed: a count of 1-7, or a cell that would reveal one" in notes
    assert "not calculated: too few events" in notes
    assert all(row["value_note"] is None for row in rows if row["value"] is not None)
    table = runner.invoke(
        app, ["indicators", "--level", "msoa", "--indicator", "u75_mortality_cvd"]
    )
    assert "n/c" in table.stdout
    assert "n/c not calculated" in " ".join(table.stdout.split())


def test_place_codes_are_matched_whatever_their_case(data_dir: Path) -> None:
    args = ["indicators", "--place", "e08000009", "--indicator", "ld_health_checks", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert {row["place"] for row in json.loads(result.stdout)} == {"E08000009"}


def test_a_year_an_indicator_lacks_is_noted_when_others_are_shown(data_dir: Path) -> None:
    args = ["--indicator", "care_home_admissions_65plus", "--year", "2024", "--year", "2025"]
    result = runner.invoke(app, ["indicators", *args, "--json"])
    assert result.exit_code == 0, result.output
    assert {row["period"] for row in json.loads(result.stdout)} == {"2025-26"}
    assert "care_home_admissions_65plus has no data for 2024-25" in result.stderr


def test_list_as_csv_and_as_a_table_shows_sources(data_dir: Path) -> None:
    result = runner.invoke(app, ["indicators", "list", "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == [i.id for i in INDICATORS]
    assert all(r["source"] for r in rows)
    table = runner.invoke(app, ["indicators", "list"])
    assert "Source" in table.stdout


def test_list_describes_each_indicator(data_dir: Path) -> None:
    result = runner.invoke(app, ["indicators", "list", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [i["id"] for i in items] == [i.id for i in INDICATORS]
    for item in items:
        assert {"id", "name", "method", "polarity", "unit", "source"} <= set(item)


def test_gaps_of_one_borough(data_dir: Path) -> None:
    args = ["indicators", "gaps", "--place", "E08000009", "--indicator", "ae_attendances"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    measures = {r["measure"] for r in json.loads(result.stdout)}
    assert {"place_minus_england", "place_minus_region"} <= measures
    table = runner.invoke(app, args)
    assert "borough − region" in table.stdout


def test_gaps_json(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["indicators", "gaps", "--indicator", "bowel_screening_coverage", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["measure"] for r in rows} == {"region_minus_england", "q1_minus_q5", "sii", "rii"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--indicator", "nope"], "unknown indicator 'nope'; available:"),
        (["--level", "county"], "unknown geography level 'county'; available:"),
        (["--place", "E08999999"], "unknown place 'E08999999'"),
        (["--year", "2031"], "no data for period '2031'; periods available: 2024-25, 2025-26"),
        (["--year", "2025-27"], "no data for period '2025-27'"),
        (
            ["--indicator", "care_home_admissions_65plus", "--year", "2024"],
            "care_home_admissions_65plus has no data for 2024-25",
        ),
        (["--json", "--csv"], "choose one of --json and --csv"),
        (["--year", "abc"], "'abc' is not a financial year; give its first calendar year"),
        (
            ["--place", "E08000003", "--level", "msoa"],
            "place 'E08000003' is at level lad, not msoa; add --level lad",
        ),
        (["--pool", "5"], "--pool 5: expected 1 to 2 years, the model's years (2024-25, 2025-26)"),
        (["--pool", "0"], "--pool 0: expected 1 to 2 years"),
        (["--pool", "2", "--year", "2024"], "no 2-year period ends in 2024-25"),
    ],
)
def test_bad_requests_fail_cleanly_with_no_output(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["indicators", *args, "--json"] if "--json" not in args else ["indicators", *args]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in " ".join(result.stderr.split())


def test_without_a_warehouse_the_error_says_to_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["indicators"])
    assert result.exit_code == 5
    assert "carepool build" in result.stderr


def test_gaps_of_a_share_of_spend_say_why_there_are_none(data_dir: Path) -> None:
    result = runner.invoke(app, ["indicators", "gaps", "--indicator", "care_closer_to_home"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no gaps" in " ".join(result.stderr.split())


def test_commands_warn_when_loaded_and_synthetic_tables_are_mixed(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(small_warehouse, copy / "warehouse")
    manifest = json.loads((copy / "warehouse" / "manifest.json").read_text())
    manifest["loads"] = [{"table": "activity_cost", "source": "x.csv"}]
    (copy / "warehouse" / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(copy))
    for args in (["indicators", "--indicator", "ae_attendances", "--json"], ["info", "--json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "activity_cost holds a loaded extract" in " ".join(result.stderr.split())
        json.loads(result.stdout)


def test_a_sparkline_spans_a_places_values_and_marks_gaps() -> None:
    assert sparkline([1.0, 2.0, None, 8.0]) == "▁▂·█"
    assert sparkline([5.0, 5.0]) == "▄▄"
    assert sparkline([None, None]) == ""
