"""The demonstration: the Greater Manchester model, its outcomes, its allocation, a year of its
pooled fund and its prevention portfolio, told by calling the capabilities as any user would."""

from carepool.demo.consultation import open_prevention_consultation
from carepool.demo.posting import DemoRun, run_demo
from carepool.demo.story import (
    HEADLINES,
    FundYear,
    Headlines,
    Prevention,
    default_allocation,
    headline_outcomes,
    post_fund_year,
    prevention_story,
    ten_year_outlook,
)

__all__ = [
    "HEADLINES",
    "DemoRun",
    "FundYear",
    "Headlines",
    "Prevention",
    "default_allocation",
    "headline_outcomes",
    "open_prevention_consultation",
    "post_fund_year",
    "prevention_story",
    "run_demo",
    "ten_year_outlook",
]
