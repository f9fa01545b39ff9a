"""The synthetic population: residents placed in real LSOAs, followed for consecutive years.

Each resident carries persistent traits drawn once: a latent health score ``z`` (which makes
conditions cluster and some people use more care every year), a uniform draw per condition
(so a register is stable from year to year), screening and social care propensities, and
income and capital for the social care means test. Each year then draws, from named streams:
deaths (ONS life table x deprivation ratio x the person's risk), conditions, NHS activity
(age profile x deprivation ratio x conditions, Poisson with a yearly Gamma shock), cancer
screening and diagnosis, talking therapies, learning disability health checks, delayed
discharges and adult social care with its means test. The dead do not return; babies born in
a year join the next one. See docs/data-card.md for every parameter and its source.

Modules: :mod:`.cohort` (the people and their persistent traits), :mod:`.year` (who is in a
year, and its random streams), one module per step of a year (:mod:`.health`,
:mod:`.services`, :mod:`.programmes`, :mod:`.social_care`), :mod:`.individual_risk` (how a
group's rate is shared among its members) and :mod:`.simulation` (the years in turn).
"""

from carepool.population.generator.cohort import (
    FIRST_YEAR,
    NHS_NUMBER_BASE,
    Cohort,
    base_cohort,
    concat,
    new_people,
    nhs_numbers,
)
from carepool.population.generator.simulation import YearResult, simulate, simulate_year
from carepool.population.generator.year import Area, Year

__all__ = [
    "FIRST_YEAR",
    "NHS_NUMBER_BASE",
    "Area",
    "Cohort",
    "Year",
    "YearResult",
    "base_cohort",
    "concat",
    "new_people",
    "nhs_numbers",
    "simulate",
    "simulate_year",
]
