"""The synthetic population: fitted to published counts, calibrated to published rates."""

from carepool.population.build import BuildRequest, Progress, build
from carepool.population.calibration import (
    mixed_hazard,
    quintile_shares_by_age,
    solve_hazard_multiplier,
)
from carepool.population.census import census_by_lad, census_residents, require_census
from carepool.population.lsoa_change import mid2020_on_lsoa21
from carepool.population.mortality_gradient import period_life_expectancy
from carepool.population.parameters import SERVICE_COSTS, Parameters, load_parameters
from carepool.population.social_care_rates import (
    DEPLETION_YEARS_NURSING,
    DEPLETION_YEARS_RESIDENTIAL,
    INCOME_SIGMA,
    MEAN_CARE_HOME_STAY_YEARS,
    NO_CAPITAL_SHARE,
    PENSIONER_INCOME_MEDIAN,
    WORKING_AGE_INCOME_MEDIAN,
)
from carepool.population.summary import Summary, model_summary
from carepool.population.validation import Check, run_checks

__all__ = [
    "DEPLETION_YEARS_NURSING",
    "DEPLETION_YEARS_RESIDENTIAL",
    "INCOME_SIGMA",
    "MEAN_CARE_HOME_STAY_YEARS",
    "NO_CAPITAL_SHARE",
    "PENSIONER_INCOME_MEDIAN",
    "SERVICE_COSTS",
    "WORKING_AGE_INCOME_MEDIAN",
    "BuildRequest",
    "Check",
    "Parameters",
    "Progress",
    "Summary",
    "build",
    "census_by_lad",
    "census_residents",
    "load_parameters",
    "mid2020_on_lsoa21",
    "mixed_hazard",
    "model_summary",
    "period_life_expectancy",
    "quintile_shares_by_age",
    "require_census",
    "run_checks",
    "solve_hazard_multiplier",
]
