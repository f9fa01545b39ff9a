"""A crash at any point of `carepool load`, or of a build over a built warehouse, leaves the
old state or the new one, whole: the manifest names the file readers see, the rows and the
digest it records are that file's, and whatever the crash left behind is ignored by readers and
swept by the next writer.

Each crash point is a step on the file system -- the new table's file taking its name, the
manifest's rename, the removal of what the commit superseded -- so the same points exist
whatever the code around them. A crash is simulated twice: in the process, by an exception no
handler of ours catches (cleanup code still runs), and for real, by a child process that calls
``os._exit`` at that step (nothing runs after it).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carepool.errors import WarehouseError
from carepool.population import BuildRequest, build
from carepool.warehouse import (
    TABLES,
    KnownCodes,
    Warehouse,
    load_file,
    read_manifest,
    table_path,
    table_rows,
    write_manifest,
    writing,
)
from tests.warehouse.test_loader import MANIFEST, snapshot, valid_rows, write_csv

ROOT = Path(__file__).resolve().parents[2]
#: The exit status of a child process that "crashed" where it was told to.
CRASHED = 86
TRAFFORD = "E08000009"

#: Where a load can be cut short, in the order a load reaches them, and the state it must
#: leave: the table before the load ("old") or after it ("new").
LOAD_POINTS = {
    "writing the new table": "old",
    "before the manifest is replaced": "old",
    "after the manifest is replaced": "new",
    "removing the superseded table": "new",
}


class Crash(BaseException):
    """The process dying at this step: a BaseException, so no ``except Exception`` stops it."""


def install_crash(
    point: str, warehouse: Path, die: Callable[[], NoReturn], setattr_: Any = setattr
) -> None:
    """Make ``die`` happen at ``point`` of the next load or build into ``warehouse``, by
    wrapping the two file operations a commit is made of (``os.replace`` and ``os.unlink``)."""
    real_replace, real_unlink = os.replace, os.unlink
    manifest = warehouse / "manifest.json"

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        names_a_table = Path(src).name.startswith(".") and str(dst).endswith(".parquet")
        if point == "writing the new table" and names_a_table:
            die()
        if point == "before the manifest is replaced" and Path(dst) == manifest:
            die()
        real_replace(src, dst, *args, **kwargs)
        if point == "after the manifest is replaced" and Path(dst) == manifest:
            die()

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if point == "removing the superseded table" and str(path).endswith(".parquet"):
            die()
        real_unlink(path, *args, **kwargs)

    setattr_(os, "replace", replace)
    setattr_(os, "unlink", unlink)


def crash_in_process() -> NoReturn:
    raise Crash


def crash_for_real() -> NoReturn:
    os._exit(CRASHED)


def child(argv: list[str]) -> None:
    """A child process's work: ``load POINT WAREHOUSE FILE`` or ``build POINT WAREHOUSE SEED``,
    dying at POINT."""
    action, point, warehouse = argv[:3]
    install_crash(point, Path(warehouse), crash_for_real)
    if action == "load":
        load_file("residents", Path(argv[3]), Path(warehouse))
    else:
        build(BuildRequest(region=TRAFFORD, scale=0.01, seed=int(argv[3])), Path(warehouse))


def run_child(*argv: str) -> subprocess.CompletedProcess[str]:
    script = "import sys; from tests.security.test_loader_atomic import child; child(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", script, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- what a consistent warehouse is ---------------------------------------------------------


def committed_residents(warehouse: Path) -> tuple[str, list[dict[str, Any]]]:
    """The digest the manifest records for ``residents`` and the rows its file holds, checked
    to agree with each other and with what the engine reads."""
    manifest = read_manifest(warehouse)
    entry = manifest["tables"]["residents"]
    table = pq.read_table(table_path(warehouse, "residents", manifest))
    assert table.num_rows == entry["rows"]
    last = manifest["loads"][-1]
    assert last == {"table": "residents", **{k: entry[k] for k in last if k != "table"}}
    with Warehouse(warehouse) as engine:
        seen = engine.to_pyarrow(engine.table("residents").order_by("person_id"))
    assert seen.to_pylist() == table.sort_by("person_id").to_pylist()
    return entry["sha256"], table.to_pylist()


def assert_holds(warehouse: Path, source: Path, rows: list[dict[str, Any]]) -> None:
    """The warehouse's residents are exactly ``source``'s rows, recorded with its digest."""
    digest, loaded = committed_residents(warehouse)
    assert digest == hashlib.sha256(source.read_bytes()).hexdigest()
    assert loaded == rows


def committed_files(warehouse: Path) -> set[str]:
    """What a clean warehouse holds: the manifest and the one file of each table."""
    manifest = read_manifest(warehouse)
    return {"manifest.json", *(table_path(warehouse, t, manifest).name for t in TABLES)}


def assert_clean(warehouse: Path) -> None:
    """Nothing in the folder but the committed files: no half-written or superseded table."""
    present = {p.name for p in warehouse.iterdir()}
    assert present == committed_files(warehouse) & present
    assert "manifest.json" in present


@pytest.fixture
def extracts(warehouse: Path, tmp_path: Path) -> dict[str, tuple[Path, list[dict[str, Any]]]]:
    """An "old" residents extract, already loaded, and a "new" one with other rows."""
    schema = TABLES["residents"]
    old_rows = valid_rows(schema, 100)
    new_rows = [{**row, "sex": "male" if row["sex"] == "female" else "female"} for row in old_rows]
    old = write_csv(tmp_path / "old.csv", old_rows)
    new = write_csv(tmp_path / "new.csv", new_rows)
    load_file("residents", old, warehouse)
    return {"old": (old, old_rows), "new": (new, new_rows)}


def after_the_crash(warehouse: Path, extracts: dict[str, Any], expected: str) -> None:
    """The state ``expected`` ("old" or "new"), whole; then the next load works and leaves
    nothing behind."""
    assert_holds(warehouse, *extracts[expected])
    known = KnownCodes.from_warehouse(warehouse)
    assert known.years == set(MANIFEST["years"])
    load_file("residents", extracts["old"][0], warehouse)
    assert_holds(warehouse, *extracts["old"])
    assert_clean(warehouse)


# --- loads --------------------------------------------------------------------------------


@pytest.mark.parametrize("point", list(LOAD_POINTS))
def test_a_load_that_fails_at_any_step_leaves_one_whole_state(
    warehouse: Path,
    extracts: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    point: str,
) -> None:
    install_crash(point, warehouse, crash_in_process, monkeypatch.setattr)
    with pytest.raises(Crash):
        load_file("residents", extracts["new"][0], warehouse)
    monkeypatch.undo()
    if point != "removing the superseded table":  # the failed load cleaned up after itself
        assert_clean(warehouse)
    after_the_crash(warehouse, extracts, LOAD_POINTS[point])  # ...or the next one does


@pytest.mark.parametrize("point", list(LOAD_POINTS))
def test_a_load_killed_at_any_step_leaves_one_whole_state(
    warehouse: Path, extracts: dict[str, Any], point: str
) -> None:
    done = run_child("load", point, str(warehouse), str(extracts["new"][0]))
    assert done.returncode == CRASHED, done.stderr
    after_the_crash(warehouse, extracts, LOAD_POINTS[point])


def test_readers_see_only_what_the_manifest_names(
    warehouse: Path, extracts: dict[str, Any]
) -> None:
    """A version written but never committed (the process died before the manifest's rename)
    is in the folder, under a name a committed version could have: readers still read the
    committed one."""
    done = run_child(
        "load", "before the manifest is replaced", str(warehouse), str(extracts["new"][0])
    )
    assert done.returncode == CRASHED, done.stderr
    stray = {p.name for p in warehouse.iterdir()} - committed_files(warehouse)
    assert [name for name in stray if name.endswith(".parquet")] == [
        name for name in stray if name.startswith("residents.")
    ]
    assert len([name for name in stray if name.endswith(".parquet")]) == 1
    assert_holds(warehouse, *extracts["old"])


def test_a_second_writer_is_refused_while_one_is_writing(
    warehouse: Path, extracts: dict[str, Any]
) -> None:
    with writing(warehouse):
        before = snapshot(warehouse)
        with pytest.raises(WarehouseError, match="being written by another"):
            load_file("residents", extracts["new"][0], warehouse)
        assert snapshot(warehouse) == before
    assert_holds(warehouse, *extracts["old"])


def test_a_writer_removes_only_what_a_writer_makes(
    warehouse: Path, extracts: dict[str, Any]
) -> None:
    """What the sweep after a commit may remove is a declared table's file or a temporary file
    of ours; anything else someone put in the folder stays."""
    others = [
        "stays.parquet",
        "notes.txt",
        "residents.csv",
        ".residents.csv",
        "residents.1.parquet",
    ]
    for name in others:
        (warehouse / name).write_bytes(b"not ours")
    load_file("residents", extracts["new"][0], warehouse)
    assert all((warehouse / name).read_bytes() == b"not ours" for name in others)
    assert_holds(warehouse, *extracts["new"])


# --- warehouses from before manifests named their files --------------------------------------


def test_a_warehouse_whose_manifest_names_no_files_is_read_and_loaded_into(
    warehouse: Path, tmp_path: Path
) -> None:
    """The loader tests' warehouse is one: its manifest has no ``file`` entries."""
    assert "file" not in read_manifest(warehouse)["tables"]["residents"]
    with Warehouse(warehouse) as engine:
        assert engine.to_pyarrow(engine.table("residents").count()).column(0)[0].as_py() == 100
    source = write_csv(tmp_path / "r.csv", valid_rows(TABLES["residents"], 3))
    load_file("residents", source, warehouse)
    assert_holds(warehouse, source, valid_rows(TABLES["residents"], 3))
    assert not (warehouse / "residents.parquet").exists()  # superseded, and swept
    assert (warehouse / "lsoa.parquet").exists()  # still the committed lsoa table
    assert_clean(warehouse)


def test_a_manifest_naming_a_file_outside_its_table_is_refused(
    warehouse: Path, tmp_path: Path
) -> None:
    """A damaged manifest cannot send a reader to another folder or another table's file, nor
    make a writer remove anything."""
    outside = tmp_path / "outside.parquet"
    pq.write_table(pa.table({"lsoa21_code": ["E01005001"]}), outside)
    source = write_csv(tmp_path / "r.csv", valid_rows(TABLES["residents"], 3))
    for file in ("../outside.parquet", str(outside), "residents.parquet", "lsoa.parquet/x"):
        manifest = read_manifest(warehouse)
        manifest["tables"]["lsoa"] = {"rows": 3, "source": "synthetic", "file": file}
        write_manifest(warehouse, manifest)
        with Warehouse(warehouse) as engine, pytest.raises(WarehouseError, match="rebuild"):
            engine.table("lsoa")
        before = snapshot(warehouse)
        with pytest.raises(WarehouseError, match="not one of its own; rebuild"):
            load_file("residents", source, warehouse)
        assert snapshot(warehouse) == before
    assert outside.exists()


# --- a build over a built warehouse -------------------------------------------------------------

#: Where a build over a built warehouse can be cut short, and the model it must leave (the
#: seed of the old build or of the new one).
BUILD_POINTS = {
    "writing the new table": 1,
    "before the manifest is replaced": 1,
    "after the manifest is replaced": 2,
    "removing the superseded table": 2,
}


def built(warehouse: Path) -> tuple[int, int]:
    """The seed the manifest records and the residents its table holds, checked to agree."""
    manifest = read_manifest(warehouse)
    for name, entry in manifest["tables"].items():
        assert table_rows(table_path(warehouse, name, manifest)) == entry["rows"]
    return manifest["seed"], manifest["tables"]["residents"]["rows"]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[int, int]]:
    """What a warehouse built with seed 1, and one built with seed 2, record."""
    folder = tmp_path_factory.mktemp("builds")
    return {
        seed: built_state(
            build(BuildRequest(region=TRAFFORD, scale=0.01, seed=seed), folder / str(seed))
        )
        for seed in (1, 2)
    }


