"""Loading a partner's extract into the warehouse: check everything, then load all or nothing.

A partner (an NHS trust, a council) sends a table as CSV or Parquet. Every cell is checked
against the table's declared schema (:mod:`carepool.warehouse.schemas`) and against the model
it joins, and every fault is collected as a :class:`~carepool.errors.LoadProblem` located by
file, row and column, saying what was expected -- so the partner fixes the whole file in one
round rather than one fault per attempt. Only a file with no problems replaces the table (an
atomic rename, then a manifest entry); otherwise :class:`~carepool.errors.LoadRejected`
carries the first problems in file order and the total, and the warehouse is untouched.

Rules a partner can rely on (``carepool schema <table>`` prints them per column):

- **Files**: ``.csv`` (UTF-8, a header row, comma-separated; rows are numbered from 1 for the
  first data row) or ``.parquet`` (row = 1-based row index). Columns may come in any order
  but must be exactly the table's columns; a file with no data rows is refused, since loading
  it would empty the table.
- **Empty values**: leading and trailing spaces are ignored; an empty CSV cell or a Parquet
  null is a missing value, allowed only in nullable columns.
- **Types**: integers are ASCII digits with an optional minus sign, within the column's
  bounds (``12.0``, ``+12``, ``1e3`` and ``0x10`` are refused in CSV, so a float export cannot
  slip through; a Parquet float column -- pandas' way of storing integers with gaps -- passes
  where every value is whole); booleans are ``true``, ``false``, ``1`` or ``0`` in any case;
  dates are real ISO dates ``YYYY-MM-DD`` (a Parquet timestamp passes at midnight); numbers
  are decimal or scientific, never NaN or infinite. Parquet columns of the declared type are
  taken as they are.
- **Kinds**: LSOA codes are ``E01`` and 6 digits and in the model's geography; local
  authority and payer codes are the model's own (payers: its ICBs, its councils, ``SELF``);
  money is integer pence, never negative; counts are never negative; categories come from
  the declared list; financial years are ``YYYY-YY`` with consecutive years (``2024-25``);
  the key columns identify one row.
- **NHS numbers** are 10 digits whose last is the modulus-11 check digit of the first nine
  (weights 10 down to 2; ``11 - sum % 11``, where 11 means 0 and 10 means no valid number).
  A table declared ``pseudonymised_ids`` may instead hold a **pseudonym**: ``P:`` and 16 to
  64 lowercase hexadecimal characters, e.g. ``"P:" + hmac_sha256(key, nhs_number).hexdigest()``.
  The prefix keeps a pseudonym from ever being mistaken for a real number, and lowercase only
  keeps one person from having two spellings of the same id.
- **The model**, where the warehouse knows it: a row's LSOA lies in its local authority; a
  death has a date and only a death does; years are the model's years and no date is after
  the model's last year; a payer code fits its payer kind (``self`` is ``SELF``, ``council`` a
  council, ``nhs`` an ICB); services are the costed ones.

Checks are vectorised per column with :mod:`pyarrow.compute` (a clean column costs one Arrow
cast and a few comparisons: a 3-million-row extract is checked in seconds), and Python runs
per value only to word the problems reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carepool.errors import ConfigError, LoadProblem, LoadRejected, WarehouseError
from carepool.warehouse.schemas import TABLES, Column, Kind, TableSchema
from carepool.warehouse.store import read_manifest, table_path, write_manifest, write_table

MAX_PROBLEMS: Final = 50
#: The payer code for care a resident pays for in full (see ``activity_cost.payer_code``).
SELF_PAYER: Final = "SELF"
#: A pseudonymised id, accepted in place of an NHS number where the schema allows it.
PSEUDONYM: Final = r"^P:[0-9a-f]{16,64}$"
NHS_NUMBER_SHAPE: Final = r"^[0-9]{10}$"
LSOA_SHAPE: Final = r"^E01[0-9]{6}$"
ICB_PREFIX: Final = "E54"
FINANCIAL_YEAR: Final = re.compile(r"([0-9]{4})-([0-9]{2})")
CSV_SUFFIXES: Final = (".csv",)
PARQUET_SUFFIXES: Final = (".parquet", ".pq")

#: Codes listed in full in a message when there are at most this many; else only counted.
_LIST_AT_MOST = 12
_INTEGER_SHAPE = r"^-?[0-9]+$"
_NUMBER_SHAPE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = ("true", "1")
_FALSE = ("false", "0")
#: Digits that surely fit in int64 (its limit has 19); longer integers are checked one by one.
_SAFE_DIGITS = 18

Indices = npt.NDArray[np.int64]
Message = Callable[[int], str]


@dataclass(frozen=True)
class LoadResult:
    """A load that happened: which table, from which file, how many rows, and when."""

    table: str
    source: Path
    rows: int
    sha256: str
    loaded_at: str


@dataclass(frozen=True)
class KnownCodes:
    """What a loaded file may refer to: the model's geography, partners, years and services."""

    lsoas: frozenset[str]
    lads: frozenset[str]
    payers: frozenset[str]
    lad_of_lsoa: Mapping[str, str] = field(default_factory=dict)
    years: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    @classmethod
    def from_warehouse(cls, warehouse_dir: Path) -> KnownCodes:
        """Read them from the warehouse: ``lsoa`` (LSOAs, their LADs and ICBs), the manifest
        (years) and ``services``, if built.

        Read straight from Parquet, not through the engine, so that loading a file never
        starts Spark.
        """
        path = table_path(warehouse_dir, "lsoa")
        if not path.is_file():
            raise WarehouseError(f"{path}: missing; build the model before loading extracts")
        lsoa = pq.read_table(path, columns=["lsoa21_code", "lad_code", "icb_code"])

        def codes(name: str) -> frozenset[str]:
            return frozenset(v for v in pc.unique(lsoa.column(name)).to_pylist() if v)

        lads = codes("lad_code")
        services_path = table_path(warehouse_dir, "services")
        services = (
            frozenset(pq.read_table(services_path, columns=["service"]).column(0).to_pylist())
            if services_path.is_file()
            else frozenset()
        )
        years = read_manifest(warehouse_dir).get("years", [])
        return cls(
            lsoas=codes("lsoa21_code"),
            lads=lads,
            payers=lads | codes("icb_code") | {SELF_PAYER},
            lad_of_lsoa=dict(
                zip(
                    lsoa.column("lsoa21_code").to_pylist(),
                    lsoa.column("lad_code").to_pylist(),
                    strict=True,
                )
            ),
            years=frozenset(str(year) for year in years),
            services=services,
        )


