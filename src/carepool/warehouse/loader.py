"""Loading a partner's extract into the warehouse: check everything, then load all or nothing.

A file is read as text (CSV) or Arrow (Parquet), every cell is checked against the table's
declared schema (:mod:`carepool.warehouse.schemas`), and every problem is collected with its
location: file, row (1 = the first data row) and column. Only a file with no problems replaces
the table, through an atomic rename; otherwise :class:`LoadRejected` carries the first problems
in file order and the total, and the warehouse is untouched. Checks are vectorised per column,
so a file of millions of rows is checked in seconds.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carepool.errors import ConfigError, LoadProblem, LoadRejected, WarehouseError
from carepool.warehouse.schemas import TABLES, Column, Kind, TableSchema
from carepool.warehouse.store import read_manifest, table_path, write_manifest, write_table

MAX_PROBLEMS = 50
#: A pseudonymised id, accepted in place of an NHS number where the schema allows: ``P:``
#: and 16 to 64 lowercase hexadecimal characters (e.g. a keyed SHA-256 of the NHS number).
PSEUDONYM = re.compile(r"^P:[0-9a-f]{16,64}$")
# ASCII digits only: \d would also accept Arabic-Indic and other Unicode digits.
NHS_NUMBER = re.compile(r"^[0-9]{10}$")
LSOA_CODE = re.compile(r"^E01[0-9]{6}$")
FINANCIAL_YEAR = re.compile(r"^([0-9]{4})-([0-9]{2})$")
#: A whole number an int64 holds exactly (at most 18 digits); longer is out of range anyway.
WHOLE_NUMBER = r"[+-]?[0-9]{1,18}"
TRUE = {"true", "t", "1", "yes", "y"}
FALSE = {"false", "f", "0", "no", "n"}

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LoadResult:
    table: str
    source: Path
    rows: int
    sha256: str


@dataclass(frozen=True)
class KnownCodes:
    """The codes a loaded file may use: those of the model's geography and partners."""

    lsoas: frozenset[str]
    lads: frozenset[str]
    payers: frozenset[str]
    lad_of_lsoa: dict[str, str] = field(default_factory=dict)
    years: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    @classmethod
    def from_warehouse(cls, warehouse_dir: Path) -> KnownCodes:
        path = table_path(warehouse_dir, "lsoa")
        if not path.is_file():
            raise WarehouseError(f"{path}: missing; build the model before loading extracts")
        lsoa = pq.read_table(path, columns=["lsoa21_code", "lad_code", "icb_code"])
        lsoas = frozenset(lsoa.column("lsoa21_code").to_pylist())
        lads = frozenset(lsoa.column("lad_code").to_pylist())
        icbs = frozenset(lsoa.column("icb_code").to_pylist())
        lad_of_lsoa = dict(
            zip(
                lsoa.column("lsoa21_code").to_pylist(),
                lsoa.column("lad_code").to_pylist(),
                strict=True,
            )
        )
        manifest = read_manifest(warehouse_dir)
        services_path = table_path(warehouse_dir, "services")
        services = (
            frozenset(pq.read_table(services_path, columns=["service"]).column(0).to_pylist())
            if services_path.is_file()
            else frozenset()
        )
        return cls(
            lsoas=lsoas,
            lads=lads,
            payers=lads | icbs | {"SELF"},
            lad_of_lsoa=lad_of_lsoa,
            years=frozenset(str(y) for y in manifest.get("years", [])),
            services=services,
        )


