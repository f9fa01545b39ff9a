"""Demand: the model's age-specific rates in its last year, by local authority, sex and
five-year group, to be applied to the projected population.

Each measure is a sum over the model's residents of one of the warehouse's person-year columns
(or a condition of them), divided by the residents of the cell: a rate per person a year. The
projection multiplies the rates by its population of the cell and by the scenario's trend.
Money comes in as rates too: each costed service's activity (priced at the services table's
unit cost and charged to the partner that pays for it), the council's cost of social care net
of what people pay, and what people pay (``docs/methods/projection.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt

from carepool.errors import ProjectionError
from carepool.projection.ages import GROUP_STARTS
from carepool.warehouse import CONDITIONS, Tables

FloatArray = npt.NDArray[np.float64]

#: The long-term conditions counted for multimorbidity (frailty is a state, counted apart).
LONG_TERM_CONDITIONS: Final = tuple(c for c in CONDITIONS if c != "frailty")
#: NHS services, as the warehouse's services table names them and their units.
NHS_SERVICES: Final = {
    "gp_appointments": "appointments",
    "ae_attendances": "attendances",
    "emergency_admissions": "admissions",
    "elective_admissions": "admissions",
    "outpatient_attendances": "attendances",
    "community_contacts": "contacts",
    "mental_health_contacts": "contacts",
    "talking_therapies_contacts": "contacts",
    "ambulance_conveyances": "incidents",
}
#: Council-arranged or self-funded adult social care, with their units.
SOCIAL_CARE_SERVICES: Final = {
    "asc_home_care_hours": "hours",
    "asc_residential_weeks": "weeks",
    "asc_nursing_weeks": "weeks",
    "asc_reablement_episodes": "episodes",
}


@dataclass(frozen=True)
class Measure:
    """One projected measure: its name, unit and the group of trends that moves it."""

    name: str
    unit: str
    trend: str  # "conditions", "admissions", "activity", "social_care", or "none"


def _measures() -> tuple[Measure, ...]:
    people = [
        Measure("population", "people", "none"),
        Measure("population_65_plus", "people", "none"),
        Measure("population_85_plus", "people", "none"),
        *(Measure(f"people_with_{c}", "people", "conditions") for c in CONDITIONS),
        Measure("multimorbidity_2_plus", "people", "conditions"),
        Measure("multimorbidity_4_plus", "people", "conditions"),
    ]
    nhs = [
        Measure(
            name,
            unit,
            "admissions"
            if name in ("emergency_admissions", "ae_attendances", "ambulance_conveyances")
            else "activity",
        )
        for name, unit in NHS_SERVICES.items()
    ]
    care = [
        *(Measure(name, unit, "social_care") for name, unit in SOCIAL_CARE_SERVICES.items()),
        Measure("emergency_bed_days", "bed days", "admissions"),
        Measure("care_home_places", "places", "social_care"),
        Measure("working_age_care_clients", "people", "social_care"),
        Measure("older_care_clients", "people", "social_care"),
    ]
    return (*people, *nhs, *care)


MEASURES: Final = _measures()
MEASURE_NAMES: Final = tuple(m.name for m in MEASURES)


@dataclass(frozen=True)
class DemandRates:
    """Rates per resident a year, ``(lad, sex, group, measure)``, and the unit costs."""

    year: str
    lad_codes: tuple[str, ...]
    rates: FloatArray
    unit_cost_pence: dict[str, int]
    price_year: str

    def index(self, name: str) -> int:
        return MEASURE_NAMES.index(name)


def _sums(py: ir.Table) -> dict[str, ir.Value]:
    flags = [py[f"has_{c}"].cast("int64") for c in LONG_TERM_CONDITIONS]
    count = flags[0]
    for flag in flags[1:]:
        count = count + flag
    in_care = py.asc_setting.notnull()
    sums: dict[str, ir.Value] = {
        "population": py.count(),
        "population_65_plus": (py.age >= 65).cast("int64").sum(),
        "population_85_plus": (py.age >= 85).cast("int64").sum(),
        **{f"people_with_{c}": py[f"has_{c}"].cast("int64").sum() for c in CONDITIONS},
        "multimorbidity_2_plus": (count >= 2).cast("int64").sum(),
        "multimorbidity_4_plus": (count >= 4).cast("int64").sum(),
        **{name: py[name].cast("int64").sum() for name in NHS_SERVICES},
        **{name: py[name].cast("int64").sum() for name in SOCIAL_CARE_SERVICES},
        "emergency_bed_days": py.emergency_bed_days.cast("int64").sum(),
        "care_home_places": (
            (py.asc_residential_weeks + py.asc_nursing_weeks).cast("float64") / 52.0
        ).sum(),
        "working_age_care_clients": (in_care & (py.age >= 18) & (py.age < 65)).cast("int64").sum(),
        "older_care_clients": (in_care & (py.age >= 65)).cast("int64").sum(),
    }
    return sums


def demand_rates(warehouse: Tables, lad_codes: tuple[str, ...]) -> DemandRates:
    """The model's rates in its last year, by local authority, sex and five-year group."""
    manifest = warehouse.manifest()
    year = str(list(manifest.get("years", []))[-1])
    py = warehouse.table("person_year")
    this_year = py.filter(py.year == year)
    grouped = this_year.mutate(age_group=ibis.least(this_year.age // 5, len(GROUP_STARTS) - 1))
    frame = warehouse.to_pandas(
        grouped.group_by(["lad_code", "sex", "age_group"]).aggregate(**_sums(grouped))
    )
    lad_index = {code: i for i, code in enumerate(lad_codes)}
    unknown = sorted(set(frame["lad_code"]) - set(lad_index))
    if unknown:
        raise ProjectionError(f"the model's residents live in {unknown}, outside its places")
    totals = np.zeros((len(lad_codes), 2, len(GROUP_STARTS), len(MEASURES)))
    where = (
        frame["lad_code"].map(lad_index).to_numpy(dtype=np.int64),
        frame["sex"].map({"female": 0, "male": 1}).to_numpy(dtype=np.int64),
        frame["age_group"].to_numpy(dtype=np.int64),
    )
    for k, name in enumerate(MEASURE_NAMES):
        np.add.at(totals[..., k], where, frame[name].fillna(0).to_numpy(dtype=np.float64))
    people = totals[..., :1]
    rates = np.divide(totals, people, out=np.zeros_like(totals), where=people > 0)
    services = warehouse.to_pandas(warehouse.table("services"))
    costs = dict(
        zip(
            services["service"].astype(str),
            services["unit_cost_pence"].to_numpy(dtype=np.int64).tolist(),
            strict=True,
        )
    )
    missing = sorted((set(NHS_SERVICES) | set(SOCIAL_CARE_SERVICES)) - set(costs))
    if missing:
        raise ProjectionError(f"the warehouse's services table has no unit cost for {missing}")
    return DemandRates(
        year=year,
        lad_codes=lad_codes,
        rates=rates,
        unit_cost_pence=costs,
        price_year=str(services["price_year"].iloc[0]),
    )


def council_shares(warehouse: Tables, rates: DemandRates) -> FloatArray:
    """The council's share of the gross cost of adult social care in the model's last year,
    by local authority and IMD quintile (1 most deprived), ``(lad, 5)``: what it paid, net of
    what people paid towards their care, over the cost of all the care at the services'
    prices, self-funded care included. The rest is what people pay."""
    py = warehouse.table("person_year")
    lsoa = warehouse.table("lsoa").select("lsoa21_code", "imd_quintile")
    joined = py.filter(py.year == rates.year).join(lsoa, "lsoa21_code")
    gross = sum(
        (joined[name].cast("int64") * rates.unit_cost_pence[name] for name in SOCIAL_CARE_SERVICES),
        start=ibis.literal(0, type="int64"),
    )
    frame = warehouse.to_pandas(
        joined.group_by(["lad_code", joined.imd_quintile.name("quintile")]).aggregate(
            council=joined.council_cost_pence.cast("int64").sum(), gross=gross.sum()
        )
    )
    council = np.zeros((len(rates.lad_codes), 5))
    total = np.zeros_like(council)
    index = {code: i for i, code in enumerate(rates.lad_codes)}
    where = (
        frame["lad_code"].map(index).to_numpy(dtype=np.int64),
        frame["quintile"].to_numpy(dtype=np.int64) - 1,
    )
    np.add.at(council, where, frame["council"].fillna(0).to_numpy(dtype=np.float64))
    np.add.at(total, where, frame["gross"].fillna(0).to_numpy(dtype=np.float64))
    # where a cell has no care, the authority's own share stands in
    lad_share = council.sum(axis=1) / np.maximum(total.sum(axis=1), 1.0)
    shares: FloatArray = np.where(total > 0, council / np.maximum(total, 1.0), lad_share[:, None])
    return np.clip(shares, 0.0, 1.0)