# ---------------------------------------------------------------------------------------------
# Problems: gathered as index arrays per check, worded only for the first ones in file order


@dataclass
class _Found:
    indices: Indices  # table row indices, ascending
    column: str
    position: int  # the column's place in the file, to order problems within a row
    message: Message


@dataclass
class _Problems:
    source: str
    positions: dict[str, int]
    file_level: list[LoadProblem] = field(default_factory=list)
    #: problems already located by data row (a CSV row with the wrong number of fields)
    rows: list[LoadProblem] = field(default_factory=list)
    found: list[_Found] = field(default_factory=list)
    #: data rows (1-based) the CSV reader skipped, so table index -> data row needs shifting
    skipped: Indices = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def file(self, column: str | None, message: str) -> None:
        self.file_level.append(LoadProblem(self.source, None, column, message))

    def at(self, mask: Any, column: str, message: Message) -> None:
        """Report every row where the boolean Arrow ``mask`` is true (nulls count as false)."""
        if pc.any(mask).as_py():
            indices = np.asarray(pc.indices_nonzero(mask).to_numpy(), dtype=np.int64)
            self.indices(indices, column, message)

    def indices(self, indices: Indices, column: str, message: Message) -> None:
        if indices.size:
            position = self.positions.get(column.split(",")[0], len(self.positions))
            self.found.append(_Found(indices, column, position, message))

    @property
    def total(self) -> int:
        return (
            len(self.file_level)
            + len(self.rows)
            + sum(int(found.indices.size) for found in self.found)
        )

    def data_row(self, index: int) -> int:
        """The 1-based data row of table row ``index``, counting rows the reader skipped."""
        row = index + 1
        shift = 0
        while True:
            moved = int(np.searchsorted(self.skipped, row + shift, side="right"))
            if moved == shift:
                return row + shift
            shift = moved

    def first(self, limit: int) -> list[LoadProblem]:
        """The first ``limit`` problems: file-level ones, then by row, then by column.

        Each check keeps every bad row, but at most ``limit`` of each can be among the first
        ``limit`` overall, so only those are located and worded.
        """
        # (row, column position, check order, how to word it)
        candidates: list[tuple[int, int, int, Callable[[], LoadProblem]]] = [
            (problem.row or 0, -1, k, _constant(problem)) for k, problem in enumerate(self.rows)
        ]
        for k, found in enumerate(self.found, start=len(self.rows)):
            for index in found.indices[:limit].tolist():
                row = self.data_row(index)
                candidates.append((row, found.position, k, self._worder(found, row, index)))
        candidates.sort(key=lambda c: c[:3])
        problems = list(self.file_level[:limit])
        problems += [word() for *_, word in candidates[: max(0, limit - len(problems))]]
        return problems

    def _worder(self, found: _Found, row: int, index: int) -> Callable[[], LoadProblem]:
        return lambda: LoadProblem(self.source, row, found.column, found.message(index))


def _constant(problem: LoadProblem) -> Callable[[], LoadProblem]:
    return lambda: problem


def _show(value: Any) -> str:
    """A cell's value as a message shows it: text quoted (and shortened), numbers bare."""
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    return str(value)


def _listed(codes: Set[str], what: str, where: str = "the lsoa table") -> str:
    if len(codes) <= _LIST_AT_MOST:
        return f"one of: {', '.join(sorted(codes))}"
    return f"one of the {len(codes):,} {what} in {where}"


# ---------------------------------------------------------------------------------------------
# Reading: every column as it is in the file; CSV cells as bytes, never guessed at