class _Collector:
    """Gathers bad rows per check; builds messages only for the first ones in file order."""

    def __init__(self, source: str, columns: list[str]) -> None:
        self.source = source
        self.order = {name: i for i, name in enumerate(columns)}
        self.file_level: list[LoadProblem] = []
        self.found: list[tuple[npt.NDArray[np.int64], str, Callable[[int], str]]] = []

    def file(self, column: str | None, message: str) -> None:
        self.file_level.append(LoadProblem(self.source, None, column, message))

    def rows(self, bad: BoolArray, column: str, message: Callable[[int], str]) -> None:
        index = np.flatnonzero(bad)
        if index.size:
            self.found.append((index, column, message))

    @property
    def total(self) -> int:
        return len(self.file_level) + sum(int(index.size) for index, _, _ in self.found)

    def first(self, limit: int) -> list[LoadProblem]:
        candidates: list[tuple[int, int, int, str, Callable[[int], str]]] = []
        for k, (index, column, message) in enumerate(self.found):
            for i in index[:limit]:
                candidates.append((int(i), self.order.get(column, 0), k, column, message))
        candidates.sort(key=lambda c: (c[0], c[1], c[2]))
        problems = list(self.file_level[:limit])
        for i, _, _, column, message in candidates[: max(0, limit - len(problems))]:
            problems.append(LoadProblem(self.source, i + 1, column, message(i)))
        return problems


