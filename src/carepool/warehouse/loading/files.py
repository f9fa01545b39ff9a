"""Reading a partner's file: every column as it is in the file; CSV cells as bytes.

Nothing is guessed at: a CSV column is read as bytes whatever it looks like (``007`` stays
``007``) and parsed later against the declared type, and a Parquet file is read with the types
it declares. A file that cannot be read at all is one file-level problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carepool.errors import LoadProblem
from carepool.warehouse.loading.problems import Problems
from carepool.warehouse.schemas import TableSchema

CSV_SUFFIXES: Final = (".csv",)
PARQUET_SUFFIXES: Final = (".parquet", ".pq")

#: A row the CSV reader skipped: (physical row number, fields, fields expected).
Ragged = tuple[int | None, int, int]


def read(path: Path, schema: TableSchema, problems: Problems) -> pa.Table | None:
    """The file as an Arrow table, or None (with a file-level problem) if it cannot be read."""
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
            return read_csv(path, schema, problems)
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        problems.file(None, f"cannot be read as {kind}: {exc}")
        return None


def read_csv(path: Path, schema: TableSchema, problems: Problems) -> pa.Table:
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
) -> tuple[pa.Table, list[Ragged]]:
    """The table, and (physical row number, fields, fields expected) of each ragged row."""
    ragged: list[Ragged] = []

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