def _read(path: Path, schema: TableSchema, problems: _Problems) -> pa.Table | None:
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        problems.file(
            None,
            f"unsupported file type {suffix or '(no suffix)'}; expected a .csv file with a "
            "header row, or a .parquet file",
        )
        return None
    if not path.is_file():
        problems.file(None, "no such file")
        return None
    kind = "CSV" if suffix in CSV_SUFFIXES else "Parquet"
    try:
        if kind == "CSV":
            return _read_csv(path, schema, problems)
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        problems.file(None, f"cannot be read as {kind}: {exc}")
        return None


def _read_csv(path: Path, schema: TableSchema, problems: _Problems) -> pa.Table:
    """Read a CSV with the table's columns as bytes (never inferred: ``007`` stays ``007``).

    Rows with the wrong number of fields are reported and skipped; their row numbers are
    only known to a single-threaded reader, so a file that has any is read a second time.
    """
    table, ragged = _read_csv_once(path, schema, threaded=True)
    if any(number is None for number, _, _ in ragged):
        table, ragged = _read_csv_once(path, schema, threaded=False)
    skipped = []
    for number, actual, expected in sorted(ragged, key=lambda r: r[0] or 0):
        row = None if number is None else number - 1  # the reader counts the header as row 1
        message = f"has {actual} fields; the header has {expected}"
        problems.rows.append(LoadProblem(problems.source, row, None, message))
        if row is not None:
            skipped.append(row)
    problems.skipped = np.asarray(skipped, dtype=np.int64)
    return table


def _read_csv_once(
    path: Path, schema: TableSchema, *, threaded: bool
) -> tuple[pa.Table, list[tuple[int | None, int, int]]]:
    """The table, and (physical row number, fields, fields expected) of each ragged row."""
    ragged: list[tuple[int | None, int, int]] = []

    def skip(row: Any) -> str:
        ragged.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=threaded),
        parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.binary() for name in schema.names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, ragged


# ---------------------------------------------------------------------------------------------
# Parsing one column to its declared type


@dataclass
class _Parsed:
    values: Any  # Array of the declared type; null where missing or unparseable
    present: Any  # BooleanArray: the cell holds a value
    ok: Any  # BooleanArray: present and parsed; kind checks look only at these


def _combine(array: Any) -> Any:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _bounds(column: Column) -> tuple[int, int]:
    """The integers a column accepts: its type's range, within its declared bounds, and not
    negative for money and counts."""
    info = np.iinfo(column.type.to_pandas_dtype())
    floor = 0 if column.kind in (Kind.MONEY, Kind.COUNT) else int(info.min)
    low = max(int(info.min), floor if column.minimum is None else column.minimum)
    high = min(int(info.max), int(info.max) if column.maximum is None else column.maximum)
    return low, high


def _out_of_range(column: Column) -> Callable[[Any], str]:
    low, high = _bounds(column)
    return lambda value: f"{value} is out of range (expected an integer from {low:,} to {high:,})"


def _decode(raw: Any, name: str, problems: _Problems) -> Any | None:
    """Bytes read from a CSV as UTF-8 text; bad cells are reported and the column skipped."""
    try:
        return raw.cast(pa.string())
    except pa.ArrowInvalid:
        bad = []
        for index, value in enumerate(raw.to_pylist()):  # only for a file that is not UTF-8
            try:
                if value is not None:
                    value.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(index)
        problems.indices(
            np.asarray(bad, dtype=np.int64),
            name,
            lambda _i: "is not UTF-8 text; save the file as UTF-8 (in Excel: CSV UTF-8)",
        )
        return None


def _is_text(kind: Any) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _as_text(raw: Any) -> Any:
    """Any column as trimmed text, for parsing and for messages."""
    kind = raw.type
    if pa.types.is_dictionary(kind):
        raw = raw.cast(kind.value_type)
        kind = raw.type
    if not pa.types.is_string(kind):
        raw = raw.cast(pa.string())
    return pc.utf8_trim_whitespace(raw)


def _safe_cast(raw: Any, target: pa.DataType) -> Any:
    """``raw`` cast to ``target`` if every value fits exactly, else None."""
    try:
        return raw.cast(target)  # a safe cast: raises if any value does not fit
    except pa.ArrowInvalid:
        return None


def _parse(column: Column, raw: Any, problems: _Problems) -> _Parsed | None:
    """Parse one column to its declared type, reporting cells that do not parse.

    Text (every CSV column, and string Parquet columns) goes through :func:`_parse_text`. A
    typed Parquet column of the declared type, or one that converts exactly (a narrower
    integer, a date64, a timestamp at midnight), is taken as it is. Anything else -- a float
    column for an integer, say -- is turned into text and parsed like CSV, so whole-valued
    floats pass and ``12.5`` does not.
    """
    name = column.name
    target = column.type
    kind = raw.type
    if not _is_text(kind):
        if pa.types.is_floating(target) and (
            pa.types.is_floating(kind) or pa.types.is_integer(kind)
        ):
            values = raw.cast(pa.float64()).cast(target)
            present = pc.is_valid(values)
            finite = pc.fill_null(pc.is_finite(values), False)
            problems.at(
                pc.and_not(present, finite),
                name,
                lambda i: f"{values[i].as_py()} is not a number (expected a finite number)",
            )
            return _Parsed(pc.if_else(finite, values, None), present, finite)
        exact = kind == target or (pa.types.is_date(kind) and pa.types.is_date(target))
        if exact or (pa.types.is_integer(kind) and pa.types.is_integer(target)):
            values = _safe_cast(raw, target)
            if values is not None:
                present = pc.is_valid(values)
                return _Parsed(values, present, present)
            # some value does not fit: parsed as text below, which says which ones
        if pa.types.is_timestamp(kind) and pa.types.is_date(target) and kind.tz is None:
            present = pc.is_valid(raw)
            midnight = pc.fill_null(pc.equal(pc.floor_temporal(raw, unit="day"), raw), False)
            problems.at(
                pc.and_not(present, midnight),
                name,
                lambda i: f"{raw[i].as_py()} has a time of day (expected a date, YYYY-MM-DD)",
            )
            return _Parsed(pc.if_else(midnight, raw.cast(target), None), present, midnight)
    try:
        text = _as_text(raw)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        problems.file(name, f"has Arrow type {kind}; expected {target}")
        return None
    return _parse_text(column, text, problems)


