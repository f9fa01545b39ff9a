"""The synthetic population: fitted to published counts, calibrated to published rates."""

from carepool.population.build import BuildRequest, build
from carepool.population.lsoa_change import mid2020_on_lsoa21
from carepool.population.summary import Summary, model_summary
from carepool.population.validation import Check, run_checks

__all__ = [
    "BuildRequest",
    "Check",
    "Summary",
    "build",
    "mid2020_on_lsoa21",
    "model_summary",
    "run_checks",
]
