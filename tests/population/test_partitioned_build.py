"""The build council by council: partitions, the same bytes whatever the workers or the
region, resuming an interrupted build, and a council cut by an ICB."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from carepool.errors import ConfigError, WarehouseError
from carepool.geography import Geography, lsoa_lookup, resolve_region
from carepool.population import BuildRequest, build, census_by_lad
from carepool.population.build import council_parts
from carepool.population.council import census_for_part
from carepool.population.resources import WORKER_BYTES_PER_RESIDENT, build_needs
from carepool.warehouse import PARTITIONED_TABLES, read_manifest, write_partition, writing

TRAFFORD, MANCHESTER = "E08000009", "E08000003"
TWO = f"{MANCHESTER},{TRAFFORD}"


def digests(warehouse: Path) -> dict[str, str]:
    """Every Parquet file of a warehouse by its path inside it, with its SHA-256."""
    return {
        str(p.relative_to(warehouse)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(warehouse.rglob("*.parquet"))
    }


@pytest.fixture(scope="module")
def two_councils(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by a pool of two worker processes (which a build this small would not start by
    itself: :data:`carepool.population.build.SERIAL_BELOW`)."""
    folder = tmp_path_factory.mktemp("two") / "warehouse"
    module = importlib.import_module("carepool.population.build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "SERIAL_BELOW", 0)
        messages: list[str] = []
        build(BuildRequest(region=TWO, scale=0.02, seed=5), folder, messages.append, workers=2)
    assert read_manifest(folder)["stages"]["councils"]["workers"] == 2
    return folder


def test_the_large_tables_are_partitioned_by_council(two_councils: Path) -> None:
    manifest = read_manifest(two_councils)
    for name in PARTITIONED_TABLES:
        assert manifest["tables"][name]["file"] == name
        folders = sorted(p.name for p in (two_councils / name).iterdir())
        assert folders == [f"lad_code={MANCHESTER}", f"lad_code={TRAFFORD}"]
    # any engine reads the layout as it is: here DuckDB on its own, without carepool
    rows = (
        duckdb.connect()
        .sql(
            f"select lad_code, count(*) from read_parquet('{two_councils}/person_year/*/"
            "*.parquet', hive_partitioning = true) group by lad_code order by lad_code"
        )
        .fetchall()
    )
    assert [code for code, _ in rows] == [MANCHESTER, TRAFFORD]
    assert sum(n for _, n in rows) == manifest["tables"]["person_year"]["rows"]


def test_one_worker_or_two_build_the_same_bytes(two_councils: Path, tmp_path: Path) -> None:
    alone = tmp_path / "warehouse"
    build(BuildRequest(region=TWO, scale=0.02, seed=5), alone, workers=1)
    assert digests(alone) == digests(two_councils)


def test_a_council_is_the_same_bytes_whichever_region_it_is_built_in(
    two_councils: Path, tmp_path: Path
) -> None:
    alone = tmp_path / "warehouse"
    build(BuildRequest(region=TRAFFORD, scale=0.02, seed=5), alone, workers=1)
    theirs = {k: v for k, v in digests(two_councils).items() if TRAFFORD in k}
    mine = {k: v for k, v in digests(alone).items() if TRAFFORD in k}
    assert len(mine) == len(PARTITIONED_TABLES)
    assert mine == theirs


def test_ids_and_nhs_numbers_never_repeat_across_councils(two_councils: Path) -> None:
    residents = (
        duckdb.connect()
        .sql(
            "select person_id, nhs_number from "
            f"read_parquet('{two_councils}/residents/*/*.parquet')"
        )
        .fetchnumpy()
    )
    assert np.unique(residents["person_id"]).size == residents["person_id"].size
    assert np.unique(residents["nhs_number"]).size == residents["nhs_number"].size


def test_an_interrupted_build_resumes_with_the_councils_it_had_not_finished(
    two_councils: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("carepool.population.build")
    real = module.build_council
    built: list[str] = []

    def failing(part: Any, *args: Any) -> dict[str, Any]:
        if part.lad_code == TRAFFORD:  # the second to run: councils go largest first
            raise KeyboardInterrupt
        built.append(part.lad_code)
        record: dict[str, Any] = real(part, *args)
        return record

    warehouse = tmp_path / "warehouse"
    request = BuildRequest(region=TWO, scale=0.02, seed=5)
    monkeypatch.setattr(module, "build_council", failing)
    with pytest.raises(KeyboardInterrupt):
        build(request, warehouse, workers=1)
    assert built == [MANCHESTER]
    assert not (warehouse / "manifest.json").exists()  # nothing committed

    def counting(part: Any, *args: Any) -> dict[str, Any]:
        built.append(part.lad_code)
        record: dict[str, Any] = real(part, *args)
        return record

    monkeypatch.setattr(module, "build_council", counting)
    messages: list[str] = []
    build(request, warehouse, messages.append, workers=1)
    assert built == [MANCHESTER, TRAFFORD]  # Manchester was not built again
    assert "Resuming: Manchester was built before (1 of 2 councils)" in messages
    assert "Built Trafford (2 of 2 councils)" in messages
    assert digests(warehouse) == digests(two_councils)
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse"]  # no staging left


def test_no_resume_builds_every_council_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("carepool.population.build")
    real = module.build_council
    calls: list[str] = []

    def once(part: Any, *args: Any) -> dict[str, Any]:
        calls.append(part.lad_code)
        if len(calls) == 1:
            record: dict[str, Any] = real(part, *args)
            return record
        raise RuntimeError("stopped")

    monkeypatch.setattr(module, "build_council", once)
    request = BuildRequest(region=TWO, scale=0.01, seed=1)
    with pytest.raises(RuntimeError, match="stopped"):
        build(request, tmp_path / "warehouse", workers=1)

    def counting(part: Any, *args: Any) -> dict[str, Any]:
        calls.append(part.lad_code)
        record: dict[str, Any] = real(part, *args)
        return record

    monkeypatch.setattr(module, "build_council", counting)
    build(request, tmp_path / "warehouse", workers=1, resume=False)
    assert calls == [MANCHESTER, TRAFFORD, MANCHESTER, TRAFFORD]


def test_a_partition_refuses_rows_of_another_council(tmp_path: Path) -> None:
    rows = pa.table({"lad_code": [TRAFFORD], "year": ["2024-25"]})
    with pytest.raises(WarehouseError, match="written to the partition of"):
        write_partition(tmp_path / "activity_cost", "activity_cost", MANCHESTER, [rows])
    assert not list((tmp_path / "activity_cost").rglob("*.parquet"))


def test_a_council_cut_by_icbs_is_fitted_to_each_part_and_the_parts_add_up() -> None:
    lookup = lsoa_lookup()
    split = lookup.groupby("lad24_code")["icb24_code"].nunique()
    council = str(split[split > 1].index[0])
    icbs = sorted(set(lookup.loc[lookup["lad24_code"] == council, "icb24_code"]))
    parts = [
        next(p for p in council_parts(Geography.load(resolve_region(icb))) if p.lad_code == council)
        for icb in icbs
    ]
    assert not any(p.whole for p in parts)
    tables = [census_for_part(p) for p in parts]
    census = census_by_lad([council])[council]
    # each part rounds to whole people keeping its own total: the parts differ from the whole
    # by less than one person per part
    assert abs(int(sum(t.sum() for t in tables)) - int(census.sum())) < len(parts)
    assert np.all(np.abs(sum(tables) - census) <= len(parts))


def test_a_build_the_machine_cannot_hold_is_refused_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = importlib.import_module("carepool.population.resources")
    monkeypatch.setattr(resources, "available_memory", lambda: 2**30)  # 1 GiB free
    with pytest.raises(ConfigError, match=r"needs about .* of memory with 2 worker\(s\)"):
        build(BuildRequest(region="england", scale=1.0), tmp_path / "warehouse", workers=2)
    assert not (tmp_path / "warehouse" / "manifest.json").exists()
    assert not list(tmp_path.glob(".warehouse-building-*/_councils"))  # nothing was built

    usage = type("Usage", (), {"free": 2**20})()  # 1 MiB free
    monkeypatch.setattr(resources.shutil, "disk_usage", lambda _path: usage)
    with pytest.raises(ConfigError, match=r"needs about .* of disk"):
        build(BuildRequest(region=TRAFFORD, scale=1.0), tmp_path / "other", workers=1)


def test_what_a_build_needs_grows_with_its_largest_councils_and_its_years() -> None:
    needs = build_needs([1_000_000, 500_000, 100_000], scale=1.0, years=2, workers=2)
    assert needs.memory > 1_500_000 * WORKER_BYTES_PER_RESIDENT
    fewer = build_needs([1_000_000, 500_000, 100_000], scale=1.0, years=2, workers=1)
    assert fewer.memory < needs.memory
    longer = build_needs([1_000_000, 500_000, 100_000], scale=1.0, years=10, workers=2)
    assert longer.memory > needs.memory
    assert longer.disk == 5 * needs.disk


def test_the_sweep_removes_superseded_partitions_and_nothing_of_anyone_elses(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "warehouse"
    build(BuildRequest(region=TRAFFORD, scale=0.01, seed=2), warehouse, workers=1)
    mine = warehouse / "places"  # a user's folder with a table's name
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    theirs = warehouse / "residents.0123456789abcdef"  # a table's version name, not ours
    (theirs / "other").mkdir(parents=True)
    superseded = warehouse / "person_year.fedcba9876543210"
    (superseded / f"lad_code={TRAFFORD}").mkdir(parents=True)
    (superseded / f"lad_code={TRAFFORD}" / "part-0.parquet").write_bytes(b"old")
    with writing(warehouse):
        pass
    assert (mine / "notes.txt").read_text() == "keep me"
    assert (theirs / "other").is_dir()
    assert not superseded.exists()
    assert (warehouse / "person_year").is_dir()  # the committed one stays
