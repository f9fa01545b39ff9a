"""`carepool allocate` as a user runs it, on the small model built once per session."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carepool.cli import app

runner = CliRunner()
CONTRACT = ["place", "name", "population", "target_share", "baseline", "allocation", "per_head"]


@pytest.fixture
def data_dir(small_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    return small_warehouse.parent


def _rows(*args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["allocate", *args, "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_json_rows_carry_the_contract_and_sum_to_the_total(data_dir: Path) -> None:
    rows = _rows("--total", "6000000000", "--year", "2026-27")
    assert {r["place"] for r in rows} == {"E08000003", "E08000009"}
    for row in rows:
        assert set(CONTRACT) <= set(row)
        assert row["baseline"] is None
        assert isinstance(row["allocation"], int)
        assert isinstance(row["per_head"], float)
    assert sum(int(r["allocation"]) for r in rows) == 6_000_000_000  # type: ignore[call-overload]


def test_neighbourhoods_as_csv(data_dir: Path) -> None:
    result = runner.invoke(app, ["allocate", "--total", "1000001", "--level", "msoa", "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert all(r["place"].startswith("E02") for r in rows)
    assert sum(int(r["allocation"]) for r in rows) == 1_000_001


def test_a_baseline_moves_allocations_at_the_pace_set(data_dir: Path, tmp_path: Path) -> None:
    first = _rows("--total", "1000000000")
    baseline = tmp_path / "last_year.csv"
    baseline.write_text(
        "place,allocation\n"
        + "".join(f"{r['place']},{int(r['allocation']) * 0.9:.2f}\n" for r in first)  # type: ignore[call-overload]
    )
    rows = _rows("--total", "1000000000", "--baseline", str(baseline), "--min-growth", "0.02")
    assert sum(int(r["allocation"]) for r in rows) == 1_000_000_000  # type: ignore[call-overload]
    for row in rows:
        assert row["baseline"] is not None
        assert int(row["allocation"]) >= float(row["baseline"]) * 1.02  # type: ignore[call-overload, arg-type]


def test_explain_walks_from_equal_per_head_to_the_allocation(
    data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "charts").mkdir()
    chart = tmp_path / "charts" / "manchester.html"
    result = runner.invoke(
        app, ["allocate", "explain", "E08000003", "--json", "--chart", str(chart)]
    )
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)
    steps = explained["steps"]
    assert next(s["step"] for s in steps) == "equal_per_head"
    assert sum(s["change"] for s in steps) == explained["summary"]["allocation"]
    assert explained["metadata"]["formula"]["id"] == "carepool-default"
    assert len(explained["components"]) == 6
    html = chart.read_text()
    assert "plotly" in html
    assert "waterfall" in html
    table = runner.invoke(app, ["allocate", "explain", "E08000003"])
    assert table.exit_code == 0, table.output
    assert "Additional need" in table.stdout
    assert "Components of the target" in table.stdout


def test_sensitivity_of_one_place_with_a_tornado(data_dir: Path, tmp_path: Path) -> None:
    chart = tmp_path / "tornado.html"
    result = runner.invoke(
        app, ["allocate", "sensitivity", "E08000009", "--json", "--chart", str(chart)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["place"] for r in rows} == {"E08000009"}
    assert "share:acute" in {r["parameter"] for r in rows}
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    assert chart.stat().st_size > 0
    table = runner.invoke(app, ["allocate", "sensitivity", "--total", "1000000"])
    assert table.exit_code == 0, table.output
    assert "Trafford" in table.stdout
    assert "Manchester" in table.stdout


def test_the_default_formula_can_be_printed_and_reloaded(data_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["allocate", "formula"])
    assert result.exit_code == 0, result.output
    assert tomllib.loads(result.stdout)["formula"]["id"] == "carepool-default"
    mine = tmp_path / "mine.toml"
    mine.write_text(result.stdout.replace('version = "2026.1"', 'version = "mine-1"'))
    check = runner.invoke(app, ["allocate", "formula", "--formula", str(mine)])
    assert check.exit_code == 0, check.output
    assert "mine-1 is valid" in check.stdout
    rows = _rows("--formula", str(mine))
    assert len(rows) == 2


def _formula_with(tmp_path: Path, old: str, new: str) -> Path:
    text = runner.invoke(app, ["allocate", "formula"]).stdout
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--total", "0"], "--total must be a positive number of pounds"),
        (["--total", "-5"], "--total must be a positive number of pounds"),
        (["--total", "1" + "0" * 22], "--total must be at most £10,000,000,000,000"),
        (["--year", "2026"], "year '2026': expected a financial year such as 2026-27"),
        (["--level", "county"], "unknown geography level 'county'"),
        (["--convergence", "2"], "--convergence must be a number from 0 to 1, got 2"),
        (["--min-growth", "5"], "--min-growth must be a number from -0.5 to 1, got 5"),
        (["--max-below-target", "-1"], "--max-below-target must be a number from 0 to 1"),
    ],
)
def test_bad_options_are_refused_clearly(
    data_dir: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    chart = tmp_path / "never.html"
    result = runner.invoke(app, ["allocate", "explain", "E08000003", *args, "--chart", str(chart)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not chart.exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("share = 0.57", "share = 0.6", "shares must sum to 1"),
        ('variable = "health_score"', 'variable = "happiness"', "unknown variable 'happiness'"),
        ('id = "acute"', 'id = "acute"\ncolour = "red"', "unknown key 'colour'"),
    ],
)
def test_a_bad_formula_is_refused_clearly(
    data_dir: Path, tmp_path: Path, old: str, new: str, message: str
) -> None:
    bad = _formula_with(tmp_path, old, new)
    result = runner.invoke(app, ["allocate", "--formula", str(bad), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(bad) in " ".join(result.output.split())
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("place,allocation\nE08000003,100\n", "missing 1 place(s): E08000009"),
        (
            "place,allocation\nE08000003,100\nE08000009,100\nE08000001,5\n",
            "names 1 place(s) not at this level: E08000001",
        ),
        ("place,allocation\nE08000003,lots\nE08000009,100\n", "row 1: allocation: expected pounds"),
    ],
)
def test_a_bad_baseline_is_refused_clearly(
    data_dir: Path, tmp_path: Path, text: str, message: str
) -> None:
    baseline = tmp_path / "baseline.csv"
    baseline.write_text(text)
    result = runner.invoke(app, ["allocate", "--baseline", str(baseline), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in " ".join(result.output.split())


def test_explain_finds_the_level_of_a_neighbourhood_code(data_dir: Path) -> None:
    msoa = _rows("--level", "msoa")[0]["place"]
    result = runner.invoke(app, ["allocate", "explain", str(msoa), "--json"])
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)
    assert explained["level"] == "msoa"
    assert explained["metadata"]["places"] > 2
