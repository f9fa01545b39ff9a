"""End to end: the `carepool` command as a user runs it, at a small scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.warehouse import read_warehouse_table, table_path

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    return tmp_path


def test_demo_builds_when_needed_then_summarises_and_checks(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--region", "E08000009", "--scale", "0.02"])
    assert result.exit_code == 0, result.output
    assert "Building the model" in result.output
    assert "Trafford" in result.output
    assert "Model against published targets" in result.output
    assert (data_dir / "warehouse" / "manifest.json").is_file()
    assert "Pooled fund demo-2026-27-" in result.output
    assert "Decisions register" in result.output
    assert "verified; digest" in " ".join(result.output.split())
    # and where to invest in prevention, with each partner's fair share
    assert "Prevention appraisal" in result.output
    assert "The best prevention portfolio within" in result.output
    assert "fair share" in result.output
    # and it ends ten years ahead: each partner's gap under the baseline and a reform
    ending = " ".join(result.output.split()[-400:])
    assert "Ten years ahead: each partner's gap" in ending
    assert "Trafford Council" in ending
    assert "cap-on-care-costs" in ending
    assert "carepool project backcast" in ending or "project backcast" in ending

    again = runner.invoke(app, ["demo", "--region", "E08000009", "--scale", "0.02"])
    assert again.exit_code == 0, again.output
    assert "Using the model already" in again.output
    assert "Gaps" in again.output  # the headline outcomes and gaps follow the checks
    assert "were already posted, so the ledger replayed them" in " ".join(again.output.split())

    # asked for nothing, demo uses the model that is there (at its scale) and says which
    plain = runner.invoke(app, ["demo"])
    assert plain.exit_code == 0, plain.output
    assert "Building" not in plain.output
    assert "Using the model already in" in plain.output
    assert "Trafford, scale 0.02, seed 42" in " ".join(plain.output.split())

    # a model built by another carepool version (or from other reference data) is rebuilt
    path = data_dir / "warehouse" / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "carepool_version": "0.0.1"}))
    upgraded = runner.invoke(app, ["demo", "--region", "E08000009", "--scale", "0.02"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "changed since the model was built" in upgraded.output
    assert "Building the model" in upgraded.output


def test_info_json_is_the_documented_contract(data_dir: Path) -> None:
    built = runner.invoke(
        app, ["build", "--region", "E08000003,E08000009", "--scale", "0.02", "--seed", "3"]
    )
    assert built.exit_code == 0, built.output
    result = runner.invoke(app, ["info", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["region"] == "E08000003,E08000009"
    assert info["scale"] == 0.02
    assert info["seed"] == 3
    assert isinstance(info["residents"], int)
    # Manchester has 295 and Trafford 139 LSOAs (2021)
    assert info["places"] == {"lad": 2, "msoa": info["places"]["msoa"], "lsoa": 434}
    assert [row["code"] for row in info["by_lad"]] == ["E08000003", "E08000009"]
    assert sum(row["residents"] for row in info["by_lad"]) == info["residents"]
    for row in info["by_lad"]:
        assert set(row) >= {"code", "name", "residents", "cost_pence"}
        assert isinstance(row["cost_pence"], int)
        assert row["cost_pence"] > 0


def test_validate_json_lists_checks(data_dir: Path) -> None:
    runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.05"])
    result = runner.invoke(app, ["validate", "--json"])
    checks = json.loads(result.stdout)
    assert checks, "no checks"
    for check in checks:
        assert set(check) >= {"check", "model", "target", "tolerance", "ok"}
        assert "recalled" not in check["source"], check["check"]
        if check["model"] is None:  # too few people at this scale: no estimate, no error
            assert check["sampling_se"] is None
            continue
        # the pass band: the structural tolerance plus 1.96 of the model's sampling errors
        assert check["sampling_se"] is not None, check["check"]
        assert check["sampling_se"] > 0, check["check"]
        band = check["structural"] + 1.959964 * check["sampling_se"]
        assert check["tolerance"] == pytest.approx(band, abs=2e-3), check["check"]
    assert result.exit_code == (0 if all(c["ok"] for c in checks) else 1)


def test_missing_warehouse_is_a_clear_error(data_dir: Path) -> None:
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 5
    assert "no warehouse" in result.output
    assert "Traceback" not in result.output


def test_bad_region_is_a_usage_error(data_dir: Path) -> None:
    result = runner.invoke(app, ["build", "--region", "E08999999", "--scale", "0.01"])
    assert result.exit_code == 2
    assert "E08999999" in result.output


def test_data_sources_lists_every_vendored_file(data_dir: Path) -> None:
    result = runner.invoke(app, ["data", "sources", "--json"])
    assert result.exit_code == 0
    sources = json.loads(result.stdout)
    assert {s["licence"] for s in sources} == {"OGL-UK-3.0"}
    assert any("Census 2021" in s["title"] for s in sources)
    for source in sources:
        assert source["publisher"]
        assert source["vintage"]


def test_demo_never_overwrites_loaded_extracts(data_dir: Path) -> None:
    import pyarrow.parquet as pq

    assert runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.01"]).exit_code == 0
    warehouse = data_dir / "warehouse"
    extract = data_dir / "residents.parquet"
    pq.write_table(read_warehouse_table(warehouse, "residents").slice(0, 10), extract)
    assert runner.invoke(app, ["load", "residents", str(extract)]).exit_code == 0
    loaded = table_path(warehouse, "residents").read_bytes()

    same = runner.invoke(app, ["demo", "--region", "E08000009", "--scale", "0.01"])
    assert same.exit_code == 0, same.output
    assert "Using the model already" in same.output
    other = runner.invoke(app, ["demo", "--region", "E08000009", "--scale", "0.02"])
    assert other.exit_code == 2
    assert "will not overwrite" in other.output
    assert table_path(warehouse, "residents").read_bytes() == loaded


def test_schema_describes_the_loading_rules(data_dir: Path) -> None:
    result = runner.invoke(app, ["schema", "residents", "--json"])
    assert result.exit_code == 0, result.output
    (spec,) = json.loads(result.stdout)
    rules = {c["name"]: c["rule"] for c in spec["columns"]}
    assert spec["key"] == ["person_id"]
    assert "pseudonym" in rules["nhs_number"]
    assert rules["sex"] == "one of: female, male"
    assert runner.invoke(app, ["schema"]).exit_code == 0
    assert runner.invoke(app, ["schema", "patients"]).exit_code == 2


def test_errors_keep_their_brackets(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from carepool.warehouse import connection as engine

    assert runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.01"]).exit_code == 0
    monkeypatch.setenv("CAREPOOL_ENGINE", "spark")
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    monkeypatch.setattr(engine, "spark_session", engine.spark_session.__wrapped__)
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 2
    assert "carepool[spark]" in result.output
    assert "Traceback" not in result.output


def test_build_refuses_to_replace_loaded_extracts_without_force(data_dir: Path) -> None:
    import pyarrow.parquet as pq

    assert runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.01"]).exit_code == 0
    warehouse = data_dir / "warehouse"
    extract = data_dir / "residents.parquet"
    pq.write_table(read_warehouse_table(warehouse, "residents").slice(0, 10), extract)
    assert runner.invoke(app, ["load", "residents", str(extract)]).exit_code == 0
    refused = runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.01"])
    assert refused.exit_code == 2
    assert "--force" in refused.output
    forced = runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.01", "--force"])
    assert forced.exit_code == 0, forced.output


def test_a_damaged_manifest_is_a_clear_error(data_dir: Path) -> None:
    (data_dir / "warehouse").mkdir()
    (data_dir / "warehouse" / "manifest.json").write_text("{}")
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 5
    assert "missing region" in result.output
    assert "Traceback" not in result.output


def test_what_users_type_is_printed_as_written(data_dir: Path) -> None:
    """Place codes and a file's column names are echoed as typed: Rich markup and emoji
    shortcodes in them are not rendered, control characters are escaped."""
    assert runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.01"]).exit_code == 0
    place = runner.invoke(app, ["indicators", "--place", ":ok: [bold]x[/bold]\x1b[2J"])
    assert place.exit_code == 2
    assert ":ok: [bold]x[/bold]\\x1b[2J" in place.output
    assert "\x1b" not in place.output
    bad = data_dir / "bad.csv"
    bad.write_text(":a:,[red]b[/red]\n1,2\n", encoding="utf-8")
    loaded = runner.invoke(app, ["load", "residents", str(bad)])
    assert loaded.exit_code != 0
    assert ":a:" in loaded.output
    assert "[red]b[/red]" in loaded.output


def _everything_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.exists() else set()


def test_read_only_commands_create_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a data folder that does not exist, commands that only read refuse and leave no
    folder or empty database behind."""
    data = tmp_path / "nowhere"
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(data))
    monkeypatch.delenv("CAREPOOL_DATABASE_URL", raising=False)
    for words in (
        ["ledger", "verify"],
        ["ledger", "position"],
        ["ledger", "decisions"],
        ["ledger", "journal"],
        ["ledger", "users"],
        ["ledger", "contribute", "--partner", "ICB", "--amount", "5", "--user", "x"],
        ["info"],
        ["indicators"],
    ):
        result = runner.invoke(app, words)
        assert result.exit_code != 0, words
        assert "Traceback" not in result.output
        assert not data.exists(), f"carepool {' '.join(words)} created {_everything_under(data)}"
    refused = runner.invoke(app, ["ledger", "verify"])
    assert "carepool ledger init" in " ".join(refused.output.split())


