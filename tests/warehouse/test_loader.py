"""Loading a partner's extract: every kind of fault is found, located and explained, and a
rejected file changes nothing in the warehouse."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.errors import ConfigError, LoadProblem, LoadRejected, WarehouseError
from carepool.warehouse import read_warehouse_table, table_path, write_manifest, write_table
from carepool.warehouse.loading import (
    KnownCodes,
    LoadResult,
    load_file,
    nhs_number_check_digit,
    valid_nhs_numbers,
    validate_file,
)
from carepool.warehouse.schemas import TABLES, Column, Kind, TableSchema
from carepool.years import is_financial_year
from tests.warehouse.conftest import GM_ICB, MANCHESTER, TRAFFORD, lsoa_table

LSOAS = {"E01005001": MANCHESTER, "E01005002": MANCHESTER, "E01006001": TRAFFORD}
YEARS = ["2024-25", "2025-26"]
SERVICES = [f"service-{i}" for i in range(100)]
MANIFEST: dict[str, Any] = {
    "region": "test",
    "lad_codes": [MANCHESTER, TRAFFORD],
    "scale": 1.0,
    "seed": 1,
    "years": YEARS,
    "places": {"lsoa": 3},
    "tables": {"residents": {"rows": 4, "source": "synthetic"}},
    "loads": [],
}
Row = dict[str, Any]


# --- a tiny warehouse, and valid rows for any table -----------------------------------------


def nhs_number(seed: int) -> str:
    """A valid NHS number derived from ``seed`` (skipping stems with no valid check digit)."""
    stem = 400_000_000 + seed * 7
    while (check := nhs_number_check_digit(f"{stem:09d}")) is None:
        stem += 1
    return f"{stem:09d}{check}"


def valid_value(column: Column, i: int) -> Any:
    """A value that passes every check for ``column``, distinct per row where it is a key."""
    lsoa = sorted(LSOAS)[i % len(LSOAS)]
    by_kind: dict[Kind, Any] = {
        Kind.LSOA: lsoa,
        Kind.LAD: LSOAS[lsoa],
        Kind.PAYER: GM_ICB,
        Kind.NHS_NUMBER: nhs_number(i),
        Kind.MONEY: 125 * i,
        Kind.CATEGORY: column.categories[i % len(column.categories)] if column.categories else "",
        Kind.DATE: dt.date(1950, 1, 1) + dt.timedelta(days=97 * i),
        Kind.YEAR: YEARS[0],
    }
    if column.kind in by_kind:
        return by_kind[column.kind]
    if column.name == "service":
        return SERVICES[i]
    if pa.types.is_integer(column.type):
        low = column.minimum if column.minimum is not None else 0
        high = column.maximum if column.maximum is not None else 1_000
        return i + 1 if column.name == "person_id" else low + i % (high - low + 1)
    if pa.types.is_boolean(column.type):
        return i % 2 == 0
    if pa.types.is_floating(column.type):
        return i / 4
    return f"{column.name}-{i}"


def valid_rows(schema: TableSchema, n: int) -> list[Row]:
    """Rows that pass every check, the cross-column ones included."""
    rows = [{c.name: valid_value(c, i) for c in schema.columns} for i in range(n)]
    for row in rows:
        if "died" in row:  # a death has a date, and only a death does
            row["death_date"] = dt.date(2025, 1, 31) if row["died"] else None
        if "payer_code" in row:  # the payer code fits the payer kind
            payer = {"nhs": GM_ICB, "council": row["lad_code"], "self": "SELF"}
            row["payer_code"] = payer[row["payer_kind"]]
    return rows


def text(value: Any) -> str:
    """A value as a partner's CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(path: Path, rows: list[Row], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([[text(row.get(name)) for name in header] for row in rows])
    return path