def _read_text(path: Path, collector: _Collector) -> pd.DataFrame | None:
    """Every column as text (``""`` for an empty or null cell), or None if unreadable."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            # Every column as text from the start: letting Arrow infer types first would turn
            # 1e3 into 1000 and drop the leading zero of an NHS number before any check.
            with path.open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle), [])
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=False,
                    auto_dict_encode=False,
                ),
                read_options=pacsv.ReadOptions(autogenerate_column_names=False),
            )
        elif suffix in {".parquet", ".pq"}:
            table = pq.read_table(path)
            table = pa.table({name: _as_text(table.column(name)) for name in table.column_names})
        else:
            collector.file(
                None, f"unsupported file type {suffix or '(none)'}; expected .csv or .parquet"
            )
            return None
    except (OSError, pa.ArrowException) as exc:
        collector.file(None, f"cannot be read as {suffix.lstrip('.').upper()}: {exc}")
        return None
    frame: pd.DataFrame = table.to_pandas().fillna("").astype(str)
    return frame


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        column = column.cast(pa.date32()) if pa.types.is_timestamp(kind) else column
    if pa.types.is_boolean(kind):
        column = pa.compute.if_else(column, "true", "false")
    return column.cast(pa.string())


def _nhs_check_digit_ok(values: pd.Series) -> BoolArray:
    """Modulus-11 check of ten-digit strings (vectorised over their ASCII bytes)."""
    raw = "".join(values.astype(str)).encode("ascii")
    digits = (np.frombuffer(raw, dtype=np.uint8).reshape(-1, 10) - ord("0")).astype(np.int64)
    total = (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1)
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    return np.asarray((check != 10) & (check == digits[:, 9]), dtype=bool)


def _matches(text: pd.Series, accept: Callable[[str], bool]) -> BoolArray:
    """``accept`` applied once per distinct value (codes and years repeat a great deal)."""
    accepted = [value for value in text.unique() if accept(value)]
    return text.isin(accepted).to_numpy(dtype=bool)


def _is_financial_year(value: str) -> bool:
    match = FINANCIAL_YEAR.fullmatch(value)
    if match is None:
        return False
    return (int(match.group(1)) + 1) % 100 == int(match.group(2))


def _parse(column: Column, text: pd.Series, collector: _Collector) -> tuple[Any, BoolArray]:
    """Parse one column; report values of the wrong type. Returns (values, valid mask)."""
    name = column.name
    empty = (text == "").to_numpy()
    present = ~empty
    kind = column.type
    if pa.types.is_integer(kind):
        # Exact integer parsing: digits only (no floats, exponents or Unicode digits), converted
        # by Arrow without passing through floating point, then range-checked for the type.
        whole = present & text.str.fullmatch(WHOLE_NUMBER).fillna(False).to_numpy(dtype=bool)
        collector.rows(present & ~whole, name, lambda i: f"{text.iat[i]!r} is not a whole number")
        exact = np.asarray(
            pa.array(text.where(whole, "0").tolist(), type=pa.string()).cast(pa.int64()),
            dtype=np.int64,
        )
        info = np.iinfo(kind.to_pandas_dtype())
        floor = 0 if column.kind in (Kind.MONEY, Kind.COUNT) else int(info.min)
        low = max(floor, column.minimum if column.minimum is not None else floor)
        high = min(int(info.max), column.maximum if column.maximum is not None else int(info.max))
        outside = whole & ((exact < low) | (exact > high))
        if column.kind in (Kind.MONEY, Kind.COUNT) and column.minimum is None:
            outside &= exact > high  # negatives get their own, clearer message
        collector.rows(
            outside, name, lambda i: f"{text.iat[i]} is outside {low}..{high} for this column"
        )
        ok = whole & ~outside
        values = pd.Series(np.where(ok, exact, 0)).where(ok)
        return values, ok
    if pa.types.is_floating(kind):
        numbers = pd.to_numeric(text.where(present, None), errors="coerce")
        numbers = numbers.where(np.isfinite(numbers))
        bad = present & numbers.isna().to_numpy()
        collector.rows(bad, name, lambda i: f"{text.iat[i]!r} is not a number")
        return numbers, present & ~bad
    if pa.types.is_boolean(kind):
        lowered = text.str.strip().str.lower()
        is_true = lowered.isin(TRUE).to_numpy()
        is_false = lowered.isin(FALSE).to_numpy()
        bad = present & ~is_true & ~is_false
        collector.rows(bad, name, lambda i: f"{text.iat[i]!r} is not true or false")
        return pd.Series(np.where(is_true, True, False)), present & ~bad
    if pa.types.is_date(kind):
        dates = pd.to_datetime(text.where(present, None), format="%Y-%m-%d", errors="coerce")
        bad = present & dates.isna().to_numpy()
        collector.rows(bad, name, lambda i: f"{text.iat[i]!r} is not a date (YYYY-MM-DD)")
        return dates, present & ~bad
    return text, present


def _check_kind(
    column: Column,
    schema: TableSchema,
    text: pd.Series,
    values: Any,
    valid: BoolArray,
    known: KnownCodes,
    collector: _Collector,
) -> None:
    name = column.name
    if column.kind == Kind.LSOA:
        shaped = _matches(text, lambda v: bool(LSOA_CODE.fullmatch(v)))
        collector.rows(
            valid & ~shaped,
            name,
            lambda i: f"{text.iat[i]!r} is not an LSOA 2021 code (E01 and 6 digits)",
        )
        unknown = valid & shaped & ~text.isin(known.lsoas).to_numpy()
        collector.rows(
            unknown, name, lambda i: f"{text.iat[i]} is not an LSOA of this model's geography"
        )
    elif column.kind in (Kind.LAD, Kind.PAYER):
        allowed = known.lads if column.kind == Kind.LAD else known.payers
        what = (
            "local authority"
            if column.kind == Kind.LAD
            else "paying partner (ICB, council or SELF)"
        )
        unknown = valid & ~text.isin(allowed).to_numpy()
        collector.rows(unknown, name, lambda i: f"{text.iat[i]!r} is not a known {what} code")
    elif column.kind == Kind.NHS_NUMBER:
        pseudonym = (
            text.str.fullmatch(PSEUDONYM).to_numpy(dtype=bool)
            if schema.pseudonymised_ids
            else np.zeros(len(text), dtype=bool)
        )
        ten = text.str.fullmatch(NHS_NUMBER).to_numpy(dtype=bool)
        expected = "10 digits" + (
            " or a pseudonym P:<16-64 hex>" if schema.pseudonymised_ids else ""
        )
        collector.rows(
            valid & ~ten & ~pseudonym,
            name,
            lambda i: f"{text.iat[i]!r} is not an NHS number ({expected})",
        )
        candidates = valid & ten
        ok = np.ones(len(text), dtype=bool)
        if candidates.any():
            ok[candidates] = _nhs_check_digit_ok(text[candidates])
        collector.rows(
            candidates & ~ok,
            name,
            lambda i: f"{text.iat[i]} fails the NHS number check digit (modulus 11)",
        )
    elif column.kind in (Kind.MONEY, Kind.COUNT):
        negative = valid & (pd.Series(values).fillna(0).to_numpy() < 0)
        what = "money (integer pence)" if column.kind == Kind.MONEY else "a count"
        collector.rows(negative, name, lambda i: f"{text.iat[i]} is negative; {what} cannot be")
    elif column.kind == Kind.CATEGORY:
        listed = ", ".join(column.categories)
        unknown = valid & ~text.isin(column.categories).to_numpy()
        collector.rows(unknown, name, lambda i: f"{text.iat[i]!r} is not one of: {listed}")
    elif column.kind == Kind.YEAR:
        good = _matches(text, _is_financial_year)
        collector.rows(
            valid & ~good,
            name,
            lambda i: f"{text.iat[i]!r} is not a financial year such as 2024-25",
        )


def validate_frame(
    schema: TableSchema, frame: pd.DataFrame, source: str, known: KnownCodes
) -> tuple[pa.Table | None, _Collector]:
    """Check a text frame against ``schema``; the conformed table if there were no problems."""
    collector = _Collector(source, schema.names)
    missing = [c for c in schema.names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema.names]
    for name in missing:
        collector.file(name, f"missing column; table {schema.name} needs it")
    for name in extra:
        collector.file(name, f"unexpected column; table {schema.name} has no such column")
    if len(frame) == 0:
        collector.file(None, f"no data rows; loading it would empty the {schema.name} table")
    arrays: dict[str, pa.Array] = {}
    for column in schema.columns:
        if column.name not in frame.columns:
            continue
        text = frame[column.name].str.strip()
        empty = (text == "").to_numpy()
        if not column.nullable:
            collector.rows(empty, column.name, lambda _i: "is empty; a value is required")
        values, valid = _parse(column, text, collector)
        _check_kind(column, schema, text, values, valid, known, collector)
        arrays[column.name] = _to_arrow(column, values, empty)
    present_keys = [k for k in schema.key if k in frame.columns]
    if present_keys and len(present_keys) == len(schema.key):
        keys = frame[list(schema.key)]
        duplicated = keys.duplicated(keep="first").to_numpy()
        if duplicated.any():
            first_row = (
                keys.reset_index(drop=True)
                .reset_index()
                .groupby(list(schema.key))["index"]
                .transform("min")
            )
            label = ", ".join(schema.key)
            collector.rows(
                duplicated,
                schema.key[0],
                lambda i: (
                    f"duplicate key ({label}) = ({', '.join(keys.iloc[i].astype(str))}); "
                    f"first at row {int(first_row.to_numpy()[i]) + 1}"
                ),
            )
    _check_consistency(frame, collector, known)
    if collector.total:
        return None, collector
    return pa.table(arrays, schema=schema.arrow), collector


def _not_a_model_year(year: pd.Series, years: frozenset[str]) -> Callable[[int], str]:
    listed = ", ".join(sorted(years))
    return lambda i: f"{year.iat[i]} is not a year of this model ({listed})"


def _check_consistency(frame: pd.DataFrame, collector: _Collector, known: KnownCodes) -> None:
    """Rules across columns and against the model: a row's LSOA lies in its local authority;
    a death has a date and only a death does; years are the model's; services are known."""
    columns = set(frame.columns)
    if {"lsoa21_code", "lad_code"} <= columns and known.lad_of_lsoa:
        lsoa = frame["lsoa21_code"].str.strip()
        lad = frame["lad_code"].str.strip()
        expected = lsoa.map(known.lad_of_lsoa)
        wrong = (expected.notna() & lad.isin(known.lads) & (expected != lad)).to_numpy()
        collector.rows(
            wrong,
            "lad_code",
            lambda i: (
                f"{lad.iat[i]} is not the local authority of {lsoa.iat[i]} ({expected.iat[i]})"
            ),
        )
    if {"died", "death_date"} <= columns:
        died = frame["died"].str.strip().str.lower().isin(TRUE).to_numpy()
        dated = (frame["death_date"].str.strip() != "").to_numpy()
        collector.rows(died & ~dated, "death_date", lambda _i: "is empty but died is true")
        collector.rows(~died & dated, "death_date", lambda _i: "is given but died is false")
    if known.years:
        for name in ("year", "first_year"):
            if name in columns:
                year = frame[name].str.strip()
                shaped = _matches(year, _is_financial_year)
                outside = shaped & ~year.isin(known.years).to_numpy()
                collector.rows(outside, name, _not_a_model_year(year, known.years))
    if "date_of_birth" in columns and known.years:
        last_end = f"{max(int(y[:4]) for y in known.years) + 1}-03-31"
        born = frame["date_of_birth"].str.strip()
        future = ((born > last_end) & born.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")).to_numpy(
            dtype=bool
        )
        collector.rows(
            future, "date_of_birth", lambda i: f"{born.iat[i]} is after the model's last year"
        )
    if {"payer_kind", "payer_code"} <= columns:
        kind = frame["payer_kind"].str.strip()
        code = frame["payer_code"].str.strip()
        fits = np.where(
            kind == "self",
            code == "SELF",
            np.where(kind == "council", code.isin(known.lads), code.str.startswith("E54")),
        )
        collector.rows(
            ~np.asarray(fits, dtype=bool) & kind.isin(["nhs", "council", "self"]).to_numpy(),
            "payer_code",
            lambda i: f"{code.iat[i]} cannot be the payer for payer_kind {kind.iat[i]}",
        )
    if "service" in columns and known.services:
        service = frame["service"].str.strip()
        unknown = ~service.isin(known.services).to_numpy()
        collector.rows(
            unknown,
            "service",
            lambda i: (
                f"{service.iat[i]!r} is not a costed service ({', '.join(sorted(known.services))})"
            ),
        )


