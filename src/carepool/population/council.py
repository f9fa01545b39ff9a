"""One council's part of a build: fit, calibrate, simulate and write its partitions.

A build is the sum of its councils, and each council's part depends on nothing but the
request (scale, seed, years), the council's own LSOAs and the vendored data: its random
streams are seeded from the build's seed and the council's code, its ids come from its own
block (:mod:`carepool.population.identity`), and its rows go to folders of its own
(:mod:`carepool.warehouse.partitions`). So councils can be built in any order, in separate
processes, and one that failed can be built again alone, always giving the same bytes.

A council that lies only partly in the region (an ICB's edge can cut one) is fitted to its
part: each census cell is apportioned by the part's share of the council's mid-2020 residents
of that age.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carepool.geography import lsoa_lookup
from carepool.population.calibration import area_mortality_multipliers, area_prevalence_multipliers
from carepool.population.census import census_by_lad
from carepool.population.fit import FittedAuthority, fit_authority
from carepool.population.generator import Area, simulate
from carepool.population.generator.cohort import nhs_numbers
from carepool.population.identity import id_block
from carepool.population.lsoa_change import mid2020_on_lsoa21
from carepool.population.parameters import load_parameters
from carepool.population.rows import activity_cost_table, person_year_table, residents_table
from carepool.population.streams import stable_hash
from carepool.stats import largest_remainder
from carepool.warehouse import CONDITIONS, PARTITIONED_TABLES, write_json, write_partition

#: The folder of a staging warehouse where each finished council leaves its record; removed
#: before the build commits.
RECORDS: Final = "_councils"


@dataclass(frozen=True)
class CouncilPart:
    """A council's LSOAs in the region (in code order), with what the build needs of each."""

    lad_code: str
    lad_name: str
    lsoa_codes: tuple[str, ...]
    imd_quintiles: tuple[int, ...]
    icb_codes: tuple[str, ...]
    #: every LSOA of the council is in the region (else its census is apportioned)
    whole: bool

    @property
    def size(self) -> int:
        return len(self.lsoa_codes)


@dataclass(frozen=True)
class CouncilRequest:
    """What every council of a build shares."""

    scale: float
    seed: int
    years: int


def council_seed(seed: int, lad_code: str) -> int:
    """The seed of a council's random streams: the build's seed and the council's code, so
    that no council's draws depend on which others are built, or in what order."""
    return stable_hash(f"{seed}/{lad_code}")


def census_for_part(part: CouncilPart) -> npt.NDArray[np.int64]:
    """The census table ``[age, sex]`` a council's part is fitted to: the whole council's, or
    for a part, each cell times the part's share of the council's mid-2020 residents of that
    age, rounded to whole people keeping the rounded total."""
    census = census_by_lad([part.lad_code])[part.lad_code]
    if part.whole:
        return census
    lookup = lsoa_lookup()
    every = list(lookup.loc[lookup["lad24_code"] == part.lad_code, "lsoa21_code"])
    whole = mid2020_on_lsoa21(every).to_numpy().sum(axis=0)
    mine = mid2020_on_lsoa21(list(part.lsoa_codes)).to_numpy().sum(axis=0)
    share = np.divide(mine, whole, out=np.zeros_like(mine), where=whole > 0)
    expected = census * share[:, None]
    rounded = largest_remainder(expected.ravel(), round(float(expected.sum())))
    return rounded.reshape(census.shape).astype(np.int64)


def fit_council(part: CouncilPart, scale: float) -> FittedAuthority:
    seed = mid2020_on_lsoa21(list(part.lsoa_codes))
    return fit_authority(part.lad_code, seed, census_for_part(part), scale)


def council_area(part: CouncilPart, full: FittedAuthority) -> Area:
    """The generator's view of the council: each LSOA's quintile, and the council's mortality
    and register multipliers calibrated on its full population (a sample's empty ages would
    bias them, or leave them unsolvable at tiny scales)."""
    params = load_parameters()
    quintiles = dict(zip(part.lsoa_codes, part.imd_quintiles, strict=True))
    mortality = area_mortality_multipliers([full], quintiles, params)
    registers = area_prevalence_multipliers([full], quintiles, params, CONDITIONS)
    return Area(
        quintile_of_lsoa=np.array(part.imd_quintiles, dtype=np.int8),
        lad_of_lsoa=np.zeros(part.size, dtype=np.int64),
        mortality=mortality[part.lad_code][None, :],
        prevalence=registers[part.lad_code][None, :],
    )


