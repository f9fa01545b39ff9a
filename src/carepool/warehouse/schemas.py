"""Warehouse table schemas, declared once.

Each :class:`TableSchema` gives the Arrow schema the generator writes, and the rules the
loader applies to a partner's extract of the same table: which columns form the key, which
hold place codes, NHS numbers, money, dates or one of a fixed set of categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa


class Kind(StrEnum):
    """What a column holds, beyond its Arrow type; drives the loader's checks."""

    PLAIN = "plain"
    LSOA = "lsoa"  # a 2021 LSOA code (E01 + 6 digits) known to the model's geography
    LAD = "lad"  # a local authority code known to the model's geography
    PAYER = "payer"  # the code of a partner that pays: an ICB (E54) or local authority
    NHS_NUMBER = "nhs_number"  # 10 digits with a valid modulus-11 check digit
    MONEY = "money"  # integer pence, never negative
    COUNT = "count"  # a non-negative count or quantity
    CATEGORY = "category"  # one of Column.categories
    DATE = "date"
    YEAR = "year"  # a financial year such as 2024-25


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    kind: Kind = Kind.PLAIN
    nullable: bool = False
    categories: tuple[str, ...] = ()
    doc: str = ""
    #: Inclusive bounds for numbers, beyond those of the type (e.g. a quintile is 1..5).
    minimum: int | None = None
    maximum: int | None = None

    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)


@dataclass(frozen=True)
class TableSchema:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: Whether ``nhs_number`` columns may carry a pseudonymised id instead of a real number.
    pseudonymised_ids: bool = False
    loadable: bool = True
    arrow: pa.Schema = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arrow", pa.schema([c.field() for c in self.columns]))

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


SEXES = ("female", "male")
CONDITIONS = (
    "hypertension",
    "diabetes",
    "copd",
    "chd",
    "heart_failure",
    "asthma",
    "dementia",
    "depression",
    "smi",
    "learning_disability",
    "cancer",
    "frailty",
)
DEATH_CAUSES = ("cancer", "circulatory", "respiratory", "dementia", "external", "other")
ASC_SETTINGS = ("home_care", "residential", "nursing")
ASC_FUNDING = ("council_funded", "self_funder")
PAYER_KINDS = ("nhs", "council", "self")

_i32 = pa.int32()
_i64 = pa.int64()


def _count(name: str, doc: str, type_: pa.DataType = _i32) -> Column:
    return Column(name, type_, Kind.COUNT, doc=doc)


def _money(name: str, doc: str) -> Column:
    return Column(name, _i64, Kind.MONEY, doc=doc)


RESIDENTS = TableSchema(
    name="residents",
    doc="One row per resident ever in the model, placed in a real 2021 LSOA.",
    key=("person_id",),
    pseudonymised_ids=True,
    columns=(
        Column("person_id", _i64, doc="stable id within the warehouse", minimum=1),
        Column("nhs_number", pa.string(), Kind.NHS_NUMBER, doc="NHS number (or pseudonym)"),
        Column("sex", pa.string(), Kind.CATEGORY, categories=SEXES),
        Column("date_of_birth", pa.date32(), Kind.DATE),
        Column("lsoa21_code", pa.string(), Kind.LSOA, doc="home neighbourhood (LSOA 2021)"),
        Column("lad_code", pa.string(), Kind.LAD, doc="home local authority"),
        Column("first_year", pa.string(), Kind.YEAR, doc="first financial year in the model"),
    ),
)