def _parse_text(column: Column, text: Any, problems: _Problems) -> _Parsed:
    text = _combine(text)
    name = column.name
    target = column.type
    present = pc.fill_null(pc.not_equal(text, ""), False)
    given = pc.if_else(present, text, None)
    try:  # the usual case: every value is good, and one Arrow cast proves it
        values = given.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # some value is bad: the value-by-value parse below names each one, by row
    else:
        if _cast_kept_the_rules(target, given, values):
            return _Parsed(values, present, present)

    def show(i: int) -> str:
        return _show(text[i].as_py())

    if pa.types.is_integer(target):
        return _parse_integers(column, text, given, present, problems)
    if pa.types.is_floating(target):
        shaped = pc.fill_null(pc.match_substring_regex(given, _NUMBER_SHAPE), False)
        values = pc.if_else(shaped, given, None).cast(pa.float64())
        finite = pc.fill_null(pc.is_finite(values), False)
        problems.at(
            pc.and_not(present, finite),
            name,
            lambda i: f"{show(i)} is not a number (expected e.g. 12.5)",
        )
        return _Parsed(pc.if_else(finite, values, None).cast(target), present, finite)
    if pa.types.is_boolean(target):
        lowered = pc.utf8_lower(given)
        is_true = pc.fill_null(pc.is_in(lowered, value_set=pa.array(_TRUE)), False)
        is_false = pc.fill_null(pc.is_in(lowered, value_set=pa.array(_FALSE)), False)
        ok = pc.or_(is_true, is_false)
        problems.at(
            pc.and_not(present, ok),
            name,
            lambda i: f"{show(i)} is not true or false (expected true, false, 1 or 0)",
        )
        return _Parsed(pc.if_else(ok, is_true, None), present, ok)
    if pa.types.is_date(target):
        shaped = pc.fill_null(pc.match_substring_regex(given, _DATE_SHAPE), False)
        stamps = pc.strptime(
            pc.if_else(shaped, given, None), format="%Y-%m-%d", unit="s", error_is_null=True
        )
        dates = stamps.cast(pa.date32())
        # strptime rolls 2019-02-30 over to 2019-03-02: a real date reads back as written
        written = pc.equal(dates.cast(pa.string()), given)
        ok = pc.fill_null(pc.and_(written, pc.greater_equal(pc.year(dates), 1)), False)
        problems.at(
            pc.and_not(present, ok),
            name,
            lambda i: f"{show(i)} is not a date (expected YYYY-MM-DD, e.g. 2024-04-01)",
        )
        return _Parsed(pc.if_else(ok, dates, None).cast(target), present, ok)
    # strings never fail to parse, so the cast above cannot have failed for them
    raise AssertionError(f"no parser for {target}")  # pragma: no cover


def _cast_kept_the_rules(target: Any, given: Any, values: Any) -> bool:
    """Whether a successful Arrow cast accepted only what the rules allow.

    Arrow's casts are the rules almost exactly, with three extras refused here: hexadecimal
    integers (``0x10``), NaN and infinity, and the year 0 (which Python cannot represent).
    """
    if pa.types.is_integer(target):
        digits = pc.ascii_is_decimal(pc.utf8_ltrim(given, characters="-"))
        return pc.all(digits).as_py() is not False
    if pa.types.is_floating(target):
        return pc.all(pc.is_finite(values)).as_py() is not False
    if pa.types.is_date(target):
        return pc.all(pc.greater_equal(pc.year(values), 1)).as_py() is not False
    return True