def write_parquet(
    path: Path, schema: TableSchema, rows: list[Row], types: dict[str, pa.DataType] | None = None
) -> Path:
    """Rows as a typed Parquet file; ``types`` overrides a column's Arrow type (its values are
    then converted: to text, float or timestamp)."""
    types = types or {}
    arrays = {}
    for name in rows[0]:
        values = [row[name] for row in rows]
        declared = schema.column(name).type if name in schema.names else pa.string()
        kind = types.get(name, declared)
        if kind != declared and pa.types.is_string(kind):
            values = [None if v is None else text(v) for v in values]
        elif kind != declared and pa.types.is_floating(kind):
            values = [None if v is None else float(v) for v in values]
        elif kind != declared and pa.types.is_timestamp(kind):
            values = [
                v if isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)
                for v in values
            ]
        arrays[name] = pa.array(values, kind)
    pq.write_table(pa.table(arrays), path)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse of three LSOAs in Manchester and Trafford, a hundred costed services, and
    each loadable table (residents 1 to 100, whom person-year files may refer to)."""
    path = tmp_path / "warehouse"
    write_table(path, "lsoa", lsoa_table([(code, lad, GM_ICB) for code, lad in LSOAS.items()]))
    services = valid_rows(TABLES["services"], len(SERVICES))
    write_table(path, "services", pa.Table.from_pylist(services))
    for name, n in (("residents", 100), ("person_year", 4), ("activity_cost", 4)):
        write_table(path, name, pa.Table.from_pylist(valid_rows(TABLES[name], n)))
    write_manifest(path, MANIFEST)
    return path


def reject(table: str, path: Path, warehouse: Path) -> LoadRejected:
    """Load ``path``, expecting a rejection that leaves every byte of the warehouse as it was."""
    before = snapshot(warehouse)
    with pytest.raises(LoadRejected) as caught:
        load_file(table, path, warehouse)
    assert snapshot(warehouse) == before
    return caught.value


def test_the_valid_rows_are_valid(warehouse: Path, tmp_path: Path) -> None:
    """The fixture the fault tests perturb passes as it is."""
    for name in ("residents", "person_year", "activity_cost"):
        rows = valid_rows(TABLES[name], 12)
        load_file(name, write_csv(tmp_path / f"{name}.csv", rows), warehouse)


# --- one test per kind of fault, in CSV and in Parquet ---------------------------------------


@dataclass(frozen=True)
class Fault:
    """One bad cell, put in data row 3 of an otherwise valid file."""

    id: str
    table: str
    column: str
    value: Any
    message: str
    #: the Arrow type of the column in the Parquet file, when the value needs another one
    parquet_type: pa.DataType | None = None
    #: the value and message in Parquet, where they differ from CSV
    parquet_value: Any = ...
    parquet_message: str | None = None


_NOT_AN_INTEGER = "is not an integer (expected an integer, e.g. 42)"
_NOT_A_DATE = "is not a date (expected YYYY-MM-DD, e.g. 2024-04-01)"
_NOT_A_YEAR = "is not a financial year (expected YYYY-YY with consecutive years, e.g. 2024-25)"
_PSEUDONYM = "or a pseudonym: P: and 16 to 64 lowercase hex digits"

FAULTS = [
    Fault(
        "not-an-integer",
        "residents",
        "person_id",
        "12.5",
        f"'12.5' {_NOT_AN_INTEGER}",
        parquet_type=pa.float64(),
        parquet_value=12.5,
    ),
    Fault(
        "integer-text",
        "residents",
        "person_id",
        "three",
        f"'three' {_NOT_AN_INTEGER}",
        parquet_type=pa.string(),
    ),
    Fault("integer-exponent", "activity_cost", "activity", "1e3", f"'1e3' {_NOT_AN_INTEGER}"),
    Fault("integer-hex", "activity_cost", "activity", "0x10", f"'0x10' {_NOT_AN_INTEGER}"),
    Fault(
        "integer-beyond-its-type",
        "person_year",
        "age",
        40000,
        "40000 is out of range (expected an integer from 0 to 120)",
        parquet_type=pa.int64(),
    ),
    Fault(
        "person-not-a-resident",
        "person_year",
        "person_id",
        999,
        "999 is not a resident (expected a person_id of the residents table; load residents first)",
    ),
    Fault(
        "integer-beyond-its-bounds",
        "person_year",
        "imd_quintile",
        9,
        "9 is out of range (expected an integer from 1 to 5)",
    ),
    Fault(
        "integer-below-its-bounds",
        "residents",
        "person_id",
        0,
        "0 is out of range (expected an integer from 1 to 9,223,372,036,854,775,807)",
    ),
    Fault(
        "not-a-boolean",
        "person_year",
        "died",
        "maybe",
        "'maybe' is not true or false (expected true, false, 1 or 0)",
        parquet_type=pa.string(),
    ),
    Fault(
        "impossible-date",
        "residents",
        "date_of_birth",
        "2019-02-30",
        f"'2019-02-30' {_NOT_A_DATE}",
        parquet_type=pa.string(),
    ),
    Fault(
        "date-not-iso",
        "residents",
        "date_of_birth",
        "21/03/2019",
        f"'21/03/2019' {_NOT_A_DATE}",
        parquet_type=pa.timestamp("s"),
        parquet_value=dt.datetime(2019, 3, 21, 13, 30),
        parquet_message="2019-03-21 13:30:00 has a time of day (expected a date, YYYY-MM-DD)",
    ),
    Fault(
        "date-after-the-model",
        "residents",
        "date_of_birth",
        dt.date(2099, 1, 1),
        "2099-01-01 is after the model's last year, which ends 2026-03-31",
    ),
    Fault("missing-value", "residents", "sex", None, "is missing; a value is required"),
    Fault("blank-value", "residents", "lad_code", "   ", "is missing; a value is required"),
    Fault(
        "lsoa-format",
        "residents",
        "lsoa21_code",
        "E02000001",
        "'E02000001' is not an LSOA code (expected E01 and 6 digits, e.g. E01005123)",
    ),
    Fault(
        "lsoa-unknown",
        "activity_cost",
        "lsoa21_code",
        "E01999999",
        "'E01999999' is not an LSOA of this model's geography "
        "(expected one of: E01005001, E01005002, E01006001)",
    ),
    Fault(
        "lad-unknown",
        "residents",
        "lad_code",
        "E08000001",
        "'E08000001' is not a local authority of this model "
        "(expected one of: E08000003, E08000009)",
    ),
    Fault(
        "lad-not-the-lsoas",
        "person_year",
        "lad_code",
        MANCHESTER,  # row 3's LSOA, E01006001, is in Trafford
        "'E08000003' is not the local authority of E01006001 (expected E08000009)",
    ),
    Fault(
        "lad-not-the-lsoas-beside-payers",  # the payer rules' own words do not leak into it
        "activity_cost",
        "lad_code",
        MANCHESTER,
        "'E08000003' is not the local authority of E01006001 (expected E08000009)",
    ),
    Fault(
        "payer-unknown",
        "activity_cost",
        "payer_code",
        "E54000008",
        "'E54000008' is not a paying partner of this model "
        "(expected SELF, or one of: E08000003, E08000009, E54000057)",
    ),
    Fault(
        "payer-of-another-kind",
        "activity_cost",
        "payer_code",
        GM_ICB,  # row 3 is payer_kind 'self'
        "'E54000057' cannot pay for payer_kind 'self' (expected SELF)",
    ),
    Fault(
        "service-unknown",
        "activity_cost",
        "service",
        "unicorn_rides",
        "'unicorn_rides' is not a costed service "
        "(expected one of the 100 services in the services table)",
    ),
    Fault(
        "nhs-number-check-digit",
        "residents",
        "nhs_number",
        "9434765918",
        "'9434765918' is not a valid NHS number: its check digit (modulus 11) is wrong",
    ),
    Fault(
        "nhs-number-format",
        "residents",
        "nhs_number",
        "943 476 5919",
        f"'943 476 5919' is not an NHS number (expected 10 digits, no spaces, {_PSEUDONYM})",
    ),
    Fault(
        "nhs-number-unicode-digits",
        "residents",
        "nhs_number",
        "٩٤٣٤٧٦٥٩١٩",
        f"'٩٤٣٤٧٦٥٩١٩' is not an NHS number (expected 10 digits, no spaces, {_PSEUDONYM})",
    ),
    Fault(
        "pseudonym-format",
        "residents",
        "nhs_number",
        "P:ABCDEF0123456789",
        f"'P:ABCDEF0123456789' is not an NHS number (expected 10 digits, no spaces, {_PSEUDONYM})",
    ),
    Fault(
        "money-negative",
        "activity_cost",
        "cost_pence",
        -100,
        "-100 is negative (expected pence, 0 or more)",
    ),
    Fault(
        "money-not-whole-pence",
        "activity_cost",
        "cost_pence",
        "12.50",
        "'12.50' is not an integer (expected whole pence, e.g. 1250 for £12.50)",
        parquet_type=pa.string(),
    ),
    Fault(
        "count-negative",
        "person_year",
        "gp_appointments",
        -1,
        "-1 is negative (expected a count, 0 or more)",
    ),
    Fault(
        "category-unknown",
        "residents",
        "sex",
        "unknown",
        "'unknown' is not one of: female, male",
    ),
    Fault(
        "nullable-category-unknown",
        "person_year",
        "death_cause",
        "boredom",
        "'boredom' is not one of: cancer, circulatory, respiratory, dementia, external, other",
    ),
    Fault(
        "death-without-a-date",
        "person_year",
        "death_date",
        None,  # row 3 died
        "is missing but died is true (expected the date of death)",
    ),
    Fault("year-not-consecutive", "residents", "first_year", "2024-26", f"'2024-26' {_NOT_A_YEAR}"),
    Fault("year-format", "activity_cost", "year", "2024/25", f"'2024/25' {_NOT_A_YEAR}"),
    Fault(
        "year-not-the-models",
        "person_year",
        "year",
        "2030-31",
        "'2030-31' is not a year of this model (expected one of: 2024-25, 2025-26)",
    ),
]


@pytest.mark.parametrize("file_type", ["csv", "parquet"])
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_each_fault_is_located_explained_and_nothing_is_loaded(
    warehouse: Path, tmp_path: Path, fault: Fault, file_type: str
) -> None:
    schema = TABLES[fault.table]
    rows = valid_rows(schema, 5)
    message = fault.message
    if file_type == "csv":
        rows[2][fault.column] = fault.value
        path = write_csv(tmp_path / "extract.csv", rows)
    else:
        rows[2][fault.column] = fault.value if fault.parquet_value is ... else fault.parquet_value
        types = {fault.column: fault.parquet_type} if fault.parquet_type else {}
        if fault.parquet_type is None and isinstance(fault.value, str):
            types = {fault.column: pa.string()}  # a text fault in a typed column
        path = write_parquet(tmp_path / "extract.parquet", schema, rows, types)
        message = fault.parquet_message or message
    rejected = reject(fault.table, path, warehouse)
    assert rejected.problems == [LoadProblem(path.name, 3, fault.column, message)]
    assert rejected.total == 1
    assert rejected.source == path.name


def test_a_date_of_death_without_a_death(warehouse: Path, tmp_path: Path) -> None:
    rows = valid_rows(TABLES["person_year"], 3)
    rows[1]["death_date"] = dt.date(2024, 6, 1)  # row 2 did not die
    rejected = reject("person_year", write_csv(tmp_path / "d.csv", rows), warehouse)
    assert rejected.problems == [
        LoadProblem("d.csv", 2, "death_date", "is given but died is false (expected no date)")
    ]


def test_duplicate_keys_name_the_key_and_its_first_row(warehouse: Path, tmp_path: Path) -> None:
    rows = valid_rows(TABLES["person_year"], 6)
    rows[3]["person_id"] = rows[0]["person_id"]  # same person and year as row 1
    rows[5]["person_id"] = rows[0]["person_id"]
    rows[4]["person_id"] = rows[1]["person_id"]
    rows[4]["year"] = "2025-26"  # same person as row 2, another year: fine
    rejected = reject("person_year", write_csv(tmp_path / "py.csv", rows), warehouse)
    key = "duplicate key (person_id, year) = (1, '2024-25'); first seen at row 1"
    assert rejected.problems == [
        LoadProblem("py.csv", 4, "person_id,year", key),
        LoadProblem("py.csv", 6, "person_id,year", key),
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [("7", "007"), ("9007199254740993", "9007199254740993")],  # no float would keep these apart
)
def test_duplicate_keys_compare_exact_values(
    warehouse: Path, tmp_path: Path, first: str, second: str
) -> None:
    rows: list[Row] = valid_rows(TABLES["residents"], 3)
    rows[0]["person_id"], rows[1]["person_id"] = "9007199254740992", first
    rows[2]["person_id"] = second
    rejected = reject("residents", write_csv(tmp_path / "r.csv", rows), warehouse)
    assert [(p.row, p.column) for p in rejected.problems] == [(3, "person_id")]
    assert "first seen at row 2" in rejected.problems[0].message


@pytest.mark.parametrize("file_type", ["csv", "parquet"])
def test_missing_and_unexpected_columns(warehouse: Path, tmp_path: Path, file_type: str) -> None:
    schema = TABLES["residents"]
    rows = valid_rows(schema, 3)
    for row in rows:
        del row["sex"]
        row["favourite_colour"] = "teal"
    if file_type == "csv":
        path = write_csv(tmp_path / "cols.csv", rows)
    else:
        path = write_parquet(tmp_path / "cols.parquet", schema, rows)
    rejected = reject("residents", path, warehouse)
    assert rejected.problems == [
        LoadProblem(path.name, None, "sex", "missing column; table residents needs it"),
        LoadProblem(
            path.name,
            None,
            "favourite_colour",
            "unexpected column; table residents has no column of this name "
            "(see `carepool schema residents`)",
        ),
    ]


def test_a_misspelt_column_gets_a_hint(warehouse: Path, tmp_path: Path) -> None:
    rows = [
        {("Sex" if k == "sex" else k): v for k, v in row.items()}
        for row in valid_rows(TABLES["residents"], 2)
    ]
    rejected = reject("residents", write_csv(tmp_path / "case.csv", rows), warehouse)
    assert [(p.column, p.message) for p in rejected.problems] == [
        ("sex", "missing column; table residents needs it"),
        (
            "Sex",
            "unexpected column; table residents has no column of this name (did you mean sex?)",
        ),
    ]


def test_repeated_and_unnamed_header_columns(warehouse: Path, tmp_path: Path) -> None:
    rows = valid_rows(TABLES["residents"], 2)
    header = [*rows[0], "sex", ""]
    path = write_csv(tmp_path / "h.csv", rows, header)
    rejected = reject("residents", path, warehouse)
    assert [(p.row, p.column, p.message) for p in rejected.problems] == [
        (None, "sex", "appears 2 times in the header; expected once"),
        (None, None, "column 9 of the header has no name"),
    ]


def test_rows_with_the_wrong_number_of_fields(warehouse: Path, tmp_path: Path) -> None:
    rows = valid_rows(TABLES["residents"], 5)
    rows[4]["sex"] = "?"
    path = write_csv(tmp_path / "ragged.csv", rows)
    lines = path.read_text().splitlines()
    lines[2] += ",extra"  # data row 2
    lines[4] = lines[4].rsplit(",", 1)[0]  # data row 4
    path.write_text("\n".join(lines) + "\n")
    rejected = reject("residents", path, warehouse)
    assert [(p.row, p.column, p.message) for p in rejected.problems] == [
        (2, None, "has 8 fields; the header has 7"),
        (4, None, "has 6 fields; the header has 7"),
        (5, "sex", "'?' is not one of: female, male"),  # still row 5 after the skipped rows
    ]


def test_text_that_is_not_utf8(warehouse: Path, tmp_path: Path) -> None:
    rows = valid_rows(TABLES["residents"], 3)
    rows[1]["sex"] = "f\u00e9male"
    path = write_csv(tmp_path / "latin1.csv", rows)
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    rejected = reject("residents", path, warehouse)
    assert rejected.problems == [
        LoadProblem(
            "latin1.csv",
            2,
            "sex",
            "is not UTF-8 text; save the file as UTF-8 (in Excel: CSV UTF-8)",
        )
    ]


def test_a_ragged_row_that_is_not_utf8(
    warehouse: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A row with too few fields whose bytes are not UTF-8 (a binary file behind a good
    header) is refused at its line, with no traceback from the CSV reader on the terminal."""
    rows = valid_rows(TABLES["residents"], 3)
    path = write_csv(tmp_path / "binary.csv", rows)
    path.write_bytes(path.read_bytes() + b"\xaa\xff\x00,\x9c\n")
    rejected = reject("residents", path, warehouse)
    assert [p.message for p in rejected.problems] == [
        "line 5: byte 0xaa is not UTF-8 text; save the file as UTF-8 (in Excel: CSV UTF-8)"
    ]
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err
    assert "Exception ignored" not in captured.err


