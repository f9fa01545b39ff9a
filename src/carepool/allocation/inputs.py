"""The small-area inputs of an allocation: population by age band and sex, need variables,
costed activity and the places LSOAs belong to.

Two sources give the same :class:`NeedData`: a built model (one engine query over the
warehouse's person-year table, so it runs on DuckDB or Spark) and, for all of England, the
vendored ONS mid-2020 population and IoD 2025 scores. Everything is held per 2021 LSOA in code
order, so nothing downstream depends on the order rows arrived in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.ages import FIVE_YEAR
from carepool.allocation.variables import COUNCIL_SERVICES, IOD_VARIABLES, SERVICES, VARIABLES
from carepool.errors import AllocationError
from carepool.geography import lsoa_lookup
from carepool.indicators import memberships, model_years
from carepool.population import mid2020_on_lsoa21
from carepool.reference import read_reference
from carepool.warehouse import CONDITIONS, Tables
from carepool.years import days_in

Array = npt.NDArray[np.float64]
#: The cost curves' five-year age bands, 0-4 to 85+ (:data:`carepool.ages.FIVE_YEAR`).
N_BANDS = len(FIVE_YEAR)
SEX_ORDER = ("female", "male")
#: Levels that split the region into budget-holding places (every LSOA wholly shared out).
ENGLAND_LEVELS = ("region", "icb", "sub_icb", "lad", "ward", "msoa", "lsoa")


@dataclass(frozen=True)
class NeedData:
    """Per-LSOA inputs, arrays aligned with ``lsoa_codes`` (sorted).

    ``population`` and each entry of ``activity`` are ``(LSOA, age band, sex)`` arrays: person
    years (or persons) and units of activity. ``memberships`` maps LSOAs to the places of each
    level (``level, place_code, place_name, lsoa21_code, weight``).
    """

    lsoa_codes: npt.NDArray[np.str_]
    lad_codes: npt.NDArray[np.str_]
    population: Array
    variables: dict[str, Array]
    memberships: pd.DataFrame
    population_year: str
    description: str
    activity: dict[str, Array] = field(default_factory=dict)
    unit_cost_pence: dict[str, int] = field(default_factory=dict)
    sex_known: bool = True
    #: who the people are: "resident" or "registered" (GP registered patients)
    population_basis: str = "resident"

    @property
    def levels(self) -> list[str]:
        return list(dict.fromkeys(self.memberships["level"]))

    def people(self) -> Array:
        """Population of each LSOA, all ages and sexes."""
        total: Array = self.population.sum(axis=(1, 2))
        return total


def _iod(lsoa_codes: npt.NDArray[np.str_], names: Sequence[str]) -> dict[str, Array]:
    wanted = [n for n in names if n in IOD_VARIABLES]
    if not wanted:
        return {}
    table = _iod_table()
    frame = table.reindex(list(lsoa_codes))
    missing = frame.index[frame[wanted].isna().any(axis=1)].tolist()
    if missing:
        raise AllocationError(
            f"no IoD 2025 scores for {len(missing)} LSOA(s), e.g. {missing[0]}; "
            "the allocation needs 2021 LSOAs in England"
        )
    return {n: frame[n].to_numpy(dtype=np.float64) for n in wanted}


@cache
def _iod_table() -> pd.DataFrame:
    table = read_reference("iod2025_lsoa21", columns=["lsoa21_code", *IOD_VARIABLES])
    frame: pd.DataFrame = table.to_pandas().set_index("lsoa21_code")
    return frame


def _cells(frame: pd.DataFrame, codes: npt.NDArray[np.str_], column: str) -> Array:
    """A (LSOA, band, sex) array from rows ``lsoa21_code, band, sex, <column>``."""
    out = np.zeros((codes.size, N_BANDS, 2), dtype=np.float64)
    lsoa = np.searchsorted(codes, frame["lsoa21_code"].to_numpy(dtype=str))
    sex = (frame["sex"].to_numpy(dtype=str) == "male").astype(np.int64)
    band = frame["band"].to_numpy(dtype=np.int64)
    np.add.at(out, (lsoa, band, sex), frame[column].to_numpy(dtype=np.float64))
    return out


def _expected(observed: Array, exposure: Array) -> Array:
    """Expected counts per LSOA at the whole area's rates by band and sex (indirect
    standardisation)."""
    rates = np.divide(
        observed.sum(axis=0),
        exposure.sum(axis=0),
        out=np.zeros(exposure.shape[1:]),
        where=exposure.sum(axis=0) > 0,
    )
    expected: Array = (exposure * rates).sum(axis=(1, 2))
    return expected


def _ratio(observed: Array, expected: Array) -> Array:
    ratio: Array = np.divide(observed, expected, out=np.ones_like(expected), where=expected > 0)
    return ratio


def population_year(warehouse: Tables, year: str) -> str:
    """The model year whose population an allocation for ``year`` uses: the latest before it
    (allocations are set ahead of the year), or ``year`` itself when the model covers it and
    nothing earlier."""
    years = model_years(warehouse)
    if not years:
        raise AllocationError("the warehouse has no person-year rows to allocate with")
    before = [y for y in years if y < year]
    if before:
        return before[-1]
    if year in years:
        return year
    raise AllocationError(
        f"the model starts in {years[0]}, after the allocation year {year}; "
        f"allocate for {years[0]} or later"
    )


#: Spreads consecutive person ids across the groups a jackknife leaves out in turn (Knuth's
#: multiplicative hash): ids are given out place by place, so ``id % groups`` would not be random.
_SPREAD = 2_654_435_761


def person_group(person_id: ir.IntegerValue, groups: int) -> ir.IntegerValue:
    """Which of ``groups`` random-like groups a person belongs to, the same on every run."""
    group: ir.IntegerValue = ((person_id * _SPREAD) % (2**32)) % groups
    return group


def _kept(table: ir.Table, leave_out: tuple[int, int] | None) -> ir.Table:
    if leave_out is None:
        return table
    group, groups = leave_out
    return table.filter(person_group(table.person_id, groups) != group)


def from_warehouse(
    warehouse: Tables,
    year: str,
    variables: Sequence[str],
    levels: Sequence[str],
    leave_out: tuple[int, int] | None = None,
) -> NeedData:
    """The inputs for allocating in ``year`` from the model in ``warehouse``.

    Population is the person-years of the model year before ``year``; activity is that
    year's, by service, counted for council services only where the council funds the care.
    ``leave_out=(g, G)`` leaves out the people of group ``g`` of ``G`` (:func:`person_group`):
    one replicate of a jackknife that measures the inputs' sampling error.
    """
    base_year = population_year(warehouse, year)
    py = _kept(warehouse.table("person_year"), leave_out)
    this_year = py.filter(py.year == base_year)
    council = this_year.asc_funding == "council_funded"
    days = ibis.literal(float(days_in(base_year)))
    aggregates: dict[str, ir.Value] = {
        "person_years": this_year.days_alive.sum().cast("float64") / days,
        "persons": this_year.count().cast("float64"),
    }
    for service in SERVICES:
        column = this_year[service].cast("int64")
        if service in COUNCIL_SERVICES:
            column = ibis.ifelse(council, column, 0)
        aggregates[service] = column.sum().cast("float64")
    if "morbidity" in variables:
        any_condition = ibis.or_(*(this_year[f"has_{c}"] for c in CONDITIONS))
        aggregates["with_condition"] = any_condition.cast("int64").sum().cast("float64")
    grouped = this_year.group_by(
        lsoa21_code=this_year.lsoa21_code,
        band=FIVE_YEAR.index_expr(this_year.age),
        sex=this_year.sex,
    ).aggregate(**aggregates)
    frame = warehouse.to_pandas(grouped)

    lsoa = warehouse.to_pandas(
        warehouse.table("lsoa").select("lsoa21_code", "msoa21_code", "lad_code")
    ).sort_values("lsoa21_code")
    codes = lsoa["lsoa21_code"].to_numpy(dtype=str)
    unknown = set(frame["lsoa21_code"]) - set(codes)
    if unknown:
        raise AllocationError(
            f"person-year rows in {len(unknown)} LSOA(s) not in the model's geography, "
            f"e.g. {sorted(unknown)[0]}"
        )
    population = _cells(frame, codes, "person_years")
    activity = {s: _cells(frame, codes, s) for s in SERVICES}
    values = _iod(codes, variables)
    if "morbidity" in variables:
        observed = _cells(frame, codes, "with_condition")
        persons = _cells(frame, codes, "persons")
        values["morbidity"] = _ratio(observed.sum(axis=(1, 2)), _expected(observed, persons))
    if "premature_mortality" in variables:
        values["premature_mortality"] = _premature_mortality(warehouse, codes, lsoa, leave_out)
    prices = warehouse.to_pandas(warehouse.table("services").select("service", "unit_cost_pence"))
    unit_cost = {
        str(s): int(p) for s, p in zip(prices["service"], prices["unit_cost_pence"], strict=True)
    }
    return NeedData(
        lsoa_codes=codes,
        lad_codes=lsoa["lad_code"].to_numpy(dtype=str),
        population=population,
        variables=values,
        memberships=memberships(warehouse, list(levels)),
        population_year=base_year,
        description=f"the model's person-years in {base_year}",
        activity=activity,
        unit_cost_pence=unit_cost,
    )


def _premature_mortality(
    warehouse: Tables,
    codes: npt.NDArray[np.str_],
    lsoa: pd.DataFrame,
    leave_out: tuple[int, int] | None = None,
) -> Array:
    """SMR under 75 over all model years, by MSOA, given to each of its LSOAs."""
    py = _kept(warehouse.table("person_year"), leave_out)
    under_75 = py.filter(py.age < 75)
    grouped = under_75.group_by(
        lsoa21_code=under_75.lsoa21_code,
        band=FIVE_YEAR.index_expr(under_75.age),
        sex=under_75.sex,
        year=under_75.year,
    ).aggregate(
        days=under_75.days_alive.cast("int64").sum(),
        deaths=under_75.died.cast("int64").sum(),
    )
    # whole days summed on the engine (exact in any order), person-years summed here in a fixed
    # order: the same figures, to the last digit, on every run
    by_year = warehouse.to_pandas(grouped).sort_values(["lsoa21_code", "band", "sex", "year"])
    days = {y: float(days_in(y)) for y in by_year["year"].unique()}
    by_year["person_years"] = by_year["days"] / by_year["year"].map(days).astype(np.float64)
    frame = by_year.groupby(["lsoa21_code", "band", "sex"], as_index=False, sort=True)[
        ["person_years", "deaths"]
    ].sum()
    frame["deaths"] = frame["deaths"].astype(np.float64)
    deaths = _cells(frame, codes, "deaths")
    exposure = _cells(frame, codes, "person_years")
    rates = np.divide(
        deaths.sum(axis=0),
        exposure.sum(axis=0),
        out=np.zeros(exposure.shape[1:]),
        where=exposure.sum(axis=0) > 0,
    )
    by_lsoa = pd.DataFrame(
        {
            "msoa": lsoa["msoa21_code"].to_numpy(dtype=str),
            "observed": deaths.sum(axis=(1, 2)),
            "expected": (exposure * rates).sum(axis=(1, 2)),
        }
    )
    by_msoa = by_lsoa.groupby("msoa")[["observed", "expected"]].transform("sum")
    return _ratio(
        by_msoa["observed"].to_numpy(dtype=np.float64),
        by_msoa["expected"].to_numpy(dtype=np.float64),
    )


def _england_memberships(lookup: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    names = {
        "region": ("E92000001", "England"),
        "icb": ("icb24_code", "icb24_name"),
        "sub_icb": ("sicbl24_code", "sicbl24_code"),
        "lad": ("lad24_code", "lad24_name"),
        "ward": ("ward24_code", "ward24_name"),
        "msoa": ("msoa21_code", "msoa21_name"),
        "lsoa": ("lsoa21_code", "lsoa21_name"),
    }
    frames = []
    for level in levels:
        if level not in names:
            raise AllocationError(
                f"unknown level {level!r} for England; expected one of {', '.join(ENGLAND_LEVELS)}"
            )
        code, name = names[level]
        frames.append(
            pd.DataFrame(
                {
                    "level": level,
                    "place_code": lookup[code] if code in lookup.columns else code,
                    "place_name": lookup[name] if name in lookup.columns else name,
                    "lsoa21_code": lookup["lsoa21_code"],
                    "weight": 1.0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def for_england(variables: Sequence[str], levels: Sequence[str]) -> NeedData:
    """Inputs for all of England from vendored data: ONS mid-2020 persons by single year of age
    re-based onto 2021 LSOAs, and IoD 2025 scores.

    The estimates are persons without a sex split, so each band is halved between the sexes
    and a cost curve acts through its average of the two. Variables that need a built model
    (morbidity, premature mortality) are not available here.
    """
    model_only = [v for v in variables if not VARIABLES[v].england]
    if model_only:
        raise AllocationError(
            f"variable {', '.join(map(repr, model_only))} needs a built model; for England "
            f"use IoD 2025 scores ({', '.join(IOD_VARIABLES)})"
        )
    lookup = lsoa_lookup()
    codes = lookup["lsoa21_code"].to_numpy(dtype=str)
    ages = _england_population(tuple(codes))
    bands = FIVE_YEAR.index(np.arange(ages.shape[1]))
    by_band = np.zeros((codes.size, N_BANDS), dtype=np.float64)
    for b in range(N_BANDS):
        by_band[:, b] = ages[:, bands == b].sum(axis=1)
    population = np.repeat(by_band[:, :, None] / 2.0, 2, axis=2)
    return NeedData(
        lsoa_codes=codes,
        lad_codes=lookup["lad24_code"].to_numpy(dtype=str),
        population=population,
        variables=_iod(codes, variables),
        memberships=_england_memberships(lookup, levels),
        population_year="2020-21",
        description="ONS mid-2020 small area population estimates on 2021 LSOAs, England",
        sex_known=False,
    )


@cache
def _england_population(codes: tuple[str, ...]) -> Array:
    ages: Array = mid2020_on_lsoa21(codes).to_numpy(dtype=np.float64)
    return ages
