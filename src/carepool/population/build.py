"""``carepool build``: geography -> fitted base population -> simulated years -> warehouse."""

from __future__ import annotations

import glob
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from carepool import __version__
from carepool.errors import ConfigError
from carepool.geography import Geography, memberships_table, resolve_region
from carepool.population.calibration import area_mortality_multipliers, area_prevalence_multipliers
from carepool.population.census import census_by_lad
from carepool.population.fit import FittedAuthority, fit_authority
from carepool.population.generator import Area, Cohort, YearResult, nhs_numbers, simulate
from carepool.population.lsoa_change import lsoa11_footprints, mid2020_on_lsoa21
from carepool.population.parameters import (
    ACTIVITY_UNITS,
    CONDITION_USE_WEIGHTS,
    SERVICE_COSTS,
    Parameters,
    load_parameters,
)
from carepool.reference import data_digest
from carepool.warehouse import (
    ASC_FUNDING,
    ASC_SETTINGS,
    CONDITIONS,
    PERSON_YEAR,
    SELF_PAYER,
    SEXES,
    TABLES,
    Column,
    Derive,
    Kind,
    replace_warehouse,
    write_manifest,
    write_table,
    write_table_parts,
    writing,
)
from carepool.years import financial_year

Progress = Callable[[str], None]
NHS_SERVICES = (*CONDITION_USE_WEIGHTS, "talking_therapies_contacts")
COUNCIL_SERVICES = (
    "asc_home_care_hours",
    "asc_residential_weeks",
    "asc_nursing_weeks",
    "asc_reablement_episodes",
)
#: The care setting whose client contributions are charged against each council service.
SETTING_OF_SERVICE = {
    "asc_home_care_hours": "home_care",
    "asc_residential_weeks": "residential",
    "asc_nursing_weeks": "nursing",
}


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
        """How many steps :func:`build` reports to its ``progress``: the places, the fit, the
        calibration, each year, and the writing."""
        return 4 + self.years


def _strings(codes: list[str], index: npt.NDArray[np.int32]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(index, type=pa.int32()), pa.array(codes, type=pa.string())
    ).cast(pa.string())


def fit_population(geo: Geography, scale: float) -> list[FittedAuthority]:
    codes = list(geo.lsoas["lsoa21_code"])
    seed = mid2020_on_lsoa21(codes)
    census = census_by_lad(geo.region.lad_codes)
    fitted = []
    for lad in geo.region.lad_codes:
        lad_lsoas = list(geo.lsoas.loc[geo.lsoas["lad_code"] == lad, "lsoa21_code"])
        fitted.append(fit_authority(lad, seed.loc[lad_lsoas], census[lad], scale))
    return fitted


def _arrow_column(column: Column, values: np.ndarray) -> pa.Array:
    """One generator array as an Arrow column of the declared type.

    Categories arrive as integer codes into ``column.categories`` (-1 for none), optional
    values as numpy masked arrays, dates as ``datetime64`` with NaT for none.
    """
    if column.kind == Kind.CATEGORY:
        codes = values.astype(np.int32)
        indices = pa.array(codes, type=pa.int32(), mask=codes < 0)
        dictionary = pa.array(list(column.categories), type=pa.string())
        return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        return pa.array(
            values.filled(0).astype(column.type.to_pandas_dtype()), type=column.type, mask=mask
        )
    if np.issubdtype(values.dtype, np.datetime64):
        return pa.array(values.astype("datetime64[D]"), type=pa.date32(), mask=np.isnat(values))
    return pa.array(values.astype(column.type.to_pandas_dtype(), copy=False), type=column.type)


def area_for(geo: Geography, fitted: list[FittedAuthority], params: Parameters) -> Area:
    lad_codes = list(geo.region.lad_codes)
    quintiles = dict(zip(geo.lsoas["lsoa21_code"], geo.lsoas["imd_quintile"], strict=True))
    multipliers = area_mortality_multipliers(fitted, quintiles, params)
    registers = area_prevalence_multipliers(fitted, quintiles, params, CONDITIONS)
    lad_pos = {c: i for i, c in enumerate(lad_codes)}
    return Area(
        quintile_of_lsoa=geo.lsoas["imd_quintile"].to_numpy(dtype=np.int8),
        lad_of_lsoa=np.array([lad_pos[c] for c in geo.lsoas["lad_code"]], dtype=np.int64),
        mortality=np.stack([multipliers[c] for c in lad_codes]),
        prevalence=np.stack([registers[c] for c in lad_codes]),
    )


