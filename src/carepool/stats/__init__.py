"""Pure numeric methods (numpy/scipy). Nothing here imports the rest of carepool."""

from carepool.stats.funnels import (
    proportion_funnel,
    proportion_significance,
    rate_chart_points,
    rate_funnel,
    rate_significance,
    ratio_funnel,
    ratio_significance,
)
from carepool.stats.inequality import Inequality, sii, sii_by_area, slope_index
from carepool.stats.intervals import (
    byars_limits,
    exact_limits,
    poisson_limits,
    wilson_limits,
    z_value,
)
from carepool.stats.life_table import (
    BAND_STARTS,
    MAX_CI_WIDTH_YEARS,
    MIN_POPULATION,
    LifeExpectancy,
    band_index,
    life_expectancy,
    life_expectancy_at_birth,
)
from carepool.stats.rates import CONFIDENCE_LEVELS, crude_rate, mean_ci, proportion
from carepool.stats.rounding import exact_share, largest_remainder
from carepool.stats.standardised import (
    ESP2013,
    ESP2013_STARTS,
    MIN_DSR_EVENTS,
    dsr,
    dsr_many,
    dsr_nonindependent,
    isr,
)

__all__ = [
    "BAND_STARTS",
    "CONFIDENCE_LEVELS",
    "ESP2013",
    "ESP2013_STARTS",
    "MAX_CI_WIDTH_YEARS",
    "MIN_DSR_EVENTS",
    "MIN_POPULATION",
    "Inequality",
    "LifeExpectancy",
    "band_index",
    "byars_limits",
    "crude_rate",
    "dsr",
    "dsr_many",
    "dsr_nonindependent",
    "exact_limits",
    "exact_share",
    "isr",
    "largest_remainder",
    "life_expectancy",
    "life_expectancy_at_birth",
    "mean_ci",
    "poisson_limits",
    "proportion",
    "proportion_funnel",
    "proportion_significance",
    "rate_chart_points",
    "rate_funnel",
    "rate_significance",
    "ratio_funnel",
    "ratio_significance",
    "sii",
    "sii_by_area",
    "slope_index",
    "wilson_limits",
    "z_value",
]