def _parse_integers(
    column: Column, text: Any, given: Any, present: Any, problems: _Problems
) -> _Parsed:
    """Integers: digits with an optional minus, exactly (never through a float), in the
    type's range; the column's own bounds are checked with the other kinds' rules."""
    name = column.name
    target = column.type
    info = np.iinfo(target.to_pandas_dtype())
    shaped = pc.fill_null(pc.match_substring_regex(given, _INTEGER_SHAPE), False)
    digits = pc.utf8_length(pc.utf8_ltrim(given, characters="-0"))
    safe = pc.and_(shaped, pc.fill_null(pc.less_equal(digits, _SAFE_DIGITS), False))
    numbers: Any = pc.fill_null(pc.if_else(safe, given, None).cast(pa.int64()), 0).to_numpy()
    long = np.asarray(pc.and_not(shaped, safe).to_numpy(zero_copy_only=False), dtype=bool)
    in_range = np.asarray(safe.to_numpy(zero_copy_only=False), dtype=bool)
    in_range &= (numbers >= info.min) & (numbers <= info.max)
    # so long that int64 may not hold them: rare enough to check one by one, exactly
    for index in np.flatnonzero(long).tolist():
        value = int(text[index].as_py())
        if info.min <= value <= info.max:
            numbers = numbers.astype(object)
            numbers[index] = value
            in_range[index] = True
    shaped_np = np.asarray(shaped.to_numpy(zero_copy_only=False), dtype=bool)
    present_np = np.asarray(present.to_numpy(zero_copy_only=False), dtype=bool)
    expected = (
        "expected whole pence, e.g. 1250 for £12.50"
        if column.kind == Kind.MONEY
        else "expected an integer, e.g. 42"
    )
    problems.indices(
        np.flatnonzero(present_np & ~shaped_np),
        name,
        lambda i: f"{_show(text[i].as_py())} is not an integer ({expected})",
    )
    out_of_range = _out_of_range(column)
    problems.indices(
        np.flatnonzero(shaped_np & ~in_range),
        name,
        lambda i: out_of_range(text[i].as_py()),
    )
    values = pa.array(np.where(in_range, numbers, 0), type=target, mask=~in_range)
    return _Parsed(values, present, pa.array(in_range))


# ---------------------------------------------------------------------------------------------
# What each kind of column must hold


def nhs_number_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or None when no valid number has them.

    The plain reference for :func:`valid_nhs_numbers` (NHS Data Dictionary, "NHS Number").
    """
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, weights, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def valid_nhs_numbers(numbers: Any) -> npt.NDArray[np.bool_]:
    """Which of ``numbers`` (an Arrow array of 10-digit strings) have a valid check digit.

    Vectorised over the strings' bytes: the array's data buffer, ten ASCII digits per value,
    is viewed as an ``n x 10`` matrix of digits.
    """
    array = _combine(numbers).cast(pa.string())
    if len(array) == 0:
        return np.zeros(0, dtype=bool)
    if array.null_count:
        raise ValueError("NHS numbers to check must not be null")
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[
        array.offset : array.offset + len(array) + 1
    ]
    if not np.all(np.diff(offsets) == 10):
        raise ValueError("NHS numbers to check must be 10 characters each")
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    digits = data.reshape(-1, 10).astype(np.int64) - ord("0")
    if digits.min() < 0 or digits.max() > 9:
        raise ValueError("NHS numbers to check must be digits")
    check = 11 - (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11
    check = np.where(check == 11, 0, check)
    return np.asarray((check != 10) & (check == digits[:, 9]), dtype=bool)


def is_financial_year(value: str) -> bool:
    """Whether ``value`` is a financial year written ``YYYY-YY`` (``2024-25``, ``1999-00``)."""
    match = FINANCIAL_YEAR.fullmatch(value)
    return match is not None and (int(match.group(1)) + 1) % 100 == int(match.group(2))


@dataclass(frozen=True)
class _Known:
    """The known codes as sets (for messages) and Arrow arrays (for ``pc.is_in``)."""

    lsoas: Set[str]
    lads: Set[str]
    payers: Set[str]
    lad_of_lsoa: Mapping[str, str]
    years: Set[str]
    services: Set[str]
    #: The residents' person ids a person-year file may refer to (an Arrow array), if known.
    person_ids: Any = None

    def array(self, codes: Set[str]) -> Any:
        return pa.array(sorted(codes), pa.string())

    @property
    def model_end(self) -> dt.date | None:
        """The last day of the model's last financial year (31 March)."""
        if not self.years:
            return None
        return dt.date(max(int(year[:4]) for year in self.years) + 1, 3, 31)