def _person_year_table(
    result: YearResult, cohort: Cohort, codes: list[str], lad_of_lsoa: list[str]
) -> pa.Table:
    rows = result.rows
    lsoa_idx = cohort.lsoa[rows]
    lad_codes = sorted(set(lad_of_lsoa))
    lad_pos = {c: i for i, c in enumerate(lad_codes)}
    lad_idx = np.array([lad_pos[c] for c in lad_of_lsoa], dtype=np.int32)[lsoa_idx]
    cols = result.columns
    arrays: dict[str, pa.Array] = {
        "person_id": pa.array(cohort.person_id[rows]),
        "year": pa.array(np.full(rows.size, result.year, dtype=object), type=pa.string()),
        "lsoa21_code": _strings(codes, lsoa_idx),
        "lad_code": _strings(lad_codes, lad_idx),
    }
    for column in PERSON_YEAR.columns:
        if column.name not in arrays:
            arrays[column.name] = _arrow_column(column, cols[column.name])
    return pa.table(arrays)


def _activity_cost(
    result: YearResult,
    cohort: Cohort,
    codes: list[str],
    lad_of_lsoa: list[str],
    icb_of_lsoa: list[str],
    params: Parameters,
) -> pa.Table:
    """Aggregate one year's activity and money by LSOA, service and payer, to the penny."""
    lsoa_idx = cohort.lsoa[result.rows]
    cols = result.columns
    n_lsoa = len(codes)
    out: dict[str, list[Any]] = {k: [] for k in TABLES["activity_cost"].names}

    def add(
        service: str, kind: str, payer: list[str], activity: np.ndarray, cost: np.ndarray
    ) -> None:
        act = np.bincount(lsoa_idx, weights=activity, minlength=n_lsoa).round().astype(np.int64)
        money = np.bincount(lsoa_idx, weights=cost, minlength=n_lsoa).round().astype(np.int64)
        keep = np.nonzero((act != 0) | (money != 0))[0]
        for i in keep:
            out["year"].append(result.year)
            out["lsoa21_code"].append(codes[i])
            out["lad_code"].append(lad_of_lsoa[i])
            out["service"].append(service)
            out["payer_kind"].append(kind)
            out["payer_code"].append(payer[i])
            out["activity"].append(int(act[i]))
            out["cost_pence"].append(int(money[i]))

    price = params.unit_cost_pence
    for service in NHS_SERVICES:
        count = cols[service].astype(np.float64)
        add(service, "nhs", icb_of_lsoa, count, count * price[service])
    funding = cols["asc_funding"]
    council = funding == ASC_FUNDING.index("council_funded")
    self_funder = funding == ASC_FUNDING.index("self_funder")
    contribution = cols["asc_client_contribution_pence"].astype(np.float64)
    for service in COUNCIL_SERVICES:
        qty = cols[service].astype(np.float64)
        if service not in SETTING_OF_SERVICE:  # reablement: free to the client
            add(service, "council", lad_of_lsoa, qty, qty * price[service])
            continue
        is_service = cols["asc_setting"] == ASC_SETTINGS.index(SETTING_OF_SERVICE[service])
        paid = np.where(is_service & council, contribution, 0.0)
        gross = np.where(council, qty * price[service], 0.0)
        add(service, "council", lad_of_lsoa, np.where(council, qty, 0.0), gross - paid)
        self_price = price.get(f"self:{service}", price[service])
        own = np.where(self_funder, qty * self_price, 0.0)
        add(service, "self", [SELF_PAYER] * n_lsoa, np.where(self_funder, qty, 0.0), own + paid)
    return pa.table(out)


def _services_table(params: Parameters) -> pa.Table:
    rows: dict[str, list[Any]] = {k: [] for k in TABLES["services"].names}
    for service, (_, kind) in SERVICE_COSTS.items():
        rows["service"].append(service)
        rows["activity_unit"].append(ACTIVITY_UNITS[service])
        rows["unit_cost_pence"].append(params.unit_cost_pence[service])
        rows["payer_kind"].append(kind)
        rows["price_year"].append("2024-25")
        rows["source"].append(params.unit_cost_source[service])
    return pa.table(rows)


def _residents_table(cohort: Cohort, codes: list[str], lad_of_lsoa: list[str]) -> pa.Table:
    lad_codes = sorted(set(lad_of_lsoa))
    lad_pos = {c: i for i, c in enumerate(lad_codes)}
    lad_idx = np.array([lad_pos[c] for c in lad_of_lsoa], dtype=np.int32)[cohort.lsoa]
    first = [financial_year(int(y)) for y in np.unique(cohort.first_year)]
    first_idx = np.searchsorted(np.unique(cohort.first_year), cohort.first_year).astype(np.int32)
    return pa.table(
        {
            "person_id": pa.array(cohort.person_id),
            "nhs_number": pa.array(nhs_numbers(cohort.size), type=pa.string()),
            "sex": _strings(list(SEXES), cohort.sex.astype(np.int32)),
            "date_of_birth": pa.array(cohort.birth_date.astype("datetime64[D]"), type=pa.date32()),
            "lsoa21_code": _strings(codes, cohort.lsoa),
            "lad_code": _strings(lad_codes, lad_idx),
            "first_year": _strings(first, first_idx),
        }
    )