_PERSON_YEAR_COLUMNS: tuple[Column, ...] = (
    Column("person_id", _i64, minimum=1),
    Column("year", pa.string(), Kind.YEAR, doc="financial year, e.g. 2024-25"),
    Column("age", pa.int16(), Kind.COUNT, doc="age in whole years on 1 April", maximum=120),
    Column("sex", pa.string(), Kind.CATEGORY, categories=SEXES),
    Column("lsoa21_code", pa.string(), Kind.LSOA),
    Column("lad_code", pa.string(), Kind.LAD),
    Column(
        "imd_quintile",
        pa.int8(),
        Kind.COUNT,
        doc="IoD2025 national quintile, 1 = most",
        minimum=1,
        maximum=5,
    ),
    Column(
        "days_alive", pa.int16(), Kind.COUNT, doc="days of the year lived in the model", maximum=366
    ),
    *(
        Column(f"has_{c}", pa.bool_(), doc=f"on the {c} register at the start of the year")
        for c in CONDITIONS
    ),
    Column("died", pa.bool_()),
    Column("death_date", pa.date32(), Kind.DATE, nullable=True),
    Column("death_cause", pa.string(), Kind.CATEGORY, nullable=True, categories=DEATH_CAUSES),
    _count("gp_appointments", "general practice appointments"),
    _count("ae_attendances", "A&E attendances"),
    _count("emergency_admissions", "emergency (non-elective) admissions"),
    _count("emergency_bed_days", "bed days in emergency admissions"),
    _count("delayed_discharge_days", "bed days after the patient was fit for discharge"),
    _count("elective_admissions", "elective admissions, day case and inpatient"),
    _count("elective_bed_days", "bed days in elective admissions"),
    _count("outpatient_attendances", "outpatient attendances"),
    _count("community_contacts", "community (district) nursing contacts"),
    _count("mental_health_contacts", "secondary mental health contacts"),
    _count("ambulance_conveyances", "ambulance see-and-convey incidents"),
    Column("talking_therapies_referred", pa.bool_()),
    _count("talking_therapies_contacts", "talking therapies treatment contacts"),
    Column(
        "talking_therapies_recovered",
        pa.bool_(),
        nullable=True,
        doc="completed treatment and recovered; null unless treatment was completed",
    ),
    Column("breast_screening_eligible", pa.bool_()),
    Column("breast_screening_covered", pa.bool_()),
    Column("cervical_screening_eligible", pa.bool_()),
    Column("cervical_screening_covered", pa.bool_()),
    Column("bowel_screening_eligible", pa.bool_()),
    Column("bowel_screening_covered", pa.bool_()),
    Column("cancer_diagnosed", pa.bool_(), doc="a new cancer diagnosed this year"),
    Column(
        "cancer_stage",
        pa.int8(),
        Kind.COUNT,
        nullable=True,
        doc="1-4 at diagnosis",
        minimum=1,
        maximum=4,
    ),
    Column(
        "ld_health_check",
        pa.bool_(),
        nullable=True,
        doc="annual health check done; null unless on the LD register aged 14+",
    ),
    Column("asc_setting", pa.string(), Kind.CATEGORY, nullable=True, categories=ASC_SETTINGS),
    Column("asc_funding", pa.string(), Kind.CATEGORY, nullable=True, categories=ASC_FUNDING),
    _count("asc_home_care_hours", "home care hours"),
    _count("asc_reablement_episodes", "reablement episodes"),
    _count("asc_residential_weeks", "weeks in a residential home"),
    _count("asc_nursing_weeks", "weeks in a nursing home"),
    _money("asc_client_contribution_pence", "assessed charge paid by a council-funded client"),
    _money("self_funded_pence", "care paid for in full by a self-funder"),
    _money("nhs_cost_pence", "cost of this person-year's NHS activity"),
    _money("council_cost_pence", "council's cost of social care, net of client contributions"),
)

PERSON_YEAR = TableSchema(
    name="person_year",
    doc="One row per resident per financial year: conditions, activity, care, deaths and cost.",
    key=("person_id", "year"),
    columns=_PERSON_YEAR_COLUMNS,
)

