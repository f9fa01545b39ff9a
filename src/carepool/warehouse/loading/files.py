"""Reading a partner's file: its type checked, its bytes read once, every limit enforced early.

A file is read only if it is a regular file -- checked with :func:`os.lstat`, so a symbolic
link, FIFO, device, socket or directory is refused before anything is opened, and the file is
then opened without following links and checked again (:func:`os.fstat`) to be the same
regular file. Its bytes are read once (:func:`read_bytes`); those same bytes are hashed for the
manifest and parsed here, from memory (:func:`read`), so what is recorded is what was checked.

Limits, each enforced before the work it bounds (a file over one is refused, naming it):

- :data:`MAX_FILE_BYTES` -- the file's size, before it is read;
- :data:`MAX_COLUMNS` -- columns in the header (CSV) or schema (Parquet), before any column
  is read;
- :data:`MAX_HEADER_BYTES` -- the length of a CSV header line;
- :data:`MAX_ROWS` -- data rows (CSV: lines, counted before parsing; Parquet: from its
  metadata, before any data is read);
- :data:`MAX_EXPANDED_BYTES` -- a Parquet file's uncompressed size, from its metadata before
  any data is read, and again as its data are decoded (dictionary and run-length encoding
  expand beyond what the metadata says).

Nothing is guessed at: a CSV column is read as bytes whatever it looks like (``007`` stays
``007``) and parsed later against the declared type, and a Parquet file is read with the types
it declares. A file that cannot be read at all is one file-level problem, which never quotes
the file's content.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carepool.errors import LoadProblem
from carepool.warehouse.loading.problems import Problems, printable
from carepool.warehouse.schemas import TableSchema

CSV_SUFFIXES: Final = (".csv",)
PARQUET_SUFFIXES: Final = (".parquet", ".pq")

#: The largest file read, in bytes (2 GiB).
MAX_FILE_BYTES: Final = 2 * 1024**3
#: The most columns a file may have (every loadable table has far fewer).
MAX_COLUMNS: Final = 1_000
#: The longest CSV header line, in bytes (64 KiB).
MAX_HEADER_BYTES: Final = 64 * 1024
#: The most data rows a file may have (50 million).
MAX_ROWS: Final = 50_000_000
#: The most a Parquet file may expand to once decompressed and decoded, in bytes (4 GiB).
MAX_EXPANDED_BYTES: Final = 4 * 1024**3
#: Rows decoded at a time from a Parquet file, so expansion is caught as it happens.
_PARQUET_BATCH_ROWS: Final = 64 * 1024
_READ_BLOCK: Final = 16 * 1024 * 1024

#: A row the CSV reader skipped: (physical row number, fields, fields expected).
Ragged = tuple[int | None, int, int]

_FILE_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class Refused(Exception):
    """A file refused before it is parsed (over a limit, or not text); says why."""


def read_bytes(path: Path, problems: Problems) -> bytes | None:
    """The file's bytes, read once -- or None, with a file-level problem, if it is not a
    regular file of at most :data:`MAX_FILE_BYTES` bytes. Links are never followed, and
    nothing is opened before the file's type is known."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        problems.file(None, "no such file")
        return None
    except OSError as exc:
        problems.file(None, f"cannot be read: {printable(exc.strerror or 'error')}")
        return None
    refused = _not_regular(info.st_mode)
    if refused:
        problems.file(None, refused)
        return None
    if info.st_size > MAX_FILE_BYTES:
        problems.file(None, _too_big_file(info.st_size))
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:  # swapped for a link since lstat (ELOOP), or unreadable
        problems.file(None, f"cannot be opened: {printable(exc.strerror or 'error')}")
        return None
    try:
        opened = os.fstat(fd)
        same = (opened.st_dev, opened.st_ino) == (info.st_dev, info.st_ino)
        if not stat.S_ISREG(opened.st_mode) or not same:
            problems.file(None, "was replaced while it was being opened; not read")
            return None
        blocks = []
        size = 0
        while block := os.read(fd, _READ_BLOCK):
            size += len(block)
            if size > MAX_FILE_BYTES:
                problems.file(None, _too_big_file(size))
                return None
            blocks.append(block)
    except OSError as exc:
        problems.file(None, f"cannot be read: {printable(exc.strerror or 'error')}")
        return None
    finally:
        os.close(fd)
    return b"".join(blocks)


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is refused, or None for a regular file."""
    if stat.S_ISLNK(mode):
        return "is a symbolic link; links are not followed (give the file itself)"
    for test, kind in _FILE_KINDS:
        if test(mode):
            return f"is {kind}, not a regular file; not read"
    if not stat.S_ISREG(mode):
        return "is not a regular file; not read"
    return None


def _too_big_file(size: int) -> str:
    return f"is larger than the limit of {MAX_FILE_BYTES:,} bytes (at least {size:,}); not read"


def kind_of(path: Path, problems: Problems) -> str | None:
    """``"CSV"`` or ``"Parquet"`` from the file's suffix, or None with a problem."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "CSV"
    if suffix in PARQUET_SUFFIXES:
        return "Parquet"
    shown = printable(suffix) if suffix else "(no suffix)"
    problems.file(
        None,
        f"unsupported file type {shown}; expected a .csv file with a header row, "
        "or a .parquet file",
    )
    return None