def _to_arrow(column: Column, values: Any, empty: BoolArray) -> pa.Array:
    kind = column.type
    mask = empty if empty.any() else None
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        filled = pd.Series(values).fillna(0).to_numpy()
        return pa.array(filled.astype(kind.to_pandas_dtype()), type=kind, mask=mask)
    if pa.types.is_boolean(kind):
        return pa.array(np.asarray(values, dtype=bool), type=kind, mask=mask)
    if pa.types.is_date(kind):
        days = pd.Series(values).to_numpy(dtype="datetime64[D]")
        return pa.array(days, type=kind, mask=mask)
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), mask=mask)


def validate_file(
    schema: TableSchema, path: Path, known: KnownCodes, max_problems: int = MAX_PROBLEMS
) -> tuple[pa.Table | None, list[LoadProblem], int]:
    """Check ``path`` against ``schema``: (table if valid, first problems, total problems)."""
    source = path.name
    collector = _Collector(source, schema.names)
    if not path.is_file():
        collector.file(None, "no such file")
        return None, collector.first(max_problems), collector.total
    frame = _read_text(path, collector)
    if frame is None:
        return None, collector.first(max_problems), collector.total
    table, collector = validate_frame(schema, frame, source, known)
    return table, collector.first(max_problems), collector.total


