"""Indicators as code: one declarative definition each.

An indicator names its numerator and denominator as *measures* (sums over the warehouse's
person-year or activity-cost rows, declared in :mod:`carepool.indicators.measures`), the ages
and sex it covers, the statistical method, its polarity (is higher better?), the period it is
reported for, where its England benchmark comes from, and its source. Everything else — the
engine query, the statistics, the benchmarking, disclosure control — reads these definitions;
adding an indicator means adding one entry to :data:`INDICATORS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Method(StrEnum):
    """How the value and its interval are computed (docs/methods/)."""

    LIFE_EXPECTANCY = "life expectancy (Chiang II, Silcocks interval)"
    DSR = "directly standardised rate (ESP 2013, Dobson interval)"
    CRUDE_RATE = "crude rate (exact/Byar's Poisson interval)"
    PROPORTION = "proportion (Wilson score interval)"
    SHARE_OF_SPEND = "share of spend (no interval: a sum of money, not a sample)"


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher is better"
    LOWER_IS_BETTER = "lower is better"
    NO_JUDGEMENT = "no judgement"


class Table(StrEnum):
    """The warehouse table an indicator's measures sum over."""

    PERSON_YEAR = "person_year"
    ACTIVITY_COST = "activity_cost"


@dataclass(frozen=True)
class Benchmark:
    """Where the England value comes from: rows of a vendored reference dataset.

    ``where`` selects rows of ``reference`` (a key of the datasets catalogue); the latest
    ``period`` among them is used. ``scale`` converts the published unit to the indicator's
    (for example a percentage to a proportion). ``derived`` names a computation in
    :mod:`carepool.indicators.benchmarks` instead, for values derived from vendored tables (a
    standardised rate from a published life table, say).
    """

    reference: str = ""
    where: tuple[tuple[str, str], ...] = ()
    period_column: str = "year"
    scale: float = 1.0
    derived: str = ""
    note: str = ""


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    method: Method
    polarity: Polarity
    numerator: str
    denominator: str
    unit: str
    source: str
    #: Ages covered, inclusive, on 5-year band boundaries (the measures may narrow further).
    min_age: int = 0
    max_age: int | None = None
    sex: str | None = None  # "male", "female" or None for persons
    multiplier: float = 1.0
    table: Table = Table.PERSON_YEAR
    period: str = "financial year"
    #: The numerator needs the person's previous year (e.g. admissions: new since last year),
    #: so the first model year has no data.
    needs_previous_year: bool = False
    #: One person can have many of the numerator's events (admissions, bed days): intervals
    #: use the sum of each person's events squared (measure ``<numerator>_squares``).
    repeat_events: bool = False
    england: Benchmark | None = None
    priority: str = ""
    #: Who is counted, where the measures narrow it beyond ``min_age``/``max_age``/``sex``.
    population: str = ""
    notes: str = ""
    tags: tuple[str, ...] = field(default=())

    def _population(self) -> str:
        who = {"male": "males", "female": "females"}.get(self.sex or "", "persons")
        return f"{who}, {_ages(self)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "method": self.method.value,
            "polarity": self.polarity.value,
            "unit": self.unit,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "population": self.population or self._population(),
            "period": self.period,
            "priority": self.priority,
            "source": self.source,
            "england_benchmark": None if self.england is None else _benchmark_text(self.england),
            "notes": self.notes,
        }


def _ages(indicator: Indicator) -> str:
    if indicator.max_age is None:
        return "all ages" if indicator.min_age == 0 else f"aged {indicator.min_age}+"
    return f"aged {indicator.min_age}-{indicator.max_age}"


def _benchmark_text(b: Benchmark) -> str:
    if b.derived:
        return f"derived: {b.note}"
    filters = ", ".join(f"{k}={v}" for k, v in b.where)
    return f"{b.reference} ({filters})" + (f"; {b.note}" if b.note else "")


_PHOF = "phof_indicators_gm"
_PROG = "rates_programmes"
_UTIL = "rates_utilisation"
_MODEL = "carepool warehouse (synthetic or loaded extract)"


def _life_expectancy(sex: str) -> Indicator:
    """Life expectancy at birth of one sex, benchmarked on OHID's England value."""
    return Indicator(
        id=f"life_expectancy_{sex}",
        name=f"Life expectancy at birth, {sex}s",
        method=Method.LIFE_EXPECTANCY,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator="deaths",
        denominator="person_years",
        unit="years",
        sex=sex,
        source=f"{_MODEL}; OHID Public Health Outcomes Framework A01b definition",
        england=Benchmark(
            _PHOF,
            (
                ("indicator_id", "life_expectancy_at_birth"),
                ("area_code", "E92000001"),
                ("sex", sex.capitalize()),
            ),
            period_column="period",
            note="OHID Fingertips, Public Health Outcomes Framework A01b",
        ),
        notes=(
            "Abridged life table of one year, or of several pooled; areas of 5,000 "
            "person-years or fewer are not computed."
        ),
    )