def _check_kind(
    column: Column, schema: TableSchema, parsed: _Parsed, known: _Known, problems: _Problems
) -> None:
    """The checks a column's kind and bounds add to its type, on the values that parsed."""
    name = column.name
    values = parsed.values
    ok = parsed.ok

    def show(i: int) -> str:
        return _show(values[i].as_py())

    def matches(pattern: str) -> Any:
        return pc.fill_null(pc.match_substring_regex(values, pattern), False)

    def within(codes: Set[str]) -> Any:
        return pc.fill_null(pc.is_in(values, value_set=known.array(codes)), False)

    if pa.types.is_integer(column.type):
        low, high = _bounds(column)
        negative = pc.and_(ok, pc.fill_null(pc.less(values, 0), False))
        if column.kind in (Kind.MONEY, Kind.COUNT) and column.minimum is None:
            what = "pence" if column.kind == Kind.MONEY else "a count"
            problems.at(
                negative, name, lambda i: f"{show(i)} is negative (expected {what}, 0 or more)"
            )
            outside = pc.and_not(ok, negative)
        else:
            outside = ok
        outside = pc.and_(
            outside,
            pc.fill_null(pc.or_(pc.less(values, low), pc.greater(values, high)), False),
        )
        out_of_range = _out_of_range(column)
        problems.at(outside, name, lambda i: out_of_range(values[i].as_py()))
    if column.kind == Kind.LSOA:
        shaped = matches(LSOA_SHAPE)
        problems.at(
            pc.and_not(ok, shaped),
            name,
            lambda i: f"{show(i)} is not an LSOA code (expected E01 and 6 digits, e.g. E01005123)",
        )
        problems.at(
            pc.and_not(pc.and_(ok, shaped), within(known.lsoas)),
            name,
            lambda i: (
                f"{show(i)} is not an LSOA of this model's geography "
                f"(expected {_listed(known.lsoas, 'LSOA codes')})"
            ),
        )
    elif column.kind == Kind.LAD:
        problems.at(
            pc.and_not(ok, within(known.lads)),
            name,
            lambda i: (
                f"{show(i)} is not a local authority of this model "
                f"(expected {_listed(known.lads, 'local authority codes')})"
            ),
        )
    elif column.kind == Kind.PAYER:
        partners = _listed(known.payers - {SELF_PAYER}, "ICB and council codes")
        problems.at(
            pc.and_not(ok, within(known.payers)),
            name,
            lambda i: (
                f"{show(i)} is not a paying partner of this model "
                f"(expected {SELF_PAYER}, or {partners})"
            ),
        )
    elif column.kind == Kind.NHS_NUMBER:
        ten = matches(NHS_NUMBER_SHAPE)
        pseudonym = matches(PSEUDONYM) if schema.pseudonymised_ids else pa.scalar(False)
        expected = "10 digits, no spaces" + (
            ", or a pseudonym: P: and 16 to 64 lowercase hex digits"
            if schema.pseudonymised_ids
            else ""
        )
        problems.at(
            pc.and_not(pc.and_not(ok, ten), pseudonym),
            name,
            lambda i: f"{show(i)} is not an NHS number (expected {expected})",
        )
        candidates = pc.and_(ok, ten)
        if pc.any(candidates).as_py():
            rows = np.asarray(pc.indices_nonzero(candidates).to_numpy(), dtype=np.int64)
            valid = valid_nhs_numbers(pc.filter(values, candidates))
            problems.indices(
                rows[~valid],
                name,
                lambda i: (
                    f"{show(i)} is not a valid NHS number: its check digit (modulus 11) is wrong"
                ),
            )
    elif column.kind == Kind.CATEGORY:
        listed = ", ".join(column.categories)
        problems.at(
            pc.and_not(ok, within(set(column.categories))),
            name,
            lambda i: f"{show(i)} is not one of: {listed}",
        )
    elif column.kind == Kind.YEAR:
        # few distinct years in any real file: check each distinct value once, exactly
        distinct = pc.unique(pc.filter(values, ok)).to_pylist()
        shaped = {v for v in distinct if is_financial_year(v)}
        problems.at(
            pc.and_not(ok, within(shaped)),
            name,
            lambda i: (
                f"{show(i)} is not a financial year "
                "(expected YYYY-YY with consecutive years, e.g. 2024-25)"
            ),
        )
        if known.years:
            years = _listed(known.years, "years", "the manifest")
            problems.at(
                pc.and_not(within(shaped), within(known.years)),
                name,
                lambda i: f"{show(i)} is not a year of this model (expected {years})",
            )
    elif column.kind == Kind.DATE and known.model_end is not None:
        end = known.model_end
        problems.at(
            pc.and_(ok, pc.fill_null(pc.greater(values, pa.scalar(end, pa.date32())), False)),
            name,
            lambda i: f"{values[i].as_py()} is after the model's last year, which ends {end}",
        )
    if name == "service" and known.services:
        services = _listed(known.services, "services", "the services table")
        problems.at(
            pc.and_not(ok, within(known.services)),
            name,
            lambda i: f"{show(i)} is not a costed service (expected {services})",
        )


