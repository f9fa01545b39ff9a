"""Measures: the sums that indicators' numerators and denominators are made of.

Each measure is an Ibis expression over one row of the person-year table (or the
activity-cost table), summed by year, neighbourhood, sex and age band in one pass on the
warehouse engine (:mod:`carepool.indicators.cube`). Declared here once, in words and in code,
so that :mod:`carepool.indicators.definitions` can refer to them by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from carepool.years import previous_year

CARE_HOME_SETTINGS = ("residential", "nursing")
PRIMARY_COMMUNITY_SERVICES = (
    "gp_appointments",
    "community_contacts",
    "mental_health_contacts",
    "talking_therapies_contacts",
    "asc_home_care_hours",
    "asc_reablement_episodes",
)
HOSPITAL_SERVICES = (
    "ae_attendances",
    "emergency_admissions",
    "elective_admissions",
    "outpatient_attendances",
    "ambulance_conveyances",
)


@dataclass(frozen=True)
class Measure:
    name: str
    doc: str
    expr: Callable[[ir.Table], ir.NumericValue]
    #: Non-zero only for care-home residents and needs last year's placement (a join), so
    #: summed over care-home rows alone: a few thousand rows, not millions.
    care_home_only: bool = False
    #: The measure that counts everyone this one counts (a death from cancer is a death).
    #: Published with the definitions, so the differencing audit's attacker knows it too
    #: (:mod:`carepool.indicators.nesting`).
    within: str = ""


def _flag(value: ir.BooleanValue) -> ir.NumericValue:
    return value.fill_null(False).cast("int64")


def _in_care_home(t: ir.Table) -> ir.BooleanValue:
    return t.asc_setting.isin(CARE_HOME_SETTINGS).fill_null(False)


def _reablement_client(t: ir.Table) -> ir.BooleanValue:
    return (t.asc_reablement_episodes > 0) & (t.age >= 65)


def _screening(programme: str, status: str) -> Callable[[ir.Table], ir.NumericValue]:
    def expr(t: ir.Table) -> ir.NumericValue:
        return _flag(t[f"{programme}_screening_{status}"])

    return expr


def _squared(column: str) -> Callable[[ir.Table], ir.NumericValue]:
    def expr(t: ir.Table) -> ir.NumericValue:
        value = t[column].cast("int64")
        return value * value

    return expr


PERSON_MEASURES: tuple[Measure, ...] = (
    Measure(
        "days_alive",
        "days lived in the year",
        lambda t: t.days_alive.cast("int64"),
    ),
    Measure("deaths", "deaths", lambda t: _flag(t.died)),
    Measure(
        "deaths_cancer",
        "deaths from cancer",
        lambda t: _flag(t.died & (t.death_cause == "cancer")),
        within="deaths",
    ),
    Measure(
        "deaths_circulatory",
        "deaths from circulatory (cardiovascular) disease",
        lambda t: _flag(t.died & (t.death_cause == "circulatory")),
        within="deaths",
    ),
    Measure(
        "emergency_admissions",
        "emergency admissions",
        lambda t: t.emergency_admissions.cast("int64"),
    ),
    Measure("ae_attendances", "A&E attendances", lambda t: t.ae_attendances.cast("int64")),
    *(
        Measure(
            f"{column}_squares",
            f"sum over people of their {column.replace('_', ' ')} squared",
            _squared(column),
        )
        for column in ("emergency_admissions", "ae_attendances", "delayed_discharge_days")
    ),
    Measure(
        "delayed_discharge_days",
        "bed days after the patient was fit for discharge",
        lambda t: t.delayed_discharge_days.cast("int64"),
    ),
    *(
        Measure(
            f"{p}_screening_{s}",
            f"people {s} by {p} screening",
            _screening(p, s),
            within=f"{p}_screening_eligible" if s == "covered" else "",
        )
        for p in ("breast", "cervical", "bowel")
        for s in ("eligible", "covered")
    ),
    Measure(
        "cancers_staged",
        "new cancers with a recorded stage",
        lambda t: _flag(t.cancer_diagnosed & t.cancer_stage.notnull()),
    ),
    Measure(
        "cancers_stage_1_2",
        "new cancers diagnosed at stage 1 or 2",
        lambda t: _flag(t.cancer_diagnosed & (t.cancer_stage <= 2)),
        within="cancers_staged",
    ),
    Measure(
        "days_alive_18plus",
        "days lived in the year by adults 18+",
        lambda t: (t.age >= 18).ifelse(t.days_alive, 0).cast("int64"),
    ),
    Measure(
        "talking_therapies_referred",
        "adults referred to talking therapies",
        lambda t: _flag(t.talking_therapies_referred & (t.age >= 18)),
    ),
    Measure(
        "talking_therapies_completed",
        "people who completed a course of talking therapies",
        lambda t: _flag(t.talking_therapies_recovered.notnull()),
    ),
    Measure(
        "talking_therapies_recovered",
        "people who completed talking therapies and recovered",
        lambda t: _flag(t.talking_therapies_recovered),
        within="talking_therapies_completed",
    ),
    Measure(
        "ld_health_checks_eligible",
        "people 14+ on the learning disability register",
        lambda t: _flag(t.ld_health_check.notnull()),
    ),
    Measure(
        "ld_health_checks_done",
        "people 14+ on the learning disability register who had an annual health check",
        lambda t: _flag(t.ld_health_check),
        within="ld_health_checks_eligible",
    ),
    Measure(
        "has_previous_year",
        "people in a year whose previous year is in the model",
        lambda t: _flag(t.previous_year_known),
    ),
    Measure(
        "care_home_admissions",
        "people the council began to support in a residential or nursing home: placed by the "
        "council, or paying for themselves until their capital ran down (ASCOF 2A(2))",
        lambda t: _flag(
            _council_supported_in_care_home(t) & t.previous_year_known & ~t.previous_supported
        ),
        care_home_only=True,
        within="care_home_residents",
    ),
    Measure(
        "reablement_clients",
        "people 65+ who had reablement",
        lambda t: _flag(_reablement_client(t)),
    ),
    Measure(
        "reablement_at_home",
        "people 65+ who had reablement, alive at the year's end and not in a care home",
        lambda t: _flag(_reablement_client(t) & ~t.died & ~_in_care_home(t)),
        within="reablement_clients",
    ),
    Measure(
        "care_home_residents",
        "residents of residential or nursing homes",
        lambda t: _flag(_in_care_home(t)),
    ),
    Measure(
        "care_home_self_funders",
        "care-home residents who pay for their own care",
        lambda t: _flag(_in_care_home(t) & (t.asc_funding == "self_funder")),
        within="care_home_residents",
    ),
)


def _public_spend(services: tuple[str, ...]) -> Callable[[ir.Table], ir.NumericValue]:
    def expr(t: ir.Table) -> ir.NumericValue:
        return (t.service.isin(services) & (t.payer_kind != "self")).ifelse(t.cost_pence, 0)

    return expr


SPEND_MEASURES: tuple[Measure, ...] = (
    Measure(
        "spend_primary_community",
        "public spend on primary and community care",
        _public_spend(PRIMARY_COMMUNITY_SERVICES),
    ),
    Measure(
        "spend_primary_community_hospital",
        "public spend on primary, community and hospital care",
        _public_spend(PRIMARY_COMMUNITY_SERVICES + HOSPITAL_SERVICES),
    ),
)

#: Measures derived after the engine's sums: person-years from days lived.
DERIVED_MEASURES = {
    "person_years": "days_alive",
    "person_years_18plus": "days_alive_18plus",
}

ALL_MEASURES = {m.name: m for m in (*PERSON_MEASURES, *SPEND_MEASURES)}

#: Measures that never count the same person (one underlying cause of death).
DISJOINT_MEASURES: tuple[frozenset[str], ...] = (
    frozenset({"deaths_cancer", "deaths_circulatory"}),
)


def previous_year_known(person_year: ir.Table, years: Sequence[str]) -> ir.BooleanValue:
    """Whether the model holds the year before each row's year (``years``: the model's)."""
    follows = [y for y in years if previous_year(y) in years]
    return person_year.year.isin(follows) if follows else ibis.literal(False)


def with_last_year_supported_in_care_home(rows: ir.Table, person_year: ir.Table) -> ir.Table:
    """``rows`` with ``previous_supported``: the council supported the person in a care home
    the year before.

    A left join of ``rows`` against last year's council-supported care-home residents in
    ``person_year``.
    """
    # :func:`carepool.years.previous_year`, written as an engine expression: the label is
    # computed for every row on DuckDB or Spark, where no Python function runs
    start = rows.year.substr(0, 4).cast("int64")
    label = (start - 1).cast("string").concat("-", (start % 100).cast("string").lpad(2, "0"))
    residents = person_year.filter(_council_supported_in_care_home(person_year)).select(
        _p_person=person_year.person_id, _p_year=person_year.year
    )
    keyed = rows.mutate(_previous_year=label)
    joined = keyed.left_join(
        residents,
        [keyed.person_id == residents._p_person, keyed._previous_year == residents._p_year],
    )
    return joined.mutate(previous_supported=joined._p_person.notnull()).drop(
        "_previous_year", "_p_person", "_p_year"
    )


def _council_supported_in_care_home(t: ir.Table) -> ir.BooleanValue:
    return _in_care_home(t) & (t.asc_funding == "council_funded")


def in_care_home(person_year: ir.Table) -> ir.BooleanValue:
    return _in_care_home(person_year)


__all__ = [
    "ALL_MEASURES",
    "DERIVED_MEASURES",
    "PERSON_MEASURES",
    "SPEND_MEASURES",
    "Measure",
    "in_care_home",
    "previous_year_known",
    "with_last_year_supported_in_care_home",
]
