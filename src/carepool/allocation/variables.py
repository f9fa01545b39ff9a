"""What a formula may refer to: costed services and small-area need variables (its age bands
are :data:`carepool.ages.FIVE_YEAR`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Person-year activity columns the warehouse costs at the services table's unit prices.
#: Council-paid services count only for council-funded people: the curve is the council's
#: gross cost of care, before client contributions (charging is about means, not need).
SERVICES: Final = (
    "gp_appointments",
    "ae_attendances",
    "emergency_admissions",
    "elective_admissions",
    "outpatient_attendances",
    "community_contacts",
    "mental_health_contacts",
    "talking_therapies_contacts",
    "ambulance_conveyances",
    "asc_home_care_hours",
    "asc_residential_weeks",
    "asc_nursing_weeks",
    "asc_reablement_episodes",
)
COUNCIL_SERVICES: Final = tuple(s for s in SERVICES if s.startswith("asc_"))


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    source: str
    #: Whether it can be had without a built model (from vendored England-wide data).
    england: bool


_IOD = "English Indices of Deprivation 2025 (MHCLG), LSOA 2021"

VARIABLES: Final[dict[str, Variable]] = {
    v.name: v
    for v in (
        Variable("imd_score", "Index of Multiple Deprivation score", _IOD, True),
        Variable("income_score", "income deprivation: share of people on low income", _IOD, True),
        Variable(
            "employment_score",
            "employment deprivation: share of working-age people out of work",
            _IOD,
            True,
        ),
        Variable("education_score", "education, skills and training deprivation", _IOD, True),
        Variable(
            "health_score",
            "health deprivation and disability: premature death (years of potential life "
            "lost), illness and disability, acute morbidity, mood and anxiety disorders",
            _IOD,
            True,
        ),
        Variable("crime_score", "crime domain score", _IOD, True),
        Variable("barriers_score", "barriers to housing and services", _IOD, True),
        Variable("living_environment_score", "living environment deprivation", _IOD, True),
        Variable(
            "morbidity",
            "age-sex standardised ratio of residents on one or more long-term condition "
            "registers (latest model year)",
            "the warehouse",
            False,
        ),
        Variable(
            "premature_mortality",
            "standardised mortality ratio under 75, all model years, by neighbourhood (MSOA) "
            "so that small numbers do not drive it",
            "the warehouse",
            False,
        ),
    )
}
IOD_VARIABLES: Final = tuple(name for name, v in VARIABLES.items() if v.england)