def _check_rows(parsed: dict[str, _Parsed], known: _Known, problems: _Problems) -> None:
    """Rules across a row's columns: its LSOA lies in its local authority; a death has a date
    and only a death does; a payer code fits its payer kind. Only cells that passed their own
    checks take part, so no fault is reported twice."""
    lsoa, lad = parsed.get("lsoa21_code"), parsed.get("lad_code")
    if lsoa is not None and lad is not None and known.lad_of_lsoa:
        keys = known.array(set(known.lad_of_lsoa))
        expected = pc.take(
            pa.array([known.lad_of_lsoa[k] for k in keys.to_pylist()], pa.string()),
            pc.index_in(lsoa.values, value_set=keys),
        )
        wrong = pc.fill_null(
            pc.and_(pc.and_(lsoa.ok, lad.ok), pc.not_equal(expected, lad.values)), False
        )
        problems.at(
            pc.and_(wrong, pc.is_in(lad.values, value_set=known.array(known.lads))),
            "lad_code",
            lambda i: (
                f"{_show(lad.values[i].as_py())} is not the local authority of "
                f"{lsoa.values[i].as_py()} (expected {expected[i].as_py()})"
            ),
        )
    person = parsed.get("person_id")
    if person is not None and known.person_ids is not None:
        problems.at(
            pc.and_not(person.ok, pc.is_in(person.values, value_set=known.person_ids)),
            "person_id",
            lambda i: (
                f"{person.values[i].as_py()} is not a resident (expected a person_id of the "
                "residents table; load residents first)"
            ),
        )
    died, death_date = parsed.get("died"), parsed.get("death_date")
    if died is not None and death_date is not None:
        is_dead = pc.fill_null(died.values, False)
        is_alive = pc.and_(died.ok, pc.invert(is_dead))
        problems.at(
            pc.and_not(pc.and_(died.ok, is_dead), death_date.present),
            "death_date",
            lambda _i: "is missing but died is true (expected the date of death)",
        )
        problems.at(
            pc.and_(is_alive, death_date.ok),
            "death_date",
            lambda _i: "is given but died is false (expected no date)",
        )
    kind, code = parsed.get("payer_kind"), parsed.get("payer_code")
    if kind is not None and code is not None:
        icbs = {c for c in known.payers if c.startswith(ICB_PREFIX)}
        rules = {
            "self": ({SELF_PAYER}, SELF_PAYER),
            "council": (known.lads, "a council code"),
            "nhs": (icbs, "an ICB code"),
        }
        both = pc.and_(kind.ok, code.ok)
        known_code = pc.fill_null(pc.is_in(code.values, value_set=known.array(known.payers)), False)
        for payer_kind, (codes, expected) in rules.items():
            of_kind = pc.and_(both, pc.fill_null(pc.equal(kind.values, payer_kind), False))
            fits = pc.fill_null(pc.is_in(code.values, value_set=known.array(codes)), False)
            problems.at(
                pc.and_not(pc.and_(of_kind, known_code), fits),
                "payer_code",
                _wrong_payer(code.values, payer_kind, expected),
            )


def _wrong_payer(codes: Any, payer_kind: str, expected: str) -> Message:
    return lambda i: (
        f"{_show(codes[i].as_py())} cannot pay for payer_kind {payer_kind!r} (expected {expected})"
    )


def _check_keys(
    schema: TableSchema, parsed: dict[str, _Parsed], rows: int, problems: _Problems
) -> None:
    """Report every row whose key repeats an earlier row's, naming that first row.

    Keys compare by value (``007`` and ``7`` are the same person). Rows with a key value that
    is missing or did not parse are already reported, and left out here. Each key column is
    dictionary-encoded to integers, the codes are combined column by column (refactorised so
    they never overflow), and ``np.unique`` finds each key's first row.
    """
    if rows == 0 or not all(name in parsed for name in schema.key):
        return
    code = np.zeros(rows, dtype=np.int64)
    usable = np.ones(rows, dtype=bool)
    for name in schema.key:
        column = parsed[name]
        usable &= np.asarray(column.ok.to_numpy(zero_copy_only=False), dtype=bool)
        encoded = _combine(pc.dictionary_encode(column.values))
        indices = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64) + 1
        code = code * (len(encoded.dictionary) + 1) + indices
        code = np.unique(code, return_inverse=True)[1].astype(np.int64).reshape(-1)
    code = np.where(usable, code, -1 - np.arange(rows))  # unusable rows never match
    _, first_index, inverse = np.unique(code, return_index=True, return_inverse=True)
    first_row = first_index[inverse.reshape(-1)]
    duplicates = np.flatnonzero(first_row != np.arange(rows))
    if not duplicates.size:
        return
    label = ", ".join(schema.key)

    def message(i: int) -> str:
        key = ", ".join(_show(parsed[name].values[i].as_py()) for name in schema.key)
        return (
            f"duplicate key ({label}) = ({key}); "
            f"first seen at row {problems.data_row(int(first_row[i]))}"
        )

    problems.indices(duplicates.astype(np.int64), ",".join(schema.key), message)


# ---------------------------------------------------------------------------------------------
# The public entry points