def test_unsupported_unreadable_missing_and_empty_files(warehouse: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "extract.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    assert reject("residents", sheet, warehouse).problems == [
        LoadProblem(
            "extract.xlsx",
            None,
            None,
            "unsupported file type .xlsx; expected a .csv file with a header row, "
            "or a .parquet file",
        )
    ]
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    (problem,) = reject("residents", broken, warehouse).problems
    assert problem.message.startswith("cannot be read as Parquet: ")
    assert reject("residents", tmp_path / "absent.csv", warehouse).problems == [
        LoadProblem("absent.csv", None, None, "no such file")
    ]
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(TABLES["residents"].names) + "\n")
    assert reject("residents", empty, warehouse).problems == [
        LoadProblem(
            "empty.csv", None, None, "has no data rows; loading it would empty table residents"
        )
    ]


def test_every_problem_is_counted_but_only_fifty_are_listed_in_file_order(
    warehouse: Path, tmp_path: Path
) -> None:
    rows = valid_rows(TABLES["residents"], 80)
    for row in rows:
        row["lsoa21_code"] = "nowhere"
        row["sex"] = "?"
    rejected = reject("residents", write_csv(tmp_path / "many.csv", rows), warehouse)
    assert rejected.total == 160
    assert len(rejected.problems) == 50
    assert [(p.row, p.column) for p in rejected.problems[:4]] == [
        (1, "sex"),
        (1, "lsoa21_code"),
        (2, "sex"),
        (2, "lsoa21_code"),
    ]
    assert rejected.problems[-1].row == 25
    assert "160 problem(s)" in str(rejected)