def built_state(manifest: dict[str, Any]) -> tuple[int, int]:
    return manifest["seed"], manifest["tables"]["residents"]["rows"]


@pytest.mark.parametrize("point", list(BUILD_POINTS))
def test_a_build_killed_at_any_step_leaves_one_whole_warehouse(
    tmp_path: Path, two_builds: dict[int, tuple[int, int]], point: str
) -> None:
    warehouse = tmp_path / "warehouse"
    build(BuildRequest(region=TRAFFORD, scale=0.01, seed=1), warehouse)
    done = run_child("build", point, str(warehouse), "2")
    assert done.returncode == CRASHED, done.stderr
    assert built(warehouse) == two_builds[BUILD_POINTS[point]]
    build(BuildRequest(region=TRAFFORD, scale=0.01, seed=1), warehouse)
    assert built(warehouse) == two_builds[1]
    assert_clean(warehouse)
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse"]  # no staging folder left


def test_a_build_killed_as_it_first_changes_the_warehouse_leaves_it_readable(
    tmp_path: Path, two_builds: dict[int, tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first rename that touches the warehouse folder itself (not the staging folder) is
    where a build stops only writing and starts replacing: stopped just after it, the old
    warehouse must still be there, whole."""
    warehouse = tmp_path / "warehouse"
    build(BuildRequest(region=TRAFFORD, scale=0.01, seed=1), warehouse)
    real_replace = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        real_replace(src, dst, *args, **kwargs)
        if warehouse in (Path(src), Path(src).parent, Path(dst), Path(dst).parent):
            raise Crash

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Crash):
        build(BuildRequest(region=TRAFFORD, scale=0.01, seed=2), warehouse)
    monkeypatch.undo()
    assert built(warehouse) == two_builds[1]