def test_a_chart_into_a_missing_folder_is_refused_before_any_work(data_dir: Path) -> None:
    assert runner.invoke(app, ["build", "--region", "E08000009", "--scale", "0.01"]).exit_code == 0
    missing = data_dir / "no" / "such" / "folder" / "x.html"
    for words in (
        ["allocate", "explain", "E08000009", "--chart", str(missing)],
        ["allocate", "sensitivity", "E08000009", "--chart", str(missing)],
        ["ledger", "monitor", "--chart", str(missing)],
        ["ledger", "export", "--out", str(missing)],
    ):
        result = runner.invoke(app, words)
        assert result.exit_code == 2, (words, result.output)
        assert "there is no folder" in " ".join(result.output.split()), result.output
        assert not (data_dir / "no").exists()
    folder = runner.invoke(app, ["allocate", "explain", "E08000009", "--chart", str(data_dir)])
    assert folder.exit_code == 2
    assert "is a folder" in folder.output


def test_version(data_dir: Path) -> None:
    from carepool import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"carepool {__version__}"


def test_money_is_written_as_people_write_it() -> None:
    from carepool.cli.support import gbp, money

    assert money(123_456) == "£1,235"
    assert money(-123_456) == "\u2212£1,235"
    assert money(-40) == "£0"  # no sign on what rounds to nothing
    assert gbp(-1_500_000 / 1e6, 2, "m") == "\u2212£1.50m"


