"""Writing and reading the warehouse's Parquet files and its manifest.

Every table is one Parquet file, ``<warehouse>/<table>.parquet``. A write goes to a temporary
file in the same folder and is renamed into place, so a reader never sees half a table. The
manifest (``manifest.json``) records how the warehouse was built and what each table holds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from carepool.errors import WarehouseError
from carepool.warehouse.schemas import TABLES

MANIFEST = "manifest.json"
#: What every reader of the manifest relies on.
MANIFEST_KEYS = ("region", "lad_codes", "scale", "seed", "years", "places", "tables")


def table_path(warehouse_dir: Path, name: str) -> Path:
    return warehouse_dir / f"{name}.parquet"


def conform(name: str, table: pa.Table) -> pa.Table:
    """Cast ``table`` to the declared schema of ``name``, in the declared column order."""
    schema = TABLES[name].arrow
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise WarehouseError(f"table {name}: missing column(s) {', '.join(missing)}")
    return table.select(schema.names).cast(schema)


def write_table(warehouse_dir: Path, name: str, table: pa.Table) -> Path:
    """Write one table atomically (temporary file, then rename)."""
    return write_table_parts(warehouse_dir, name, [table])


def write_table_parts(warehouse_dir: Path, name: str, parts: Iterable[pa.Table]) -> Path:
    """Write a table from consecutive parts (say, one per year) atomically.

    Parts are written as they come, so a large table never has to be held whole in memory;
    the file only replaces the old table once every part is written.
    """
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    schema = TABLES[name].arrow
    final = table_path(warehouse_dir, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet", dir=warehouse_dir)
    os.close(fd)
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for part in parts:
                writer.write_table(conform(name, part), row_group_size=1_000_000)
                del part  # let a large part go before the next one is made
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return final


def read_manifest(warehouse_dir: Path) -> dict[str, Any]:
    path = warehouse_dir / MANIFEST
    if not path.is_file():
        raise WarehouseError(
            f"no warehouse at {warehouse_dir} (missing {MANIFEST}); run `carepool build` first"
        )
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise WarehouseError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise WarehouseError(f"{path}: expected a JSON object")
    missing = [key for key in MANIFEST_KEYS if key not in data]
    if missing:
        raise WarehouseError(f"{path}: missing {', '.join(missing)}; rebuild with `carepool build`")
    return data


def write_manifest(warehouse_dir: Path, manifest: dict[str, Any]) -> None:
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".json", dir=warehouse_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, warehouse_dir / MANIFEST)


def mixed_sources(manifest: dict[str, Any]) -> str | None:
    """A warning when some loadable tables hold a partner's extract and others the synthetic
    model: figures that combine them (cost per head, indicators) then mix real and synthetic
    people. None when all are of one kind."""
    loadable = [name for name, spec in TABLES.items() if spec.loadable]
    loaded = {load["table"] for load in manifest.get("loads", [])}
    real = [name for name in loadable if name in loaded]
    if not real or len(real) == len(loadable):
        return None
    synthetic = [name for name in loadable if name not in loaded]
    return (
        f"{', '.join(real)} {'holds' if len(real) == 1 else 'hold'} a loaded extract but "
        f"{', '.join(synthetic)} {'is' if len(synthetic) == 1 else 'are'} still synthetic: "
        "figures that combine them mix real and synthetic records"
    )