def read(
    path: Path, schema: TableSchema, problems: Problems, data: bytes | None = None
) -> pa.Table | None:
    """The file as an Arrow table, or None (with a file-level problem) if it cannot be read.

    ``data`` are the file's bytes if they have been read already (:func:`read_bytes`); the
    table is parsed from them, so what is checked is exactly what was read.
    """
    kind = kind_of(path, problems)
    if kind is None:
        return None
    if data is None:
        data = read_bytes(path, problems)
        if data is None:
            return None
    try:
        if kind == "CSV":
            return read_csv(data, schema, problems)
        return read_parquet(data)
    except Refused as exc:
        problems.file(None, str(exc))
        return None
    except (OSError, pa.ArrowException) as exc:
        problems.file(None, f"cannot be read as {kind}: {_reason(exc)}")
        return None


#: Where a reader's message goes on to quote the file ("..., got 3: <the row>"), most
#: specific first: the first that matches ends the message.
_QUOTES_CONTENT: Final = (
    re.compile(r"(columns, got \d+)\s*:.*", re.IGNORECASE | re.S),
    re.compile(r"(row|line|value)\b[^:]*:.*", re.IGNORECASE | re.S),
)


def _reason(exc: BaseException) -> str:
    """A reader's error without any of the file's content it may quote, escaped and short."""
    text = str(exc).split("\n", 1)[0]
    for pattern in _QUOTES_CONTENT:
        text, found = pattern.subn(lambda m: m.group(1), text)
        if found:
            break
    text = printable(text)
    return text if len(text) <= 200 else text[:197] + "..."


def read_parquet(data: bytes) -> pa.Table:
    """A Parquet file from its bytes, its size and shape checked from its metadata first and
    its expansion checked again as it is decoded, a batch at a time."""
    parquet = pq.ParquetFile(pa.BufferReader(data))
    meta = parquet.metadata
    if meta.num_columns > MAX_COLUMNS or len(parquet.schema_arrow) > MAX_COLUMNS:
        raise Refused(
            f"has {max(meta.num_columns, len(parquet.schema_arrow)):,} columns; "
            f"the limit is {MAX_COLUMNS:,}"
        )
    if meta.num_rows > MAX_ROWS:
        raise Refused(f"has {meta.num_rows:,} rows; the limit is {MAX_ROWS:,}")
    expanded = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        chunks = sum(
            max(group.column(c).total_uncompressed_size, 0) for c in range(group.num_columns)
        )
        expanded += max(chunks, group.total_byte_size)
    if expanded > MAX_EXPANDED_BYTES:
        raise Refused(_too_expanded(expanded))
    batches = []
    decoded = 0
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, use_threads=True):
        decoded += batch.nbytes
        if decoded > MAX_EXPANDED_BYTES:
            raise Refused(_too_expanded(decoded, "at least "))
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=parquet.schema_arrow)


