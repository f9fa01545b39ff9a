"""Writing and reading the warehouse's Parquet files and its manifest, committed together.

The manifest (``manifest.json``) is the warehouse's commit record. It says how the warehouse
was built, what each table holds (rows, source, and for a loaded extract the SHA-256 of the
file loaded) and which one Parquet file holds each table (``tables.<name>.file``). Readers
find a table only through it (:func:`table_path`), so what they read is one committed state:
the files a manifest names, holding the rows it records.

A writer (a load, or a build over a built warehouse) never changes a file a manifest names. It
holds the warehouse's write lock (:func:`writing`), writes each new table to a file of its own
(``<table>.<16 hex digits>.parquet``: :func:`write_version`, or :func:`replace_warehouse` for
a whole build), and commits by replacing the manifest in one rename (:func:`write_manifest`).
A crash before that rename leaves the old manifest naming the old files; a crash after it, the
new manifest naming the new ones. Files no manifest names any more -- superseded versions, a
half-written file, a version written but never committed -- are removed when the writer lets
go of the lock, or by the next writer if the process died (:func:`sweep`).

A fresh build writes ``<table>.parquet``. A manifest written before manifests named their files
has no ``file`` entries; its tables are read from ``<table>.parquet``, as they always were.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from carepool.errors import WarehouseError
from carepool.warehouse.files import fsync_dir, write_json, write_parquet
from carepool.warehouse.location import Location, join, read_text
from carepool.warehouse.partitions import PARTITIONED_TABLES, partition_values, read_table
from carepool.warehouse.schemas import TABLES

if sys.platform != "win32":
    import fcntl

MANIFEST: Final = "manifest.json"
#: A step run before a build or a load commits: given the warehouse folder and the manifest
#: about to be committed (which names the files to read), it writes the tables derived from
#: them as new versions (:func:`write_version`) and returns the manifest naming those too, so
#: they are committed in the same rename.
Derive = Callable[[Path, dict[str, Any]], dict[str, Any]]
#: What every reader of the manifest relies on.
MANIFEST_KEYS = ("region", "lad_codes", "scale", "seed", "years", "places", "tables")

#: A table's file: ``<table>.parquet`` (a fresh build) or ``<table>.<16 hex>.parquet``.
_VERSION_HEX: Final = 16
#: What :func:`tempfile.mkstemp` makes for our writers: ``.<table>.<random>.parquet`` and
#: ``.manifest.<random>.json``.
_TEMPORARY: Final = re.compile(r"\.([a-z][a-z0-9_]*)\.[A-Za-z0-9_]+\.parquet|\.manifest\.\w+\.json")


def _file_pattern(name: str) -> re.Pattern[str]:
    """A table's own names: ``<name>[.<16 hex>].parquet`` for a file, ``<name>[.<16 hex>]``
    for the folder of a partitioned table (:mod:`carepool.warehouse.partitions`)."""
    return re.compile(rf"{re.escape(name)}(?:\.[0-9a-f]{{{_VERSION_HEX}}})?(?:\.parquet)?")


def _no_warehouse(warehouse_dir: Location) -> WarehouseError:
    return WarehouseError(
        f"no warehouse at {warehouse_dir} (missing {MANIFEST}); run `carepool build` first"
    )


def table_file(manifest: Mapping[str, Any], name: str) -> str:
    """The file name of table ``name`` in the state ``manifest`` commits.

    That is the table's ``file`` entry, or ``<name>.parquet`` when the manifest names none (a
    folder of Parquet files with no manifest, a warehouse from before manifests named files, or
    a table the manifest does not list). A ``file`` that is not one of the table's own names
    (another folder, another table's file) is refused: the manifest is damaged.
    """
    tables = manifest.get("tables")
    entry = tables.get(name) if isinstance(tables, Mapping) else None
    file = entry.get("file") if isinstance(entry, Mapping) else None
    if file is None:
        return f"{name}.parquet"
    if not isinstance(file, str) or not _file_pattern(name).fullmatch(file):
        raise WarehouseError(
            f"{MANIFEST}: table {name} names the file {file!r}, which is not one of its own; "
            "rebuild with `carepool build`"
        )
    return file


def table_exists(path: Path) -> bool:
    """Whether a table's file, or its partitioned folder with at least one partition, is
    there."""
    return path.is_file() or (path.is_dir() and bool(partition_values(path)))


def read_warehouse_table(
    warehouse_dir: Path,
    name: str,
    columns: list[str] | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> pa.Table:
    """Table ``name`` as committed, read whole with pyarrow, a file or a partitioned folder
    alike (small tables, tests and tools; analysis reads through the engine)."""
    return read_table(table_path(warehouse_dir, name, manifest), name, columns)


def current_manifest(warehouse_dir: Location) -> dict[str, Any]:
    """The committed manifest, or an empty one for a folder of Parquet files without any
    (tests and benchmarks write their own tables), whose tables are ``<name>.parquet``.
    ``warehouse_dir`` may be a URL (:mod:`carepool.warehouse.location`)."""
    text = read_text(warehouse_dir, MANIFEST)
    return {} if text is None else _parse_manifest(join(warehouse_dir, MANIFEST), text)


def table_path(warehouse_dir: Path, name: str, manifest: Mapping[str, Any] | None = None) -> Path:
    """The file holding table ``name`` as committed by ``manifest``.

    Without ``manifest`` the warehouse's current one is read. A reader that reads more than one
    table should read the manifest once and pass it, so that its tables are of one commit.
    """
    if manifest is None:
        manifest = current_manifest(warehouse_dir)
    return warehouse_dir / table_file(manifest, name)


def conform(name: str, table: pa.Table) -> pa.Table:
    """Cast ``table`` to the declared schema of ``name``, in the declared column order."""
    schema = TABLES[name].arrow
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise WarehouseError(f"table {name}: missing column(s) {', '.join(missing)}")
    return table.select(schema.names).cast(schema)


def write_table(warehouse_dir: Path, name: str, table: pa.Table) -> Path:
    """Write table ``name`` as ``<name>.parquet``, atomically (temporary file, then rename).

    For building a folder nothing reads yet (a build's staging folder, a test's tables); a
    built warehouse's tables change only through a commit (:func:`write_version`).
    """
    return write_table_parts(warehouse_dir, name, [table])


def write_table_parts(warehouse_dir: Path, name: str, parts: Iterable[pa.Table]) -> Path:
    """Write a table from consecutive parts (say, one per year) as ``<name>.parquet``.

    Parts are written as they come, so a large table never has to be held whole in memory;
    the file only takes the table's name once every part is written.
    """
    return _write(warehouse_dir, name, parts, f"{name}.parquet")


def write_version(warehouse_dir: Path, name: str, table: pa.Table) -> str:
    """Write ``table`` as a new version of table ``name``, in a file no manifest names yet;
    returns the file's name, for the manifest that commits it.

    Until that manifest is written nothing reads the file, and if it never is, :func:`sweep`
    removes it.
    """
    return _write(warehouse_dir, name, [table], _version_name(name)).name


def _version_name(name: str, folder: bool = False) -> str:
    """A file name (or, for a partitioned table, a folder name) for a new version of table
    ``name``, unused by any earlier version."""
    stem = f"{name}.{secrets.token_hex(_VERSION_HEX // 2)}"
    return stem if folder else f"{stem}.parquet"


def _write(warehouse_dir: Path, name: str, parts: Iterable[pa.Table], file: str) -> Path:
    """Write ``parts`` to ``file`` whole (:func:`carepool.warehouse.files.write_parquet`)."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    final = warehouse_dir / file

    def conformed() -> Iterator[pa.Table]:
        for part in parts:
            table = conform(name, part)
            del part  # one part held at a time, not this one while the next is made
            yield table
            del table

    write_parquet(final, TABLES[name].arrow, conformed(), 1_000_000)
    return final


def read_manifest(warehouse_dir: Location) -> dict[str, Any]:
    """The committed manifest of the warehouse at ``warehouse_dir`` (a folder or a URL:
    :mod:`carepool.warehouse.location`), checked; a clear error when there is none."""
    text = read_text(warehouse_dir, MANIFEST)
    if text is None:
        raise _no_warehouse(warehouse_dir)
    return _parse_manifest(join(warehouse_dir, MANIFEST), text)


def _parse_manifest(path: Location, text: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WarehouseError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise WarehouseError(f"{path}: expected a JSON object")
    missing = [key for key in MANIFEST_KEYS if key not in data]
    if missing:
        raise WarehouseError(f"{path}: missing {', '.join(missing)}; rebuild with `carepool build`")
    return data


def write_manifest(warehouse_dir: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest in one rename: the commit of a warehouse's new state.

    The new manifest is flushed to disk before the rename and the rename after it, so a crash
    or power cut leaves the old manifest or the new one, never a mixture or an empty file.
    """
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    write_json(warehouse_dir / MANIFEST, manifest, indent=2)
    fsync_dir(warehouse_dir)


@contextlib.contextmanager
def writing(warehouse_dir: Path) -> Iterator[None]:
    """Hold the warehouse's write lock while a load or a build changes it.

    Two writers at once would each commit a manifest built on the state they read, and the
    second would drop the first's load or name a file the first removed; so a second writer is
    refused at once (a :class:`WarehouseError` saying so) rather than queued behind a build that
    may take minutes. The lock is on the folder itself (``flock``), so there is no lock file to
    leave behind, and the system releases it when the process ends, however it ends. What an
    interrupted writer left is swept on entry, and what this writer superseded on exit.
    Readers take no lock: they read whatever manifest is committed.
    """
    if not warehouse_dir.is_dir():
        raise _no_warehouse(warehouse_dir)
    if sys.platform == "win32":  # no flock: writers are not kept apart
        sweep(warehouse_dir)
        try:
            yield
        finally:
            sweep(warehouse_dir)
        return
    fd = os.open(warehouse_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseError(
                f"{warehouse_dir} is being written by another `carepool load` or "
                "`carepool build`; try again when it has finished"
            ) from None
        if not _still_at(fd, warehouse_dir):
            raise WarehouseError(
                f"{warehouse_dir} was replaced by a build while this was starting; try again"
            )
        sweep(warehouse_dir)
        try:
            yield
        finally:
            if _still_at(fd, warehouse_dir):  # not if a build swapped a new folder in
                sweep(warehouse_dir)
    finally:
        os.close(fd)  # releases the lock


def _still_at(fd: int, path: Path) -> bool:
    """Whether the folder open as ``fd`` (the one locked) is still the one at ``path``."""
    opened = os.fstat(fd)
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    return (opened.st_dev, opened.st_ino) == (now.st_dev, now.st_ino)


def sweep(warehouse_dir: Path) -> list[str]:
    """Remove the files of declared tables that the committed manifest does not name, and
    temporary files of interrupted writes; returns the names removed.

    Only for a writer holding the lock (:func:`writing`): another writer's files, not yet
    committed, would look superseded. Files of undeclared tables and anything else in the
    folder are left alone, and nothing is removed while the manifest cannot be read (what is
    committed is then unknown).
    """
    try:
        manifest = current_manifest(warehouse_dir)
        keep = {table_file(manifest, name) for name in TABLES}
    except WarehouseError:
        return []
    if not manifest:
        return []
    removed = []
    for entry in os.scandir(warehouse_dir):
        if entry.name in keep or not _left_by_a_writer(entry.name):
            continue
        if entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):  # already gone, or not ours to remove
                os.unlink(entry.path)
                removed.append(entry.name)
        elif entry.is_dir(follow_symlinks=False) and _partitioned_folder(Path(entry.path)):
            shutil.rmtree(entry.path, ignore_errors=True)  # a superseded partitioned table
            removed.append(entry.name)
    return sorted(removed)


def _left_by_a_writer(file: str) -> bool:
    """Whether ``file`` is one a writer makes: a declared table's version or temporary file, a
    temporary manifest, or a partitioned table's folder (its contents checked apart:
    :func:`_partitioned_folder`)."""
    temporary = _TEMPORARY.fullmatch(file)
    if temporary:
        return temporary.group(1) is None or temporary.group(1) in TABLES
    if file.endswith(".parquet"):
        return any(_file_pattern(name).fullmatch(file) for name in TABLES)
    return any(_file_pattern(name).fullmatch(file) for name in PARTITIONED_TABLES)


def _partitioned_folder(path: Path) -> bool:
    """Whether a folder holds nothing but a build's partitions (``lad_code=...`` folders), so
    that a folder of anyone else's with a table's name is never removed."""
    entries = list(os.scandir(path))
    return bool(entries) and all(
        e.is_dir(follow_symlinks=False) and e.name.startswith("lad_code=") for e in entries
    )


def refuse_foreign(warehouse_dir: Path) -> None:
    """Refuse to build into a folder that holds anything but a warehouse's files and has no
    manifest: a build replaces such a folder whole, and must never take a user's own folder
    (``CAREPOOL_WAREHOUSE_URL=~/projects``) with it."""
    if not warehouse_dir.is_dir() or (warehouse_dir / MANIFEST).is_file():
        return
    foreign = sorted(
        entry.name for entry in warehouse_dir.iterdir() if not _left_by_a_writer(entry.name)
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise WarehouseError(
            f"{warehouse_dir} holds files that are not a warehouse's ({shown}) and no "
            f"{MANIFEST}; a build replaces its folder whole, so carepool will not build "
            "there: name a new or empty folder"
        )


def replace_warehouse(staging: Path, warehouse_dir: Path) -> dict[str, Any]:
    """Make a warehouse written in ``staging`` (a folder beside ``warehouse_dir``, with its
    tables and manifest) the warehouse; returns the manifest committed.

    Over a built warehouse this is a commit like a load's: the staged tables are moved in under
    names of their own, and the staged manifest, naming them, replaces the old one in one
    rename; the old tables are swept when the lock is let go. Where nothing is committed yet
    the staging folder is renamed into place. Call it holding :func:`writing` on
    ``warehouse_dir``.
    """
    manifest = read_manifest(staging)
    if (warehouse_dir / MANIFEST).is_file():
        for name in manifest["tables"]:
            file = _version_name(name, folder=(staging / table_file(manifest, name)).is_dir())
            os.replace(staging / table_file(manifest, name), warehouse_dir / file)
            manifest["tables"][name]["file"] = file
        fsync_dir(warehouse_dir)
        write_manifest(warehouse_dir, manifest)
        return manifest
    refuse_foreign(warehouse_dir)
    retired = warehouse_dir.with_name(f".{warehouse_dir.name}-retired-{os.getpid()}")
    if warehouse_dir.exists():
        os.replace(warehouse_dir, retired)
    os.replace(staging, warehouse_dir)
    fsync_dir(warehouse_dir.parent)
    shutil.rmtree(retired, ignore_errors=True)
    return manifest


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
