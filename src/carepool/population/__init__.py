"""The synthetic population: fitted to published counts, calibrated to published rates."""

from carepool.population.build import BuildRequest, build
from carepool.population.summary import Summary, model_summary
from carepool.population.validation import Check, run_checks

__all__ = ["BuildRequest", "Check", "Summary", "build", "model_summary", "run_checks"]
