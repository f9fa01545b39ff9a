"""``carepool build``: geography -> each council fitted, calibrated, simulated and written
(in parallel, resumable) -> the region's own tables -> warehouse, committed at once.

The large tables are written a council at a time, hive-partitioned by council
(:mod:`carepool.warehouse.partitions`), by a pool of worker processes: memory is bounded by the
largest council a worker holds, not by the region, so any English region (all of England
included) builds on a laptop. Each council's part depends only on the request and its own
data (:mod:`carepool.population.council`), so the warehouse is the same bytes whatever the
order the councils ran in and however many workers ran them. A build stopped part-way keeps
its finished councils in its staging folder; the same request again resumes from them.
"""

from __future__ import annotations

import glob
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa

from carepool import __version__
from carepool.errors import ConfigError
from carepool.geography import Geography, Region, lsoa_lookup, memberships_table, resolve_region
from carepool.population.census import census_residents
from carepool.population.council import (
    RECORDS,
    CouncilPart,
    CouncilRequest,
    build_council,
    die_with_parent,
    finished,
    peak_rss_mib,
)
from carepool.population.lsoa_change import lsoa11_footprints
from carepool.population.parameters import load_parameters
from carepool.population.resources import build_needs, check_resources
from carepool.population.rows import services_table
from carepool.reference import data_digest
from carepool.warehouse import (
    PARTITIONED_TABLES,
    Derive,
    replace_warehouse,
    write_manifest,
    write_table,
    writing,
)

Progress = Callable[[str], None]
#: The most worker processes a build starts unless asked for more: one per core.
DEFAULT_WORKERS: Final = (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
)


#: Below this many residents to build, councils are built in this process one after another:
#: starting worker processes would take longer than the work (the bytes are the same).
SERIAL_BELOW: Final = 300_000


@dataclass(frozen=True)
class BuildRequest:
    """What to build: the region, the share of its residents, the seed and how many years;
    checked when made, so a shell can hand over whatever its user typed."""

    region: str = "gm"
    scale: float = 1.0
    seed: int = 42
    years: int = 2

    def __post_init__(self) -> None:
        if not 0.0 < self.scale <= 1.0:
            raise ConfigError(f"--scale {self.scale}: expected a number in (0, 1]")
        if self.seed < 0:
            raise ConfigError(f"--seed {self.seed}: expected a non-negative integer")
        if not 2 <= self.years <= 10:
            raise ConfigError(f"--years {self.years}: expected 2 to 10 consecutive years")

    @property
    def steps(self) -> int:
        """How many steps :func:`build` reports to its ``progress``: the places, each
        council, and the writing."""
        return 2 + len(resolve_region(self.region).lad_codes)


def council_parts(geo: Geography) -> list[CouncilPart]:
    """The region's councils, each with its LSOAs in the region, in code order."""
    lookup = lsoa_lookup()
    sizes = lookup.groupby("lad24_code").size().to_dict()
    parts = []
    for (code, name), group in geo.lsoas.groupby(["lad_code", "lad_name"], sort=True):
        parts.append(
            CouncilPart(
                lad_code=str(code),
                lad_name=str(name),
                lsoa_codes=tuple(group["lsoa21_code"].astype(str)),
                imd_quintiles=tuple(int(q) for q in group["imd_quintile"]),
                icb_codes=tuple(group["icb24_code"].astype(str)),
                whole=len(group) == sizes[str(code)],
            )
        )
    return parts