def _sha256(path: Path) -> str:
    """The file's SHA-256, read in 1 MiB blocks (extracts can be gigabytes)."""
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def load_file(table_name: str, path: Path, warehouse_dir: Path) -> LoadResult:
    """Validate ``path`` as ``table_name`` and replace that table, or load nothing at all."""
    schema = TABLES.get(table_name)
    if schema is None:
        raise ConfigError(f"no warehouse table {table_name!r}; tables: {', '.join(TABLES)}")
    if not schema.loadable:
        loadable = ", ".join(t.name for t in TABLES.values() if t.loadable)
        raise ConfigError(
            f"table {table_name} is built from reference data and cannot be loaded; "
            f"loadable tables: {loadable}"
        )
    manifest = read_manifest(warehouse_dir)
    known = KnownCodes.from_warehouse(warehouse_dir)
    table, problems, total = validate_file(schema, path, known)
    if table is None:
        raise LoadRejected(path.name, problems, total=total)
    digest = _sha256(path)
    write_table(warehouse_dir, table_name, table)
    record = {
        "table": table_name,
        "source": path.name,
        "rows": table.num_rows,
        "sha256": digest,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    manifest.setdefault("loads", []).append(record)
    manifest.setdefault("tables", {})[table_name] = {"rows": table.num_rows, "source": path.name}
    write_manifest(warehouse_dir, manifest)
    return LoadResult(table=table_name, source=path, rows=table.num_rows, sha256=digest)