def test_validate_file_caps_problems_at_max_problems(tmp_path: Path) -> None:
    rows = valid_rows(TABLES["residents"], 10)
    for row in rows:
        row["first_year"] = "2024"
    table, problems, total = validate_file(
        TABLES["residents"],
        write_csv(tmp_path / "years.csv", rows),
        known_lsoas=set(LSOAS),
        known_lads=set(LSOAS.values()),
        known_payers={"SELF"},
        max_problems=3,
    )
    assert table is None
    assert total == 10
    assert [p.row for p in problems] == [1, 2, 3]


def test_pseudonyms_only_where_the_schema_allows_them(tmp_path: Path) -> None:
    pseudonym = "P:" + hashlib.sha256(b"9434765919").hexdigest()
    rows = valid_rows(TABLES["residents"], 2)
    rows[1]["nhs_number"] = pseudonym
    path = write_csv(tmp_path / "p.csv", rows)
    codes: dict[str, Any] = {
        "known_lsoas": set(LSOAS),
        "known_lads": set(LSOAS.values()),
        "known_payers": set(),
    }
    table, problems, _ = validate_file(TABLES["residents"], path, **codes)
    assert problems == []
    assert table is not None
    assert table.column("nhs_number")[1].as_py() == pseudonym
    strict = replace(TABLES["residents"], pseudonymised_ids=False)
    _, problems, _ = validate_file(strict, path, **codes)
    assert problems == [
        LoadProblem(
            "p.csv",
            2,
            "nhs_number",
            f"'{pseudonym}' is not an NHS number (expected 10 digits, no spaces)",
        )
    ]


