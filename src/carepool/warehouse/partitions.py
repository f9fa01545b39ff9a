"""Hive-partitioned tables: one folder per council, ``<table>/lad_code=E08000001/part-0.parquet``.

The build writes its large tables (``residents``, ``person_year``, ``activity_cost``) a
council at a time, each council's rows in a folder of its own, so that no process ever holds
a region's rows at once, councils can be built in parallel and in any order, and a council
that failed is rebuilt alone. The layout is the one DuckDB, Spark and object stores read
natively (``hive_partitioning``): the folder names the council, so the files do not repeat
the ``lad_code`` column, and a reader selects a council's rows by reading only its folder.

A table's folder is written in a staging area and committed whole (the manifest names it,
:mod:`carepool.warehouse.store`); a partition is written as one file, flushed, then renamed
into place, so a partition's file is either whole or absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from carepool.errors import WarehouseError
from carepool.warehouse.files import write_parquet
from carepool.warehouse.schemas import TABLES

#: The column every partitioned table is partitioned by.
PARTITION_KEY: Final = "lad_code"
#: The tables a build writes partitioned.
PARTITIONED_TABLES: Final = ("residents", "person_year", "activity_cost")
PART_FILE: Final = "part-0.parquet"
#: Rows per Parquet row group: large enough to scan fast, small enough to read a part of a
#: council's rows without the whole.
ROW_GROUP_ROWS: Final = 1_000_000


def partition_schema(name: str) -> pa.Schema:
    """The schema of a partition's file: the table's declared schema without the key."""
    schema = TABLES[name].arrow
    return schema.remove(schema.get_field_index(PARTITION_KEY))


def partition_folder(table_dir: Path, value: str) -> Path:
    """``<table_dir>/lad_code=<value>``."""
    if not value or "/" in value or "=" in value:
        raise WarehouseError(f"{value!r} cannot name a partition")
    return table_dir / f"{PARTITION_KEY}={value}"


def write_partition(table_dir: Path, name: str, value: str, parts: Iterable[pa.Table]) -> int:
    """Write one council's rows of table ``name`` (given as consecutive parts, say one per
    year) to ``<table_dir>/lad_code=<value>/part-0.parquet``; returns the rows written.

    The parts must all be of that council (a row of another is refused: it would be read back
    as this one's). The file is written under a temporary name, flushed and renamed.
    """
    folder = partition_folder(table_dir, value)
    folder.mkdir(parents=True, exist_ok=True)
    declared = TABLES[name].arrow

    def conformed() -> Iterator[pa.Table]:
        for part in parts:
            keys = part.column(PARTITION_KEY).unique().to_pylist()
            if any(key != value for key in keys):
                raise WarehouseError(
                    f"table {name}: rows of {keys} written to the partition of {value}"
                )
            table = part.select(declared.names).cast(declared).drop_columns([PARTITION_KEY])
            del part  # one part held at a time, not this one while the next is made
            yield table
            del table

    return write_parquet(folder / PART_FILE, partition_schema(name), conformed(), ROW_GROUP_ROWS)


def partition_values(table_dir: Path) -> list[str]:
    """The councils a partitioned table holds, in code order."""
    prefix = f"{PARTITION_KEY}="
    return sorted(
        entry.name.removeprefix(prefix)
        for entry in os.scandir(table_dir)
        if entry.is_dir()
        and entry.name.startswith(prefix)
        and (Path(entry.path) / PART_FILE).is_file()
    )


def partitioned_rows(table_dir: Path) -> int:
    """The rows of a partitioned table, from its files' footers (nothing else is read)."""
    return sum(
        pq.ParquetFile(partition_folder(table_dir, value) / PART_FILE).metadata.num_rows
        for value in partition_values(table_dir)
    )


def read_partitioned(table_dir: Path, columns: list[str] | None = None) -> pa.Table:
    """A partitioned table read whole with pyarrow, its key restored as a string column
    (for small tables and tests; analysis reads through the engine)."""
    tables = []
    in_file = None if columns is None else [c for c in columns if c != PARTITION_KEY]
    for value in partition_values(table_dir):
        part = pq.read_table(partition_folder(table_dir, value) / PART_FILE, columns=in_file)
        key = pa.array([value] * part.num_rows, type=pa.string())
        tables.append(part.append_column(PARTITION_KEY, key))
    if not tables:
        raise WarehouseError(f"{table_dir}: no partitions")
    return pa.concat_tables(tables)


def read_table(path: Path, name: str, columns: list[str] | None = None) -> pa.Table:
    """Table ``name`` read whole with pyarrow from ``path``, which is either its one Parquet
    file or its partitioned folder, in its declared column order either way (for small tables,
    tests and tools; analysis reads through the engine)."""
    if not path.is_dir():
        return pq.read_table(path, columns=columns)
    table = read_partitioned(path, columns)
    names = columns if columns is not None else TABLES[name].names
    return table.select(names)


def table_rows(path: Path) -> int:
    """The rows of a table's file or partitioned folder, from the footers alone."""
    return partitioned_rows(path) if path.is_dir() else pq.ParquetFile(path).metadata.num_rows