ACTIVITY_COST = TableSchema(
    name="activity_cost",
    doc="Activity and its cost by year, neighbourhood, service and the partner that pays.",
    key=("year", "lsoa21_code", "service", "payer_code"),
    columns=(
        Column("year", pa.string(), Kind.YEAR),
        Column("lsoa21_code", pa.string(), Kind.LSOA),
        Column("lad_code", pa.string(), Kind.LAD),
        Column("service", pa.string()),
        Column("payer_kind", pa.string(), Kind.CATEGORY, categories=PAYER_KINDS),
        Column(
            "payer_code",
            pa.string(),
            Kind.PAYER,
            doc="ICB or council code; 'SELF' for self-funded care",
        ),
        _count("activity", "units of activity (contacts, spells, hours, weeks)", _i64),
        _money("cost_pence", "cost in integer pence at the services table's prices"),
    ),
)

SERVICES = TableSchema(
    name="services",
    doc="Each costed service: its unit, unit cost, price year, the partner type that pays.",
    key=("service",),
    loadable=False,
    columns=(
        Column("service", pa.string()),
        Column("activity_unit", pa.string()),
        Column("unit_cost_pence", _i64, Kind.MONEY),
        Column("payer_kind", pa.string(), Kind.CATEGORY, categories=PAYER_KINDS),
        Column("price_year", pa.string()),
        Column("source", pa.string()),
    ),
)

LSOA = TableSchema(
    name="lsoa",
    doc="Each neighbourhood (LSOA 2021): its parents, deprivation and modelled residents.",
    key=("lsoa21_code",),
    loadable=False,
    columns=(
        Column("lsoa21_code", pa.string(), Kind.LSOA),
        Column("lsoa21_name", pa.string()),
        Column("msoa21_code", pa.string()),
        Column("msoa21_name", pa.string()),
        Column("lad_code", pa.string(), Kind.LAD),
        Column("lad_name", pa.string()),
        Column("icb_code", pa.string()),
        Column("imd_score", pa.float64()),
        Column("imd_decile", pa.int8()),
        Column("imd_quintile", pa.int8()),
        Column("residents", _i64, Kind.COUNT, doc="modelled residents in the first year"),
    ),
)

PLACES = TableSchema(
    name="places",
    doc="The nesting hierarchy: combined authority, local authorities, MSOAs, LSOAs.",
    key=("place_code",),
    loadable=False,
    columns=(
        Column("place_code", pa.string()),
        Column("place_name", pa.string()),
        Column("place_kind", pa.string()),
        Column("parent_code", pa.string(), nullable=True),
    ),
)

FOOTPRINT_MEMBERSHIP = TableSchema(
    name="footprint_membership",
    doc="Many-to-many memberships of LSOAs in footprints, each with a weight in (0, 1].",
    key=("footprint_kind", "footprint_code", "lsoa21_code"),
    loadable=False,
    columns=(
        Column("footprint_kind", pa.string()),
        Column("footprint_code", pa.string()),
        Column("footprint_name", pa.string()),
        Column("lsoa21_code", pa.string(), Kind.LSOA),
        Column("weight", pa.float64()),
    ),
)

DISCLOSURE = TableSchema(
    name="disclosure",
    doc=(
        "Published indicator cells hidden beyond the counts of 1-7 themselves: by secondary "
        "suppression, or by the differencing audit run when the warehouse was built or loaded."
    ),
    key=("indicator", "year", "level", "place_code"),
    loadable=False,
    columns=(
        Column("indicator", pa.string()),
        Column("year", pa.string()),
        Column("level", pa.string()),
        Column("place_code", pa.string()),
        Column(
            "reason",
            pa.string(),
            Kind.CATEGORY,
            categories=("secondary", "differencing"),
            doc="secondary suppression, or the differencing audit",
        ),
    ),
)

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        RESIDENTS,
        PERSON_YEAR,
        ACTIVITY_COST,
        SERVICES,
        LSOA,
        PLACES,
        FOOTPRINT_MEMBERSHIP,
        DISCLOSURE,
    )
}