def test_numbers_refuse_text_and_infinity(tmp_path: Path) -> None:
    """No loadable table has a float column yet; the rule is kept for the first that does."""
    schema = TableSchema(
        "scores",
        "a test table",
        (Column("id", pa.int32()), Column("score", pa.float64(), nullable=True)),
        key=("id",),
    )
    path = tmp_path / "scores.csv"
    path.write_text("id,score\n1,12.5\n2,-1e3\n3,\n4,inf\n5,twelve\n6,.5\n")
    table, problems, total = validate_file(
        schema, path, known_lsoas=set(), known_lads=set(), known_payers=set()
    )
    assert (table, total) == (None, 2)
    assert [(p.row, p.message) for p in problems] == [
        (4, "'inf' is not a number (expected e.g. 12.5)"),
        (5, "'twelve' is not a number (expected e.g. 12.5)"),
    ]
    pq.write_table(pa.table({"id": [1, 2], "score": [1.5, float("nan")]}), tmp_path / "s.parquet")
    _, problems, _ = validate_file(
        schema, tmp_path / "s.parquet", known_lsoas=set(), known_lads=set(), known_payers=set()
    )
    assert [(p.row, p.message) for p in problems] == [
        (2, "nan is not a number (expected a finite number)")
    ]


# --- what is refused before a file is even read ----------------------------------------------