def _screening(
    programme: str,
    who: str,
    youngest: int,
    oldest: int,
    window: str,
    phof: str,
    england_ages: str,
    ages: tuple[int, int | None],
    note: str = "",
) -> Indicator:
    """Coverage of one screening programme: those covered over those eligible (the eligibility
    measure holds the programme's ages); ``ages`` narrows to an age group on band boundaries."""
    split = ages != (0, None)
    return Indicator(
        id=f"{programme}_screening_coverage" + (f"_{youngest}_{oldest}" if split else ""),
        name=f"{programme.capitalize()} screening coverage, {who} {youngest}-{oldest} ({window})",
        method=Method.PROPORTION,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator=f"{programme}_screening_covered",
        denominator=f"{programme}_screening_eligible",
        unit="%",
        multiplier=100,
        min_age=ages[0],
        max_age=ages[1],
        priority="cancer",
        population=f"{who} aged {youngest}-{oldest} eligible for {programme} screening",
        source=f"{_MODEL}; PHOF {phof} definition",
        england=Benchmark(
            _PROG, (("indicator", f"{programme}_screening_coverage_{england_ages}"),), note=note
        ),
    )


INDICATORS: tuple[Indicator, ...] = (
    *(_life_expectancy(sex) for sex in ("male", "female")),
    Indicator(
        id="u75_mortality_all_causes",
        name="Under 75 mortality rate from all causes",
        method=Method.DSR,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="deaths",
        denominator="person_years",
        unit="per 100,000 (age-standardised)",
        max_age=74,
        multiplier=100_000,
        source=f"{_MODEL}; OHID Fingertips 'under 75 mortality rate from all causes' definition",
        england=Benchmark(
            derived="u75_all_causes_from_life_table",
            note="ONS National life tables, England 2018-2020: mx by single year of age, "
            "averaged over 5-year bands, standardised to ESP 2013",
        ),
    ),
    Indicator(
        id="u75_mortality_cancer",
        name="Under 75 mortality rate from cancer",
        method=Method.DSR,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="deaths_cancer",
        denominator="person_years",
        unit="per 100,000 (age-standardised)",
        max_age=74,
        multiplier=100_000,
        priority="cancer",
        source=f"{_MODEL}; OHID Fingertips 'under 75 mortality rate from cancer' definition",
        notes="No England value is vendored: compared with the region only.",
    ),
    Indicator(
        id="u75_mortality_cvd",
        name="Under 75 mortality rate from cardiovascular disease",
        method=Method.DSR,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="deaths_circulatory",
        denominator="person_years",
        unit="per 100,000 (age-standardised)",
        max_age=74,
        multiplier=100_000,
        source=f"{_MODEL}; OHID Fingertips 'under 75 mortality rate from cardiovascular "
        "diseases' definition",
        notes="No England value is vendored: compared with the region only.",
    ),
    Indicator(
        id="emergency_admissions",
        name="Emergency hospital admissions, all ages",
        method=Method.DSR,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="emergency_admissions",
        denominator="person_years",
        unit="per 100,000 (age-standardised)",
        multiplier=100_000,
        repeat_events=True,
        source=f"{_MODEL}; NHS Outcomes Framework emergency admissions definition",
        notes="The rates card's England figure for emergency admissions is a crude rate (and "
        "an estimate), not comparable with a standardised one: compared with the region only.",
    ),
    Indicator(
        id="ae_attendances",
        name="A&E attendances, all ages",
        method=Method.CRUDE_RATE,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="ae_attendances",
        denominator="person_years",
        unit="per 1,000",
        multiplier=1_000,
        repeat_events=True,
        source=f"{_MODEL}; NHS Digital Hospital A&E Activity definition",
        england=Benchmark(
            _UTIL,
            (("service", "ae_attendances"), ("age_band", "all")),
            note="a published count over an approximate population",
        ),
    ),
    _screening(
        "breast", "women", 50, 70, "within 36 months", "C24a", "50_70", (0, None), "latest year"
    ),
    _screening("cervical", "women", 25, 49, "within 3.5 years", "C24b", "25_49", (25, 49)),
    _screening("cervical", "women", 50, 64, "within 5.5 years", "C24c", "50_64", (50, 64)),
    _screening("bowel", "people", 60, 74, "within 30 months", "C24d", "60_74", (0, None)),
    Indicator(
        id="cancer_early_stage",
        name="Cancers diagnosed at stage 1 or 2",
        method=Method.PROPORTION,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator="cancers_stage_1_2",
        denominator="cancers_staged",
        unit="% of staged cancers",
        multiplier=100,
        priority="cancer",
        population="new cancers diagnosed in the year with a recorded stage",
        source=f"{_MODEL}; NHS England early diagnosis indicator definition",
        england=Benchmark(
            _PROG, (("indicator", "cancers_diagnosed_stage_1_2"),), note="rolling 12 months"
        ),
    ),
    Indicator(
        id="talking_therapies_access",
        name="Talking therapies: adults referred",
        method=Method.CRUDE_RATE,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator="talking_therapies_referred",
        denominator="person_years_18plus",
        unit="per 100,000 adults 18+",
        multiplier=100_000,
        priority="mental health",
        population="adults aged 18+",
        source=f"{_MODEL}; NHS Talking Therapies access definition",
        england=Benchmark(
            derived="talking_therapies_access",
            note="published referrals (rates card, 2023/24) over ONS mid-2020 England "
            "residents 18+",
        ),
    ),
    Indicator(
        id="talking_therapies_recovery",
        name="Talking therapies: recovery of those completing treatment",
        method=Method.PROPORTION,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator="talking_therapies_recovered",
        denominator="talking_therapies_completed",
        unit="%",
        multiplier=100,
        priority="mental health",
        population="people who completed a course of talking therapies",
        source=f"{_MODEL}; NHS Talking Therapies recovery definition",
        england=Benchmark(
            _PROG,
            (("indicator", "talking_therapies_recovery_rate"),),
            note="the national standard (50%), not an observed value",
        ),
    ),
    Indicator(
        id="ld_health_checks",
        name="Learning disability annual health checks",
        method=Method.PROPORTION,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator="ld_health_checks_done",
        denominator="ld_health_checks_eligible",
        unit="% of people 14+ on the LD register",
        multiplier=100,
        priority="learning disabilities",
        population="people aged 14+ on the learning disability register",
        source=f"{_MODEL}; NHS England learning disability health check definition",
        england=Benchmark(_PROG, (("indicator", "ld_annual_health_check_delivery"),)),
    ),
    Indicator(
        id="delayed_discharge_days",
        name="Delayed discharge bed days",
        method=Method.CRUDE_RATE,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="delayed_discharge_days",
        denominator="person_years",
        unit="bed days per 100,000",
        multiplier=100_000,
        repeat_events=True,
        source=f"{_MODEL}; NHS England discharge delays definition",
        england=Benchmark(_PROG, (("indicator", "delayed_discharge_bed_days_per_100k"),)),
    ),
    Indicator(
        id="care_home_admissions_65plus",
        name="Permanent admissions of people 65+ to residential and nursing care",
        method=Method.CRUDE_RATE,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="care_home_admissions",
        denominator="person_years",
        unit="per 100,000 aged 65+",
        multiplier=100_000,
        min_age=65,
        needs_previous_year=True,
        population="people aged 65+",
        source=f"{_MODEL}; ASCOF 2A(2) definition",
        england=Benchmark(
            _UTIL, (("service", "asc_permanent_care_home_admissions"), ("age_band", "65+"))
        ),
        notes="An admission is a council-supported care-home placement not held the year "
        "before: a placement the council arranges and funds, or a self-funder whose capital has "
        "run down to the upper limit; self-funders are not counted while they pay. The first "
        "model year has none to report.",
    ),
    Indicator(
        id="reablement_at_home_91_days",
        name="Older people (65+) at home 91 days after reablement",
        method=Method.PROPORTION,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator="reablement_at_home",
        denominator="reablement_clients",
        unit="%",
        multiplier=100,
        min_age=65,
        population="people aged 65+ who had reablement",
        source=f"{_MODEL}; ASCOF 2B(1) definition",
        notes="The model has no discharge dates: 'at home' is alive at the year's end and not "
        "in a care home. No England value is vendored.",
    ),
    Indicator(
        id="care_closer_to_home",
        name="Share of spend in primary and community care (care closer to home)",
        method=Method.SHARE_OF_SPEND,
        polarity=Polarity.HIGHER_IS_BETTER,
        numerator="spend_primary_community",
        denominator="spend_primary_community_hospital",
        unit="% of public spend on primary, community and hospital care",
        multiplier=100,
        table=Table.ACTIVITY_COST,
        population="public spend on primary, community and hospital care",
        source=f"{_MODEL}: activity_cost by service; public money only",
        notes="Primary and community: GP appointments, community nursing, mental health and "
        "talking therapies contacts, home care and reablement. Hospital: A&E, emergency and "
        "elective admissions, outpatients, ambulance conveyances. Care homes are in neither.",
    ),
    Indicator(
        id="self_funder_share_care_homes",
        name="Self-funders' share of residential and nursing care",
        method=Method.PROPORTION,
        polarity=Polarity.NO_JUDGEMENT,
        numerator="care_home_self_funders",
        denominator="care_home_residents",
        unit="% of care-home residents",
        multiplier=100,
        population="residents of residential and nursing homes",
        source=f"{_MODEL}; ONS care homes and self-funding definition",
        england=Benchmark(
            _UTIL,
            (("service", "care_home_self_funder_share"), ("population", "England")),
            note="latest year",
        ),
    ),
)

BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