def build(
    request: BuildRequest,
    warehouse_dir: Path,
    progress: Progress | None = None,
    derive: Derive | None = None,
) -> dict[str, Any]:
    """Build the model and write every warehouse table; returns the manifest committed.

    All or nothing: the tables are written to a staging folder beside the warehouse and
    committed together once everything is written, over a built warehouse in one rename of its
    manifest (:func:`~carepool.warehouse.replace_warehouse`). A failed or interrupted build
    leaves the old warehouse as it was. The build holds the warehouse's write lock throughout,
    so no load commits into a warehouse about to be replaced.

    ``derive`` writes the tables derived from the built ones (the disclosure audit's record:
    :func:`carepool.model.build_model`) into the staging folder, before anything is committed.
    """
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    with writing(warehouse_dir):
        for stale in warehouse_dir.parent.glob(glob.escape(_staging_prefix(warehouse_dir)) + "*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a build that was killed
        staging = Path(
            tempfile.mkdtemp(prefix=_staging_prefix(warehouse_dir), dir=warehouse_dir.parent)
        )
        try:
            manifest = _build_into(request, staging, progress)
            if derive is not None:
                write_manifest(staging, derive(staging, manifest))
            return replace_warehouse(staging, warehouse_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _staging_prefix(warehouse_dir: Path) -> str:
    return f".{warehouse_dir.name}-building-"


def _build_into(
    request: BuildRequest, warehouse_dir: Path, progress: Progress | None
) -> dict[str, Any]:
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    say("Loading places")
    region = resolve_region(request.region)
    geo = Geography.load(region)
    params = load_parameters()
    codes = list(geo.lsoas["lsoa21_code"])
    lad_of_lsoa = list(geo.lsoas["lad_code"])
    icb_of_lsoa = list(geo.lsoas["icb24_code"])
    say("Fitting the population to Census 2021 and the mid-2020 small-area estimates")
    fitted = fit_population(geo, request.scale)
    say("Calibrating mortality to published life expectancy")
    # Calibrate on the full population, whatever the scale: a sample's empty ages would bias
    # the multipliers (or make them unsolvable at tiny scales).
    full = fitted if request.scale == 1.0 else fit_population(geo, 1.0)
    area = area_for(geo, full, params)

    costs: list[pa.Table] = []
    years: list[str] = []
    first_year_residents = np.zeros(len(codes), dtype=np.int64)
    final: list[Cohort] = []

    def person_years() -> Iterator[pa.Table]:
        for cohort, result in simulate(
            fitted, codes, area, request.seed, params, years=request.years
        ):
            if not years:
                first_year_residents[:] = np.bincount(
                    cohort.lsoa[result.rows], minlength=len(codes)
                )
            years.append(result.year)
            say(f"Simulated {result.year}")
            costs.append(_activity_cost(result, cohort, codes, lad_of_lsoa, icb_of_lsoa, params))
            final[:] = [cohort]
            table = _person_year_table(result, cohort, codes, lad_of_lsoa)
            del result
            yield table

    files = {"person_year": write_table_parts(warehouse_dir, "person_year", person_years()).name}
    cohort = final[0]

    say("Writing the warehouse")
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
    lsoa["residents"] = first_year_residents
    footprints = [*geo.footprints(), *lsoa11_footprints(codes)]
    tables = {
        "residents": _residents_table(cohort, codes, lad_of_lsoa),
        "activity_cost": pa.concat_tables(costs),
        "services": _services_table(params),
        "lsoa": pa.Table.from_pandas(lsoa, preserve_index=False),
        "places": geo.places_table(),
        "footprint_membership": memberships_table(footprints),
    }
    for name, table in tables.items():
        files[name] = write_table(warehouse_dir, name, table).name
    rows = {name: t.num_rows for name, t in tables.items()}
    rows["person_year"] = pq.ParquetFile(warehouse_dir / files["person_year"]).metadata.num_rows
    manifest: dict[str, Any] = {
        "carepool_version": __version__,
        "reference_digest": data_digest(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 2),
        "region": region.spec,
        "region_name": region.name,
        "lad_codes": list(region.lad_codes),
        "scale": request.scale,
        "seed": request.seed,
        "years": years,
        "geography": "LSOA 2021",
        "deprivation": "IoD2025",
        "price_year": "2024-25",
        "places": geo.counts,
        "tables": {
            name: {"rows": n, "source": "synthetic", "file": files[name]}
            for name, n in sorted(rows.items())
        },
        "loads": [],
    }
    write_manifest(warehouse_dir, manifest)
    return manifest