def test_only_loadable_tables_can_be_loaded(warehouse: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    with pytest.raises(ConfigError, match="lsoa is built from reference data and cannot be"):
        load_file("lsoa", path, warehouse)
    with pytest.raises(ConfigError, match="no warehouse table 'patients'"):
        load_file("patients", path, warehouse)


def test_loading_needs_a_built_warehouse(tmp_path: Path) -> None:
    rows = valid_rows(TABLES["residents"], 2)
    path = write_csv(tmp_path / "r.csv", rows)
    with pytest.raises(WarehouseError, match=r"manifest\.json"):
        load_file("residents", path, tmp_path / "nowhere")
    write_manifest(tmp_path / "no-lsoa", MANIFEST)
    with pytest.raises(WarehouseError, match=r"lsoa\.parquet: missing"):
        load_file("residents", path, tmp_path / "no-lsoa")


def test_known_codes_come_from_the_warehouse(warehouse: Path) -> None:
    known = KnownCodes.from_warehouse(warehouse)
    assert known.lsoas == set(LSOAS)
    assert known.lads == {MANCHESTER, TRAFFORD}
    assert known.payers == {MANCHESTER, TRAFFORD, GM_ICB, "SELF"}
    assert known.lad_of_lsoa == LSOAS
    assert known.years == set(YEARS)
    assert known.services == set(SERVICES)


# --- a good file ------------------------------------------------------------------------------

WRITERS: dict[str, Callable[[Path, TableSchema, list[Row]], Path]] = {
    "csv": lambda path, _schema, rows: write_csv(path, rows, header=sorted(rows[0])),
    "parquet": write_parquet,
}


@pytest.mark.parametrize("file_type", ["csv", "parquet"])
@pytest.mark.parametrize("table", ["residents", "person_year", "activity_cost"])
def test_a_good_file_replaces_the_table_and_is_recorded(
    warehouse: Path, tmp_path: Path, table: str, file_type: str
) -> None:
    schema = TABLES[table]
    rows = valid_rows(schema, 7)
    for column in schema.columns:  # leave the other nullable columns empty in some rows
        if column.nullable and column.name != "death_date":
            rows[1][column.name] = rows[4][column.name] = None
    path = WRITERS[file_type](tmp_path / f"good.{file_type}", schema, rows)
    result = load_file(table, path, warehouse)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result == LoadResult(table, path, 7, digest, result.loaded_at)
    loaded = pq.read_table(table_path(warehouse, table))
    assert loaded.schema == schema.arrow
    assert loaded.to_pylist() == rows
    manifest = json.loads((warehouse / "manifest.json").read_text())
    record = {"source": path.name, "rows": 7, "sha256": digest, "loaded_at": result.loaded_at}
    assert manifest["loads"] == [{"table": table, **record}]
    assert manifest["tables"][table] == {**record, "file": table_path(warehouse, table).name}
    assert manifest["region"] == "test"  # the rest of the manifest is kept
    assert dt.datetime.fromisoformat(result.loaded_at).tzinfo is not None
    assert not [p for p in warehouse.iterdir() if p.name.startswith(".")]  # no temporary files


def test_csv_spellings_a_partner_may_use(warehouse: Path, tmp_path: Path) -> None:
    """Excel's byte-order mark, padding, booleans in any case and leading zeros all load."""
    schema = TABLES["person_year"]
    rows = valid_rows(schema, 2)
    path = write_csv(tmp_path / "py.csv", rows)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("true", " TRUE ").replace("false", "0")
    lines[1] = re.sub(r"^1,", "0001,", lines[1])
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    load_file("person_year", path, warehouse)
    loaded = read_warehouse_table(warehouse, "person_year").to_pylist()
    assert loaded == rows


def test_a_second_load_replaces_the_first(warehouse: Path, tmp_path: Path) -> None:
    schema = TABLES["activity_cost"]
    first = write_csv(tmp_path / "first.csv", valid_rows(schema, 5))
    second = write_parquet(tmp_path / "second.parquet", schema, valid_rows(schema, 2))
    load_file("activity_cost", first, warehouse)
    load_file("activity_cost", second, warehouse)
    assert pq.read_metadata(table_path(warehouse, "activity_cost")).num_rows == 2
    manifest = json.loads((warehouse / "manifest.json").read_text())
    assert [load["source"] for load in manifest["loads"]] == ["first.csv", "second.parquet"]


# --- properties ----------------------------------------------------------------------------

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
def test_a_number_with_its_check_digit_is_valid(stem: str) -> None:
    check = nhs_number_check_digit(stem)
    if check is None:  # no valid number starts with these nine digits
        numbers = [stem + d for d in "0123456789"]
        assert not valid_nhs_numbers(pa.array(numbers)).any()
    else:
        assert valid_nhs_numbers(pa.array([stem + str(check)])).all()


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_changing_any_one_digit_of_a_valid_number_is_caught(
    stem: str, position: int, shift: int
) -> None:
    check = nhs_number_check_digit(stem)
    if check is None:
        return
    digits = [int(d) for d in stem + str(check)]
    digits[position] = (digits[position] + shift) % 10
    assert not valid_nhs_numbers(pa.array(["".join(map(str, digits))])).any()


def _reference_integer(value: str, low: int, high: int) -> bool:
    """The rule as a partner reads it: ASCII digits with an optional minus, within range."""
    stripped = value.strip()
    return bool(re.fullmatch(r"-?[0-9]+", stripped)) and low <= int(stripped) <= high


def _reference_date(value: str) -> bool:
    stripped = value.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", stripped):
        return False
    try:
        dt.date.fromisoformat(stripped)
    except ValueError:
        return False
    return True


cells = st.one_of(
    st.integers(-40_000, 40_000).map(str),
    st.text(alphabet="0123456789-+. e", max_size=8),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(lambda d: d.isoformat()),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.sampled_from(
        ["", " 7 ", "0x10", "-0xFF", "1_000", "١٢", "7\u00a0", "0000-01-01", "2019-02-29", "00042"]
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(cells, min_size=1, max_size=12))
def test_cells_are_accepted_exactly_when_the_written_rule_says(
    tmp_path_factory: pytest.TempPathFactory, values: list[str]
) -> None:
    schema = TableSchema(
        "cells",
        "a test table",
        (
            Column("row", pa.int32()),
            Column("small", pa.int16(), nullable=True, minimum=-1000),
            Column("day", pa.date32(), nullable=True),
        ),
        key=("row",),
    )
    path = tmp_path_factory.mktemp("cells") / "cells.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "small", "day"])
        writer.writerows([[i, v, v] for i, v in enumerate(values)])
    _, problems, total = validate_file(
        schema, path, known_lsoas=set(), known_lads=set(), known_payers=set(), max_problems=100
    )
    bad = {(p.row, p.column) for p in problems}
    for row, value in enumerate(values, start=1):
        empty = value.strip() == ""
        small_ok = empty or _reference_integer(value, -1000, 32_767)
        day_ok = empty or _reference_date(value)
        assert ((row, "small") not in bad) == small_ok, (value, problems)
        assert ((row, "day") not in bad) == day_ok, (value, problems)
    assert total == len(bad)


@given(st.text(max_size=9))
def test_financial_years_are_two_consecutive_years(value: str) -> None:
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", value)
    expected = match is not None and (int(match[1]) + 1) % 100 == int(match[2])
    assert is_financial_year(value) == expected


def test_mixed_loaded_and_synthetic_tables_are_named() -> None:
    from carepool.warehouse import mixed_sources

    assert mixed_sources({"loads": []}) is None
    loads = [{"table": t} for t in ("residents", "person_year", "activity_cost")]
    assert mixed_sources({"loads": loads}) is None
    warning = mixed_sources({"loads": loads[:1]})
    assert warning is not None
    assert warning.startswith("residents holds a loaded extract but person_year, activity_cost")
