"""Running the model: each financial year's steps in turn, and the years one after another.

A year is: conditions at its start, deaths, NHS activity, talking therapies, screening and
cancer, learning disability health checks, social care, then the NHS cost. The dead do not
return; babies born in a year join the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.population.fit import FittedAuthority
from carepool.population.generator.cohort import (
    FIRST_YEAR,
    Cohort,
    base_cohort,
    concat,
    new_people,
)
from carepool.population.generator.health import Deaths, Registers, conditions, deaths
from carepool.population.generator.individual_risk import IntArray
from carepool.population.generator.programmes import (
    Screening,
    TalkingTherapies,
    ld_health_checks,
    screening_and_cancer,
    talking_therapies,
)
from carepool.population.generator.services import Activity, nhs_activity
from carepool.population.generator.social_care import (
    SocialCare,
    care_home_residents,
    need_for_care,
    social_care,
)
from carepool.population.generator.year import Area, Year
from carepool.population.parameters import CONDITION_USE_WEIGHTS, Parameters
from carepool.warehouse import CONDITIONS


@dataclass(frozen=True)
class YearResult:
    """One financial year of the model: a column per field of the person_year table."""

    year: str
    rows: IntArray  # indices into the cohort of the people in this year
    columns: dict[str, np.ndarray]
    births: tuple[npt.NDArray[np.int32], npt.NDArray[np.int8]]  # lsoa, sex of next year's babies


def simulate_year(
    cohort: Cohort,
    start: int,
    seed: int,
    params: Parameters,
    area: Area,
) -> YearResult:
    """Simulate financial year ``start`` (e.g. 2024 = 2024-25) for everyone alive in it."""
    year = Year.of(cohort, start, seed, params, area)
    registers = conditions(year)
    need = need_for_care(year, registers)
    in_home = care_home_residents(year, need)
    died = deaths(year, registers, in_home)
    activity = nhs_activity(year, registers, died.exposure)
    therapies = talking_therapies(year, registers, died.exposure)
    screening = screening_and_cancer(year, registers, died.exposure)
    ld_check = ld_health_checks(year, registers)
    care = social_care(year, need, in_home, died.exposure, activity.counts["emergency_admissions"])
    nhs_cost = _nhs_cost(params, activity, therapies)

    rows = year.rows
    diagnosed = screening.cancer_diagnosed
    cohort.conditions[rows] = registers.present | (
        diagnosed[:, None] & (np.array(CONDITIONS) == "cancer")
    )
    cohort.care_home[rows] = care.care_home
    paying_for_a_home = care.care_home & care.self_funder
    cohort.self_funded_years[rows[paying_for_a_home]] += died.exposure[paying_for_a_home]
    cohort.self_funded_years[rows[~care.care_home]] = 0.0  # nobody out of a home pays its fees
    cohort.alive[rows[died.died]] = False

    babies = year.age == 0
    columns = {
        **_health_columns(year, registers, died),
        **_service_columns(activity, therapies, screening, ld_check),
        **_care_columns(care),
        "nhs_cost_pence": nhs_cost,
        "council_cost_pence": care.council_cost,
    }
    return YearResult(
        year=year.name,
        rows=rows,
        columns=columns,
        births=(cohort.lsoa[rows[babies]], year.sex[babies]),
    )


def _nhs_cost(params: Parameters, activity: Activity, therapies: TalkingTherapies) -> IntArray:
    """Each person's NHS activity at the unit costs, in pence."""
    price = params.unit_cost_pence
    nhs_cost = np.zeros(activity.emergency_bed_days.size, dtype=np.int64)
    for service in CONDITION_USE_WEIGHTS:
        nhs_cost += activity.counts[service] * price[service]
    nhs_cost += therapies.contacts * price["talking_therapies_contacts"]
    return nhs_cost


def _health_columns(year: Year, registers: Registers, died: Deaths) -> dict[str, np.ndarray]:
    return {
        "age": year.age,
        "sex": year.sex,  # codes into SEXES
        "imd_quintile": (year.q + 1).astype(np.int8),
        "days_alive": died.days_alive,
        **{f"has_{name}": registers.present[:, j] for j, name in enumerate(CONDITIONS)},
        "died": died.died,
        "death_date": died.death_date,
        "death_cause": died.death_cause,
    }


def _service_columns(
    activity: Activity,
    therapies: TalkingTherapies,
    screening: Screening,
    ld_check: np.ndarray,
) -> dict[str, np.ndarray]:
    return {
        **activity.counts,
        "emergency_bed_days": activity.emergency_bed_days,
        "delayed_discharge_days": activity.delayed_discharge_days,
        "elective_bed_days": activity.elective_bed_days,
        "talking_therapies_referred": therapies.referred,
        "talking_therapies_contacts": therapies.contacts,
        "talking_therapies_recovered": therapies.recovered,
        "breast_screening_eligible": screening.breast_eligible,
        "breast_screening_covered": screening.breast_covered,
        "cervical_screening_eligible": screening.cervical_eligible,
        "cervical_screening_covered": screening.cervical_covered,
        "bowel_screening_eligible": screening.bowel_eligible,
        "bowel_screening_covered": screening.bowel_covered,
        "cancer_diagnosed": screening.cancer_diagnosed,
        "cancer_stage": screening.cancer_stage,
        "ld_health_check": ld_check,
    }


def _care_columns(care: SocialCare) -> dict[str, np.ndarray]:
    return {
        "asc_setting": care.setting,
        "asc_funding": care.funding,
        "asc_home_care_hours": care.hours,
        "asc_reablement_episodes": care.reablement,
        "asc_residential_weeks": care.residential_weeks,
        "asc_nursing_weeks": care.nursing_weeks,
        "asc_client_contribution_pence": care.contribution,
        "self_funded_pence": care.self_funded,
    }


def simulate(
    fitted: list[FittedAuthority],
    lsoa_codes: list[str],
    area: Area,
    seed: int,
    params: Parameters,
    years: int = 2,
    first_id: int = 1,
) -> Iterator[tuple[Cohort, YearResult]]:
    """Run the model for ``years`` consecutive financial years from 2024-25; residents' ids
    start at ``first_id`` and babies' follow on."""
    index = {code: i for i, code in enumerate(lsoa_codes)}
    cohort = base_cohort(fitted, index, seed, params, first_id)
    for t in range(years):
        start = FIRST_YEAR + t
        result = simulate_year(cohort, start, seed, params, area)
        lsoa, sex = result.births
        yield cohort, result
        del result  # free this year's arrays before the next year is drawn
        if t + 1 < years and lsoa.size:
            babies = new_people(
                seed=seed,
                stream_name=f"births/{start + 1}",
                first_id=int(cohort.person_id.max()) + 1,
                lsoa=lsoa,
                age=np.zeros(lsoa.size, dtype=np.int16),
                sex=sex,
                first_year=start + 1,
                params=params,
            )
            cohort = concat(cohort, babies)
