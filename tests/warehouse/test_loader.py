"""Loading a partner's extract: each kind of fault is found and located, and nothing loads."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from carepool.cli import app
from carepool.errors import ConfigError, LoadRejected
from carepool.population import BuildRequest, build
from carepool.population.generator import nhs_numbers
from carepool.warehouse.loader import KnownCodes, load_file, validate_file
from carepool.warehouse.schemas import TABLES


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "warehouse"
    build(BuildRequest(region="E08000009", scale=0.005, seed=5), path)
    return path


@pytest.fixture
def warehouse(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(built, copy)
    return copy


def _fingerprint(warehouse: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(warehouse.iterdir())}


def _export(warehouse: Path, table: str, path: Path, rows: int = 30) -> list[list[str]]:
    data = pq.read_table(warehouse / f"{table}.parquet").slice(0, rows)
    pacsv.write_csv(data, path, pacsv.WriteOptions(quoting_style="none"))
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _col(rows: list[list[str]], name: str) -> int:
    return rows[0].index(name)


RESIDENT_FAULTS = [
    # (column, bad value, expected words in the message)
    ("nhs_number", "9000000001", "check digit"),
    ("nhs_number", "12345", "not an NHS number"),
    ("nhs_number", "P:xyz", "not an NHS number"),
    ("sex", "unknown", "not one of: female, male"),
    ("date_of_birth", "2019-02-30", "not a date"),
    ("date_of_birth", "21/03/2019", "not a date"),
    ("lsoa21_code", "E02000001", "not an LSOA 2021 code"),
    ("lsoa21_code", "E01999999", "not an LSOA of this model"),
    ("lad_code", "E08000003", "not a known local authority"),
    ("lad_code", "", "is empty"),
    ("first_year", "2024-26", "not a financial year"),
    ("first_year", "2024/25", "not a financial year"),
    ("person_id", "12.5", "not a whole number"),
    ("person_id", "abc", "not a whole number"),
]


@pytest.mark.parametrize(("column", "value", "words"), RESIDENT_FAULTS)
def test_each_fault_is_reported_with_row_and_column_and_nothing_is_loaded(
    warehouse: Path, tmp_path: Path, column: str, value: str, words: str
) -> None:
    rows = _export(warehouse, "residents", tmp_path / "extract.csv")
    rows[3][_col(rows, column)] = value  # data row 3
    path = _write(tmp_path / "extract.csv", rows)
    before = _fingerprint(warehouse)
    with pytest.raises(LoadRejected) as caught:
        load_file("residents", path, warehouse)
    problems = caught.value.problems
    assert [(p.source, p.row, p.column) for p in problems] == [("extract.csv", 3, column)]
    assert words in problems[0].message
    assert caught.value.total == 1
    assert _fingerprint(warehouse) == before


def test_duplicate_keys_name_the_first_row(warehouse: Path, tmp_path: Path) -> None:
    rows = _export(warehouse, "residents", tmp_path / "dup.csv")
    rows[5][0] = rows[2][0]
    path = _write(tmp_path / "dup.csv", rows)
    table, problems, total = validate_file(
        TABLES["residents"], path, KnownCodes.from_warehouse(warehouse)
    )
    assert table is None
    assert total == 1
    assert problems[0].row == 5
    assert "duplicate key (person_id)" in problems[0].message
    assert "first at row 2" in problems[0].message


def test_pseudonymised_ids_are_accepted_where_the_schema_allows(
    warehouse: Path, tmp_path: Path
) -> None:
    rows = _export(warehouse, "residents", tmp_path / "pseudo.csv")
    rows[1][_col(rows, "nhs_number")] = "P:" + "ab" * 16
    result = load_file("residents", _write(tmp_path / "pseudo.csv", rows), warehouse)
    assert result.rows == len(rows) - 1


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("nhs_cost_pence", "-100", "negative; money"),
        ("nhs_cost_pence", "12.5", "not a whole number"),
        ("gp_appointments", "-1", "negative; a count"),
        ("died", "maybe", "not true or false"),
        ("death_cause", "boredom", "not one of"),
        ("asc_funding", "private", "not one of"),
    ],
)
def test_person_year_faults(
    warehouse: Path, tmp_path: Path, column: str, value: str, words: str
) -> None:
    rows = _export(warehouse, "person_year", tmp_path / "py.csv")
    rows[2][_col(rows, column)] = value
    path = _write(tmp_path / "py.csv", rows)
    with pytest.raises(LoadRejected) as caught:
        load_file("person_year", path, warehouse)
    assert caught.value.problems[0].row == 2
    assert caught.value.problems[0].column == column
    assert words in caught.value.problems[0].message


def test_unknown_payer_is_refused(warehouse: Path, tmp_path: Path) -> None:
    rows = _export(warehouse, "activity_cost", tmp_path / "ac.csv")
    rows[1][_col(rows, "payer_code")] = "E54000008"
    with pytest.raises(LoadRejected, match="1 problem"):
        load_file("activity_cost", _write(tmp_path / "ac.csv", rows), warehouse)


def test_missing_and_unexpected_columns(warehouse: Path, tmp_path: Path) -> None:
    rows = _export(warehouse, "residents", tmp_path / "cols.csv")
    drop = _col(rows, "sex")
    rows = [[*r[:drop], *r[drop + 1 :], "x"] for r in rows]
    rows[0][-1] = "favourite_colour"
    with pytest.raises(LoadRejected) as caught:
        load_file("residents", _write(tmp_path / "cols.csv", rows), warehouse)
    located = {(p.row, p.column) for p in caught.value.problems}
    assert (None, "sex") in located
    assert (None, "favourite_colour") in located


def test_at_most_fifty_problems_are_listed_but_all_are_counted(
    warehouse: Path, tmp_path: Path
) -> None:
    rows = _export(warehouse, "residents", tmp_path / "many.csv", rows=80)
    for r in rows[1:]:
        r[_col(rows, "sex")] = "?"
        r[_col(rows, "lsoa21_code")] = "nowhere"
    with pytest.raises(LoadRejected) as caught:
        load_file("residents", _write(tmp_path / "many.csv", rows), warehouse)
    assert len(caught.value.problems) == 50
    assert caught.value.total == 160
    assert [p.row for p in caught.value.problems[:4]] == [1, 1, 2, 2]  # file order


def test_unreadable_and_unsupported_files(warehouse: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(LoadRejected, match=r"broken\.parquet"):
        load_file("residents", broken, warehouse)
    text = tmp_path / "extract.xlsx"
    text.write_text("x")
    with pytest.raises(LoadRejected) as caught:
        load_file("residents", text, warehouse)
    assert "expected .csv or .parquet" in caught.value.problems[0].message
    with pytest.raises(LoadRejected, match="1 problem"):
        load_file("residents", tmp_path / "absent.csv", warehouse)


def test_only_loadable_tables_can_be_loaded(warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be loaded"):
        load_file("lsoa", tmp_path / "x.csv", warehouse)
    with pytest.raises(ConfigError, match="no warehouse table"):
        load_file("patients", tmp_path / "x.csv", warehouse)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_good_file_replaces_the_table_and_is_recorded(
    warehouse: Path, tmp_path: Path, kind: str
) -> None:
    source = pq.read_table(warehouse / "residents.parquet").slice(0, 25)
    path = tmp_path / f"good.{kind}"
    if kind == "csv":
        pacsv.write_csv(source, path)
    else:
        pq.write_table(source, path)
    result = load_file("residents", path, warehouse)
    assert result.rows == 25
    loaded = pq.read_table(warehouse / "residents.parquet")
    assert loaded.equals(source.cast(TABLES["residents"].arrow))
    manifest = json.loads((warehouse / "manifest.json").read_text())
    assert manifest["loads"][-1]["source"] == path.name
    assert manifest["loads"][-1]["rows"] == 25
    assert manifest["tables"]["residents"] == {"rows": 25, "source": path.name}


def test_parquet_with_typed_faults(warehouse: Path, tmp_path: Path) -> None:
    source = pq.read_table(warehouse / "person_year.parquet").slice(0, 10)
    bad = source.set_column(
        source.schema.get_field_index("gp_appointments"),
        "gp_appointments",
        pa.array([-3, *source.column("gp_appointments").to_pylist()[1:]], pa.int32()),
    )
    path = tmp_path / "typed.parquet"
    pq.write_table(bad, path)
    before = _fingerprint(warehouse)
    with pytest.raises(LoadRejected) as caught:
        load_file("person_year", path, warehouse)
    assert (caught.value.problems[0].row, caught.value.problems[0].column) == (1, "gp_appointments")
    assert _fingerprint(warehouse) == before


def test_cli_prints_every_problem_and_exits_4(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(warehouse.parent))
    rows = _export(warehouse, "residents", tmp_path / "cli.csv", rows=60)
    for r in rows[1:]:
        r[_col(rows, "sex")] = "x"
    result = CliRunner().invoke(app, ["load", "residents", str(_write(tmp_path / "cli.csv", rows))])
    assert result.exit_code == 4
    assert "cli.csv:row 1:sex: 'x' is not one of: female, male" in result.output
    assert "and 10 more problem(s)" in result.output
    assert "nothing was loaded" in result.output


@given(
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=1, max_value=9),
)
def test_valid_nhs_numbers_pass_and_any_single_digit_change_is_caught(
    n: int, position: int, shift: int
) -> None:
    import pandas as pd

    from carepool.warehouse.loader import _nhs_check_digit_ok

    number = str(nhs_numbers(n)[-1])
    assert _nhs_check_digit_ok(pd.Series([number])).all()
    digits = list(number)
    digits[position] = str((int(digits[position]) + shift) % 10)
    assert not _nhs_check_digit_ok(pd.Series(["".join(digits)])).any()


@pytest.mark.parametrize(
    ("table", "column", "value", "words"),
    [
        ("person_year", "nhs_cost_pence", "99999999999999999999", "not a whole number"),
        ("person_year", "age", "40000", "outside 0..120"),
        ("person_year", "imd_quintile", "9", "outside 1..5"),
        ("person_year", "cancer_stage", "7", "outside 1..4"),
        ("person_year", "days_alive", "999", "outside 0..366"),
        ("person_year", "nhs_cost_pence", "1e3", "not a whole number"),
        ("person_year", "year", "2030-31", "not a year of this model"),
        ("residents", "person_id", "-5", "outside 1.."),
        ("residents", "person_id", "9007199254740993", "duplicate"),  # exact: no float rounding
        ("residents", "nhs_number", "١٢٣٤٥٦٧٨٩٠", "not an NHS number"),
        ("residents", "first_year", "٢٠٢٤-٢٥", "not a financial year"),
        ("residents", "date_of_birth", "2099-01-01", "after the model's last year"),
        ("activity_cost", "service", "unicorn_rides", "not a costed service"),
    ],
)
def test_out_of_range_and_foreign_values_are_refused_not_corrupted(
    warehouse: Path, tmp_path: Path, table: str, column: str, value: str, words: str
) -> None:
    rows = _export(warehouse, table, tmp_path / "x.csv")
    rows[2][_col(rows, column)] = value
    if value == "9007199254740993":  # two ids a float would make equal
        rows[3][_col(rows, column)] = "9007199254740992"
        rows[2][_col(rows, column)] = rows[3][_col(rows, column)]
    before = _fingerprint(warehouse)
    with pytest.raises(LoadRejected) as caught:
        load_file(table, _write(tmp_path / "x.csv", rows), warehouse)
    assert any(words in p.message for p in caught.value.problems), caught.value.problems
    assert _fingerprint(warehouse) == before


def test_rows_must_agree_with_themselves_and_the_model(warehouse: Path, tmp_path: Path) -> None:
    rows = _export(warehouse, "person_year", tmp_path / "c.csv")
    rows[1][_col(rows, "died")] = "true"
    rows[1][_col(rows, "death_date")] = ""
    rows[2][_col(rows, "lad_code")] = "E08000001"  # a Trafford LSOA with Bolton's code
    with pytest.raises(LoadRejected) as caught:
        load_file("person_year", _write(tmp_path / "c.csv", rows), warehouse)
    messages = " | ".join(p.message for p in caught.value.problems)
    assert "died is true" in messages
    assert "not a known local authority" in messages or "not the local authority" in messages
    ac = _export(warehouse, "activity_cost", tmp_path / "a.csv")
    nhs = next(i for i, r in enumerate(ac) if i and r[_col(ac, "payer_kind")] == "nhs")
    ac[nhs][_col(ac, "payer_code")] = "SELF"
    with pytest.raises(LoadRejected, match="1 problem"):
        load_file("activity_cost", _write(tmp_path / "a.csv", ac), warehouse)


def test_a_file_with_no_rows_does_not_empty_the_table(warehouse: Path, tmp_path: Path) -> None:
    rows = _export(warehouse, "residents", tmp_path / "empty.csv")[:1]
    with pytest.raises(LoadRejected) as caught:
        load_file("residents", _write(tmp_path / "empty.csv", rows), warehouse)
    assert "no data rows" in caught.value.problems[0].message


def test_csv_cells_are_read_as_written(warehouse: Path, tmp_path: Path) -> None:
    """No type guessing before the checks: a leading zero is kept, an exponent is refused."""
    rows = _export(warehouse, "residents", tmp_path / "z.csv")
    rows[1][_col(rows, "nhs_number")] = "0123456788"
    with pytest.raises(LoadRejected) as caught:
        load_file("residents", _write(tmp_path / "z.csv", rows), warehouse)
    assert "0123456788" in caught.value.problems[0].message  # kept as written (bad check digit)