def validate_file(
    schema: TableSchema,
    path: Path,
    *,
    known_lsoas: Set[str],
    known_lads: Set[str],
    known_payers: Set[str],
    max_problems: int = MAX_PROBLEMS,
    lad_of_lsoa: Mapping[str, str] | None = None,
    years: Set[str] | None = None,
    services: Set[str] | None = None,
    person_ids: pa.Array | None = None,
) -> tuple[pa.Table | None, list[LoadProblem], int]:
    """Check ``path`` against ``schema``, reporting every problem.

    ``known_*`` are the codes the file may use. The model checks run only when their facts
    are given: ``lad_of_lsoa`` (each LSOA's local authority), ``years`` (the model's financial
    years; also bounds dates), ``services`` (the costed services) and ``person_ids`` (the
    residents a person-year file may refer to).

    Returns ``(table, problems, total)``: the file conformed to the schema's Arrow types and
    column order if it has no problems (else None), the first ``max_problems`` problems in
    file order (file-level ones first), and how many problems there are in all.
    """
    problems = _Problems(path.name, {})
    table = _read(path, schema, problems)
    if table is None:
        return None, problems.first(max_problems), problems.total
    header = table.column_names
    problems.positions = {name: i for i, name in reversed(list(enumerate(header)))}
    expected = set(schema.names)
    for position, name in enumerate(header):
        if name == "":
            problems.file(None, f"column {position + 1} of the header has no name")
        elif header.count(name) > 1 and header.index(name) == position:
            problems.file(name, f"appears {header.count(name)} times in the header; expected once")
    for name in schema.names:
        if name not in header:
            problems.file(name, f"missing column; table {schema.name} needs it")
    spellings = {name.casefold(): name for name in schema.names}
    for position, name in enumerate(header):
        if name and name not in expected and header.index(name) == position:
            meant = spellings.get(name.strip().casefold())
            hint = f"did you mean {meant}?" if meant else f"see `carepool schema {schema.name}`"
            problems.file(
                name,
                f"unexpected column; table {schema.name} has no column of this name ({hint})",
            )
    if table.num_rows == 0 and not problems.rows:
        problems.file(None, f"has no data rows; loading it would empty table {schema.name}")

    known = _Known(
        lsoas=known_lsoas,
        lads=known_lads,
        payers=known_payers,
        lad_of_lsoa=lad_of_lsoa or {},
        years=years or set(),
        services=services or set(),
        person_ids=person_ids,
    )
    # hand over the columns one by one, so each is freed once checked (a big file is big)
    columns = {name: table.column(name) for name in schema.names if header.count(name) == 1}
    rows = table.num_rows
    del table
    parsed: dict[str, _Parsed] = {}
    for column in schema.columns:
        name = column.name
        if name not in columns:
            continue
        raw = _combine(columns.pop(name))
        if pa.types.is_binary(raw.type):
            raw = _decode(raw, name, problems)
            if raw is None:
                continue
        result = _parse(column, raw, problems)
        if result is None:
            continue
        if not column.nullable:
            missing = pc.invert(result.present)
            problems.at(missing, name, lambda _i: "is missing; a value is required")
        _check_kind(column, schema, result, known, problems)
        parsed[name] = result
    _check_rows(parsed, known, problems)
    _check_keys(schema, parsed, rows, problems)

    if problems.total:
        return None, problems.first(max_problems), problems.total
    conformed = pa.table(
        [_combine(parsed[c.name].values).cast(c.type) for c in schema.columns],
        schema=schema.arrow,
    )
    return conformed, [], 0


def _sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks (extracts can be gigabytes)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def loadable_schema(table_name: str) -> TableSchema:
    """The schema of a table partners may load, or a :class:`ConfigError` saying why not."""
    schema = TABLES.get(table_name)
    if schema is None:
        raise ConfigError(f"no warehouse table {table_name!r}; tables: {', '.join(TABLES)}")
    if not schema.loadable:
        loadable = ", ".join(t.name for t in TABLES.values() if t.loadable)
        raise ConfigError(
            f"table {table_name} is built from reference data and cannot be loaded; "
            f"loadable tables: {loadable}"
        )
    return schema


def _resident_ids(warehouse_dir: Path) -> pa.Array | None:
    """The person ids of the warehouse's residents table, or None if it has none."""
    path = table_path(warehouse_dir, "residents")
    if not path.is_file():
        return None
    ids: pa.Array = pq.read_table(path, columns=["person_id"]).column(0).combine_chunks()
    return ids


def load_file(table_name: str, path: Path, warehouse_dir: Path) -> LoadResult:
    """Validate ``path`` as table ``table_name`` and replace that table -- or load nothing.

    What the file may refer to comes from the warehouse (:meth:`KnownCodes.from_warehouse`).
    On success the table is replaced atomically (:func:`~carepool.warehouse.store.write_table`)
    and the load is recorded in the manifest (file name, rows, SHA-256 of the file, time). On
    any problem :class:`LoadRejected` is raised and nothing in the warehouse changes.
    """
    schema = loadable_schema(table_name)
    manifest = read_manifest(warehouse_dir)
    known = KnownCodes.from_warehouse(warehouse_dir)
    before = _stat(path)
    digest = _sha256(path) if before is not None else ""
    table, problems, total = validate_file(
        schema,
        path,
        known_lsoas=known.lsoas,
        known_lads=known.lads,
        known_payers=known.payers,
        lad_of_lsoa=known.lad_of_lsoa,
        years=known.years,
        services=known.services,
        person_ids=_resident_ids(warehouse_dir) if schema.name == "person_year" else None,
    )
    if table is None:
        raise LoadRejected(path.name, problems, total=total)
    if _stat(path) != before:  # the recorded digest must be of the bytes that were checked
        changed = LoadProblem(path.name, None, None, "changed while it was being checked")
        raise LoadRejected(path.name, [changed])
    loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
    write_table(warehouse_dir, table_name, table)
    record = {
        "table": table_name,
        "source": path.name,
        "rows": table.num_rows,
        "sha256": digest,
        "loaded_at": loaded_at,
    }
    manifest.setdefault("loads", []).append(record)
    tables = manifest.setdefault("tables", {})
    tables[table_name] = {**tables.get(table_name, {}), **record}
    del tables[table_name]["table"]
    write_manifest(warehouse_dir, manifest)
    return LoadResult(table_name, path, table.num_rows, digest, loaded_at)