def build_council(part: CouncilPart, request: CouncilRequest, staging: Path) -> dict[str, Any]:
    """Build one council into ``staging``: its partition of each partitioned table, then its
    record (:func:`finished`), written last, which says the council is done. Returns the
    record."""
    started = time.perf_counter()
    clear_council(staging, part.lad_code)
    params = load_parameters()
    fitted = fit_council(part, request.scale)
    full = fitted if request.scale == 1.0 else fit_council(part, 1.0)
    area = council_area(part, full)
    block = id_block(part.lad_code)
    codes = list(part.lsoa_codes)
    lads = [part.lad_code] * part.size
    icbs = list(part.icb_codes)
    years: list[str] = []
    residents = np.zeros(part.size, dtype=np.int64)
    costs: list[pa.Table] = []
    final: list[Any] = []

    def person_years() -> Iterator[pa.Table]:
        for cohort, result in simulate(
            [fitted],
            codes,
            area,
            council_seed(request.seed, part.lad_code),
            params,
            years=request.years,
            first_id=block.first_id,
        ):
            if not years:
                residents[:] = np.bincount(cohort.lsoa[result.rows], minlength=part.size)
            years.append(result.year)
            costs.append(activity_cost_table(result, cohort, codes, lads, icbs, params))
            final[:] = [cohort]
            table = person_year_table(result, cohort, codes, lads)
            del result
            yield table

    rows = {
        "person_year": write_partition(
            staging / "person_year", "person_year", part.lad_code, person_years()
        )
    }
    cohort = final[0]
    local = cohort.person_id - block.first_id
    if int(local.max(initial=0)) >= block.capacity:
        raise RuntimeError(  # the blocks leave room for three times England's births
            f"{part.lad_code}: {cohort.size:,} residents overflow the council's block of "
            f"{block.capacity:,} ids"
        )
    numbers = nhs_numbers(int(local.max(initial=-1)) + 1, block.nhs_start)[local]
    rows["residents"] = write_partition(
        staging / "residents",
        "residents",
        part.lad_code,
        [residents_table(cohort, codes, lads, numbers)],
    )
    rows["activity_cost"] = write_partition(
        staging / "activity_cost", "activity_cost", part.lad_code, costs
    )
    record = {
        "part": asdict(part),
        "request": asdict(request),
        "years": years,
        "rows": rows,
        "lsoa_residents": dict(zip(codes, residents.tolist(), strict=True)),
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mib": peak_rss_mib(),
    }
    _write_record(staging, part.lad_code, record)
    return record


def peak_rss_mib() -> float | None:
    """This process's peak resident memory so far, in MiB (None where the system cannot say)."""
    if sys.platform == "win32":
        return None
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def die_with_parent() -> None:
    """Make a worker end with the build that started it (Linux): a build killed outright
    must not leave workers writing councils into a folder a rerun is clearing."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _record_path(staging: Path, lad_code: str) -> Path:
    return staging / RECORDS / f"{lad_code}.json"


def _write_record(staging: Path, lad_code: str, record: dict[str, Any]) -> None:
    (staging / RECORDS).mkdir(parents=True, exist_ok=True)
    write_json(_record_path(staging, lad_code), record)


def finished(staging: Path, part: CouncilPart, request: CouncilRequest) -> dict[str, Any] | None:
    """The record of a council already built into ``staging`` for this very part and
    request, or None (not built, interrupted, or built for something else)."""
    path = _record_path(staging, part.lad_code)
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = record.get("part") == json.loads(json.dumps(asdict(part))) and record.get(
        "request"
    ) == asdict(request)
    complete = all(
        (staging / name / f"lad_code={part.lad_code}" / "part-0.parquet").is_file()
        for name in PARTITIONED_TABLES
    )
    return record if same and complete else None


def clear_council(staging: Path, lad_code: str) -> None:
    """Remove whatever a council's earlier, unfinished attempt left in ``staging``."""
    _record_path(staging, lad_code).unlink(missing_ok=True)
    for name in PARTITIONED_TABLES:
        shutil.rmtree(staging / name / f"lad_code={lad_code}", ignore_errors=True)