def build(
    request: BuildRequest,
    warehouse_dir: Path,
    progress: Progress | None = None,
    derive: Derive | None = None,
    *,
    workers: int | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """Build the model and write every warehouse table; returns the manifest committed.

    All or nothing: the tables are written to a staging folder beside the warehouse and
    committed together once everything is written, over a built warehouse in one rename of its
    manifest (:func:`~carepool.warehouse.replace_warehouse`). A failed or interrupted build
    leaves the old warehouse as it was, and its finished councils in the staging folder:
    the same request again (``resume``) builds only the councils not finished. The build
    holds the warehouse's write lock throughout, so no load commits into a warehouse about to
    be replaced.

    ``workers`` processes build councils at once (default: one per core; 1 builds in this
    process). ``derive`` writes the tables derived from the built ones (the disclosure
    audit's record: :func:`carepool.model.build_model`) into the staging folder, before
    anything is committed.
    """
    count = DEFAULT_WORKERS if workers is None else workers
    if count < 1:
        raise ConfigError(f"--workers {count}: expected 1 or more")
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    with writing(warehouse_dir):
        staging = warehouse_dir.parent / f"{_staging_prefix(warehouse_dir)}{_request_key(request)}"
        for stale in warehouse_dir.parent.glob(glob.escape(_staging_prefix(warehouse_dir)) + "*"):
            if stale != staging or not resume:
                shutil.rmtree(stale, ignore_errors=True)  # another request's, or not wanted
        staging.mkdir(exist_ok=True)
        manifest = _build_into(request, staging, progress, count)
        if derive is not None:
            started = time.perf_counter()
            manifest = derive(staging, manifest)
            manifest["stages"]["audit"] = _stage(started)
            write_manifest(staging, manifest)
        # the councils' records leave the folder (it may become the warehouse) but are kept
        # until the commit, so a failure committing still resumes from them
        records = staging.with_name(f"{staging.name}-records")
        shutil.rmtree(records, ignore_errors=True)
        os.replace(staging / RECORDS, records)
        try:
            committed = replace_warehouse(staging, warehouse_dir)
        except BaseException:
            os.replace(records, staging / RECORDS)
            raise
        shutil.rmtree(records, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        return committed


def _staging_prefix(warehouse_dir: Path) -> str:
    return f".{warehouse_dir.name}-building-"


def _request_key(request: BuildRequest) -> str:
    """What a staging folder was built for: the request, carepool and its reference data. A
    build resumes only from a folder built for the very same."""
    text = json.dumps(
        {
            "request": asdict(request),
            "version": __version__,
            "code": _code_digest(),
            "data": data_digest(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@cache
def _code_digest() -> str:
    """A digest of the code that makes a council's rows (this package and the warehouse's
    writers), and of the libraries that draw and write them: a build resumes only from
    councils the very same code built."""
    digest = hashlib.sha256(f"numpy {np.__version__} pyarrow {pa.__version__}".encode())
    for package in (Path(__file__).parent, Path(write_table.__code__.co_filename).parent):
        for source in sorted(package.rglob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()


def _stage(started: float) -> dict[str, float | None]:
    """A stage's wall seconds, and this process's peak memory so far."""
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mib": peak_rss_mib(),
    }


def _build_into(
    request: BuildRequest, staging: Path, progress: Progress | None, workers: int
) -> dict[str, Any]:
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    say("Loading places")
    region = resolve_region(request.region)
    geo = Geography.load(region)
    parts = council_parts(geo)
    people = census_residents()
    needs = build_needs([people[p.lad_code] for p in parts], request.scale, request.years, workers)
    check_resources(needs, staging, min(workers, len(parts)))
    stages = {"places": _stage(started)}

    started = time.perf_counter()
    records, used = _build_councils(parts, request, staging, say, workers)
    stages["councils"] = _stage(started)
    stages["councils"]["workers"] = used
    peaks = [r["peak_rss_mib"] for r in records.values() if r["peak_rss_mib"] is not None]
    stages["councils"]["worker_peak_rss_mib"] = max(peaks, default=None)

    started = time.perf_counter()
    say("Writing the warehouse")
    manifest = _region_tables(request, region, geo, parts, records, staging)
    stages["tables"] = _stage(started)
    manifest["stages"] = stages
    manifest["build_seconds"] = round(sum(s["seconds"] or 0.0 for s in stages.values()), 2)
    write_manifest(staging, manifest)
    return manifest


def _build_councils(
    parts: list[CouncilPart],
    request: BuildRequest,
    staging: Path,
    say: Progress,
    workers: int,
) -> tuple[dict[str, dict[str, Any]], int]:
    """Every council's record: those already finished in ``staging`` as they are, the others
    built (largest first, so the pool is not left waiting on one big council at the end); and
    how many processes built them."""
    shared = CouncilRequest(scale=request.scale, seed=request.seed, years=request.years)
    records: dict[str, dict[str, Any]] = {}
    todo = []
    for part in parts:
        record = finished(staging, part, shared)
        if record is None:
            todo.append(part)
        else:
            records[part.lad_code] = record
    total = len(parts)

    def done(part: CouncilPart, record: dict[str, Any]) -> None:
        records[part.lad_code] = record
        say(f"Built {part.lad_name} ({len(records)} of {total} councils)")

    kept = sorted(records)
    for k, code in enumerate(kept, start=1):
        name = next(p.lad_name for p in parts if p.lad_code == code)
        say(f"Resuming: {name} was built before ({k} of {total} councils)")
    todo.sort(key=lambda p: (-p.size, p.lad_code))
    people = census_residents()
    small = sum(people[p.lad_code] for p in todo) * request.scale < SERIAL_BELOW
    if workers == 1 or len(todo) <= 1 or small:
        for part in todo:
            done(part, build_council(part, shared, staging))
        return records, 1
    context = multiprocessing.get_context(
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    )
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["carepool.population.council"])
    used = min(workers, len(todo))
    with ProcessPoolExecutor(
        max_workers=used, mp_context=context, initializer=die_with_parent
    ) as pool:
        running: dict[Future[dict[str, Any]], CouncilPart] = {
            pool.submit(build_council, part, shared, staging): part for part in todo
        }
        try:
            while running:
                ready, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in ready:
                    done(running.pop(future), future.result())
        except BrokenProcessPool as exc:
            pool.shutdown(wait=True, cancel_futures=True)
            raise ConfigError(
                f"a worker building councils died ({len(records)} of {total} councils were "
                "built and are kept); the usual cause is memory: run the same command again "
                "with fewer --workers to resume"
            ) from exc
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return records, used


def _region_tables(
    request: BuildRequest,
    region: Region,
    geo: Geography,
    parts: list[CouncilPart],
    records: dict[str, dict[str, Any]],
    staging: Path,
) -> dict[str, Any]:
    """The region's own tables (services, LSOAs, places, footprints) and the manifest that
    names them with the councils' partitioned tables."""
    codes = list(geo.lsoas["lsoa21_code"])
    residents: dict[str, int] = {}
    for record in records.values():
        residents.update(record["lsoa_residents"])
    lsoa = geo.lsoas.rename(columns={"icb24_code": "icb_code"})[
        [
            "lsoa21_code",
            "lsoa21_name",
            "msoa21_code",
            "msoa21_name",
            "lad_code",
            "lad_name",
            "icb_code",
            "imd_score",
            "imd_decile",
            "imd_quintile",
        ]
    ].copy()
    lsoa["residents"] = np.array([residents[c] for c in codes], dtype=np.int64)
    footprints = [*geo.footprints(), *lsoa11_footprints(codes)]
    tables = {
        "services": services_table(load_parameters()),
        "lsoa": pa.Table.from_pandas(lsoa, preserve_index=False),
        "places": geo.places_table(),
        "footprint_membership": memberships_table(footprints),
    }
    files = {name: write_table(staging, name, table).name for name, table in tables.items()}
    rows = {name: t.num_rows for name, t in tables.items()}
    for name in PARTITIONED_TABLES:
        files[name] = name
        rows[name] = sum(int(r["rows"][name]) for r in records.values())
    years = records[parts[0].lad_code]["years"]
    return {
        "carepool_version": __version__,
        "reference_digest": data_digest(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "region": region.spec,
        "region_name": region.name,
        "region_kind": region.kind,
        "lad_codes": list(region.lad_codes),
        "scale": request.scale,
        "seed": request.seed,
        "years": years,
        "geography": "LSOA 2021",
        "deprivation": "IoD2025",
        "price_year": "2024-25",
        "places": geo.counts,
        "partitioned_by": "lad_code",
        "tables": {
            name: {"rows": n, "source": "synthetic", "file": files[name]}
            for name, n in sorted(rows.items())
        },
        "loads": [],
    }
