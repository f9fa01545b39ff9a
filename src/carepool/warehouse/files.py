"""Files written whole or not at all: a temporary file beside the target, flushed to disk,
then renamed over it.

Every file of the warehouse is written this way (a table's Parquet file, a council's
partition, the manifest, a council's build record), so a reader, a crash or a power cut sees
the old file or the new one, never a part of one; and, flushed before the rename, a manifest
naming a file never outlives the file's data.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet(final: Path, schema: pa.Schema, tables: Iterable[pa.Table], group: int) -> int:
    """Write ``tables`` (parts of one table, in order, each of ``schema``) to ``final``
    whole, in row groups of at most ``group`` rows; returns the rows written.

    The parts are written one at a time, so a caller that makes them lazily holds one part at
    once."""
    fd, tmp = tempfile.mkstemp(prefix=_prefix(final), suffix=".parquet", dir=final.parent)
    os.close(fd)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for table in tables:
                writer.write_table(table, row_group_size=group)
                rows += table.num_rows
                del table  # let a large part go before the next one is made
        fsync_file(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows


def write_json(final: Path, value: Any, indent: int | None = None) -> None:
    """Write ``value`` as JSON (keys sorted, so the same value gives the same bytes) to
    ``final`` whole."""
    fd, tmp = tempfile.mkstemp(prefix=_prefix(final), suffix=".json", dir=final.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh, indent=indent, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prefix(final: Path) -> str:
    """The temporary file's prefix: ``.<name>.`` for ``<name>.parquet``,
    ``<name>.<version>.parquet`` or ``<name>-0.parquet``, the names the store knows for its
    writers' leftovers (:data:`carepool.warehouse.store._TEMPORARY`)."""
    return "." + re.split(r"[.-]", final.name, maxsplit=1)[0] + "."


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make the folder's renames durable (a no-op where folders cannot be opened: Windows)."""
    if sys.platform != "win32":
        fsync_file(path)