def test_a_change_that_rounds_to_nothing_has_no_sign() -> None:
    from carepool.cli.fund_tables import _pct

    assert _pct(-0.0001) == "0.0%"
    assert _pct(0.0123) == "+1.2%"
    assert _pct(-0.0123) == "-1.2%"
    assert _pct(None) == ""


def test_demo_ledger_budgets_are_the_allocation(data_dir: Path) -> None:
    """Each borough's budget lines in the demo's fund add up to exactly what `carepool
    allocate` gives the borough: one allocation, one set of figures."""
    region = ["--region", "E08000001,E08000003,E08000009", "--scale", "0.01"]
    demo = runner.invoke(app, ["demo", *region])
    assert demo.exit_code == 0, demo.output
    allocated = runner.invoke(app, ["allocate", "--json"])
    assert allocated.exit_code == 0, allocated.output
    position = runner.invoke(app, ["ledger", "position", "--user", "resident", "--json"])
    assert position.exit_code == 0, position.output
    budgets: dict[str, int] = {}
    for line in json.loads(position.stdout)["lines"]:
        budgets[line["place"]] = budgets.get(line["place"], 0) + line["budget_pence"]
    places = json.loads(allocated.stdout)
    assert len(places) == 3
    assert budgets == {p["place"]: p["allocation"] * 100 for p in places}
    # the prevention portfolio's lines are funded by virements the board approved
    lines = json.loads(position.stdout)["lines"]
    prevention = [line for line in lines if line["service"] == "prevention"]
    decided = runner.invoke(app, ["ledger", "decisions", "--user", "resident", "--json"])
    assert decided.exit_code == 0, decided.output
    approved = {
        row["subject"].split(" to ")[-1]
        for row in json.loads(decided.stdout)
        if row["status"] == "approved" and row["reasons"].startswith("the prevention portfolio")
    }
    assert approved == {line["line"] for line in prevention}
    assert all(line["budget_pence"] > 0 for line in prevention)


@pytest.mark.parametrize("command", ["build", "demo"])
def test_a_region_without_vendored_data_is_refused_before_any_work(
    data_dir: Path, command: str
) -> None:
    """A council code no lookup knows (every English council's census is vendored): refused
    at once, nothing written, not after the first step has run."""
    result = runner.invoke(app, [command, "--region", "E06999999", "--scale", "0.01"])
    assert result.exit_code == 2, result.output
    assert "no 2021 LSOAs are vendored for E06999999" in " ".join(result.output.split())
    assert "Built" not in result.output
    assert not (data_dir / "warehouse").exists()


def test_demo_fills_the_options_not_given_from_the_model_built(data_dir: Path) -> None:
    """Only --scale given: the region and seed are the built model's, not the defaults, so
    the model is not replaced by a different one."""
    from carepool.model import demo_request
    from carepool.warehouse import write_manifest

    warehouse = data_dir / "warehouse"
    write_manifest(
        warehouse,
        {
            "region": "E08000009",
            "region_name": "Trafford",
            "lad_codes": ["E08000009"],
            "scale": 0.01,
            "seed": 7,
            "years": ["2024-25", "2025-26", "2026-27"],
            "places": {},
            "tables": {},
        },
    )
    request, using = demo_request(warehouse, None, 0.01, None)
    assert (request.region, request.scale, request.seed, request.years) == (
        "E08000009",
        0.01,
        7,
        3,
    )
    assert using is not None
    assert "Trafford, scale 0.01, seed 7" in using
    request, _ = demo_request(warehouse, None, None, 8)
    assert (request.region, request.scale, request.seed) == ("E08000009", 0.01, 8)
    request, using = demo_request(data_dir / "nothing-here", None, 0.5, None)
    assert (request.region, request.scale, request.seed, using) == ("gm", 0.5, 42, None)
