"""Loading a checked file: replace the table and record the load -- or change nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from carepool.errors import ConfigError, LoadRejected
from carepool.warehouse.loading.files import kind_of, read_bytes
from carepool.warehouse.loading.known import KnownCodes
from carepool.warehouse.loading.problems import MAX_PROBLEMS, Problems
from carepool.warehouse.loading.validation import validate_file
from carepool.warehouse.partitions import read_table
from carepool.warehouse.schemas import TABLES, TableSchema
from carepool.warehouse.store import (
    Derive,
    read_manifest,
    table_exists,
    table_path,
    write_manifest,
    write_version,
    writing,
)


@dataclass(frozen=True)
class LoadResult:
    """A load that happened: which table, from which file, how many rows, and when."""

    table: str
    source: Path
    rows: int
    sha256: str
    loaded_at: str


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


def load_file(
    table_name: str, path: Path, warehouse_dir: Path, derive: Derive | None = None
) -> LoadResult:
    """Validate ``path`` as table ``table_name`` and replace that table -- or load nothing.

    What the file may refer to comes from the warehouse (:meth:`KnownCodes.from_warehouse`).
    The file is read once, if it is a regular file within the limits of
    :mod:`~carepool.warehouse.loading.files`, and those bytes are both hashed and checked. On
    any problem :class:`LoadRejected` is raised and nothing in the warehouse changes.

    The whole load holds the warehouse's write lock
    (:func:`~carepool.warehouse.store.writing`), so the manifest and tables it checks against
    are the ones it commits over. A good file is written as a new version of the table, and one
    rename of the manifest -- which names that version and records the load (file name, rows,
    SHA-256 of the bytes loaded, time) -- commits both at once: a crash at any point leaves
    either the old table with the old manifest or the new table with the new one.

    ``derive`` rewrites the tables derived from the loaded one (the disclosure audit's record:
    :func:`carepool.model.load_extract`) before that commit, so they are committed with it.
    """
    schema = loadable_schema(table_name)
    with writing(warehouse_dir):
        manifest = read_manifest(warehouse_dir)
        known = KnownCodes.from_warehouse(warehouse_dir, manifest)
        # one read: the bytes hashed are the bytes checked and loaded (the file may change after)
        opened = Problems(path.name, {})
        data = read_bytes(path, opened) if kind_of(path, opened) else None
        if data is None:
            raise LoadRejected(opened.source, opened.first(MAX_PROBLEMS), total=opened.total)
        digest = hashlib.sha256(data).hexdigest()
        person_ids = None
        if schema.name == "person_year":  # no row may be an orphan
            person_ids = _resident_ids(warehouse_dir, manifest)
            if person_ids is None:
                opened.file(
                    None,
                    "cannot be checked: the warehouse has no residents table for its person_id "
                    "values to refer to (load residents first)",
                )
                raise LoadRejected(opened.source, opened.first(MAX_PROBLEMS), total=opened.total)
        table, problems, total = validate_file(
            schema,
            path,
            known_lsoas=known.lsoas,
            known_lads=known.lads,
            known_payers=known.payers,
            lad_of_lsoa=known.lad_of_lsoa,
            years=known.years,
            services=known.services,
            person_ids=person_ids,
            data=data,
        )
        del data
        if table is None:
            raise LoadRejected(opened.source, problems, total=total)
        result = LoadResult(
            table_name,
            path,
            table.num_rows,
            digest,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        file = write_version(warehouse_dir, table_name, table)
        del table
        _commit(warehouse_dir, manifest, result, file, derive)
    return result


def _commit(
    warehouse_dir: Path,
    manifest: dict[str, Any],
    load: LoadResult,
    file: str,
    derive: Derive | None,
) -> None:
    """Record ``load`` in the manifest, naming ``file`` as its table's version, derive what
    depends on it, and commit it all (one rename). The previous files are removed once the
    lock is let go."""
    record = {
        "table": load.table,
        "source": load.source.name,
        "rows": load.rows,
        "sha256": load.sha256,
        "loaded_at": load.loaded_at,
    }
    manifest.setdefault("loads", []).append(record)
    tables = manifest.setdefault("tables", {})
    entry = {**tables.get(load.table, {}), **record, "file": file}
    del entry["table"]
    tables[load.table] = entry
    if derive is not None:
        manifest = derive(warehouse_dir, manifest)
    write_manifest(warehouse_dir, manifest)


def _resident_ids(warehouse_dir: Path, manifest: dict[str, Any]) -> pa.Array | None:
    """The person ids of the warehouse's residents table, or None if it has none."""
    path = table_path(warehouse_dir, "residents", manifest)
    if not table_exists(path):
        return None
    ids: pa.Array = read_table(path, "residents", ["person_id"]).column(0).combine_chunks()
    return ids