def _too_expanded(size: int, qualifier: str = "") -> str:
    return (
        f"expands to {qualifier}{size:,} bytes uncompressed; "
        f"the limit is {MAX_EXPANDED_BYTES:,} bytes"
    )


def _check_csv_shape(data: bytes) -> None:
    """The header's length and width and the number of lines, before the CSV is parsed."""
    end = data.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if end < 0 and len(data) > MAX_HEADER_BYTES:
        raise Refused(f"has a header line longer than the limit of {MAX_HEADER_BYTES:,} bytes")
    line = data[: len(data) if end < 0 else end]
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused("has a header that is not UTF-8 text; save the file as UTF-8") from None
    fields = next(csv.reader([text.rstrip("\r")]), [])
    if len(fields) > MAX_COLUMNS:
        raise Refused(f"has {len(fields):,} columns in its header; the limit is {MAX_COLUMNS:,}")
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines - 1 > MAX_ROWS:
        raise Refused(f"has {lines - 1:,} lines after its header; the limit is {MAX_ROWS:,} rows")


def read_csv(data: bytes, schema: TableSchema, problems: Problems) -> pa.Table:
    """Read a CSV with the table's columns as bytes (never inferred: ``007`` stays ``007``).

    Rows with the wrong number of fields are reported and skipped; their row numbers are
    only known to a single-threaded reader, so a file that has any is parsed a second time
    (from the same bytes).
    """
    _check_csv_shape(data)
    table, ragged = _read_csv_once(data, schema, threaded=True)
    if any(number is None for number, _, _ in ragged):
        table, ragged = _read_csv_once(data, schema, threaded=False)
    skipped = []
    for number, actual, expected in sorted(ragged, key=lambda r: r[0] or 0):
        row = None if number is None else number - 1  # the reader counts the header as row 1
        message = f"has {actual} fields; the header has {expected}"
        problems.rows.append(LoadProblem(problems.source, row, None, message))
        if row is not None:
            skipped.append(row)
    problems.skipped = np.asarray(skipped, dtype=np.int64)
    return table


@contextlib.contextmanager
def _undecodable_rows(data: bytes) -> Iterator[None]:
    """Refuse a file with a ragged row that is not UTF-8, naming its line, rather than let the
    reader print a traceback.

    The reader hands a row with the wrong number of fields to our handler as text; when the row
    is not UTF-8 it cannot, prints "Exception ignored" with a traceback (through
    :data:`sys.unraisablehook`) and stops with a parse error. Such rows are caught here, kept
    off the terminal, and the file refused at its first byte that is not UTF-8. (Cells that are
    not UTF-8 in rows of the right shape are reported one by one, after parsing.)
    """
    caught: list[BaseException | None] = []
    previous = sys.unraisablehook

    def keep(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, UnicodeDecodeError):
            caught.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = keep
    try:
        try:
            yield
        except pa.ArrowInvalid:
            if not caught:
                raise
        if caught:
            raise Refused(_first_undecodable(data))
    finally:
        sys.unraisablehook = previous


def _first_undecodable(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (
            f"line {line:,}: byte 0x{data[exc.start]:02x} is not UTF-8 text; save the file as "
            "UTF-8 (in Excel: CSV UTF-8)"
        )
    return "has a row that is not UTF-8 text; save the file as UTF-8 (in Excel: CSV UTF-8)"


def _read_csv_once(
    data: bytes, schema: TableSchema, *, threaded: bool
) -> tuple[pa.Table, list[Ragged]]:
    """The table, and (physical row number, fields, fields expected) of each ragged row."""
    ragged: list[Ragged] = []

    def skip(row: Any) -> str:
        ragged.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    with _undecodable_rows(data):
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=threaded),
            parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.binary() for name in schema.names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    if table.num_rows > MAX_ROWS:
        raise Refused(f"has {table.num_rows:,} rows; the limit is {MAX_ROWS:,}")
    return table, ragged
