"""The demonstration: the Greater Manchester model, its outcomes, its allocation and a year of
its pooled fund, told by calling the capabilities as any user would."""

from carepool.demo.posting import DemoRun, run_demo
from carepool.demo.story import (
    HEADLINES,
    FundYear,
    Headlines,
    default_allocation,
    headline_outcomes,
    post_fund_year,
)

__all__ = [
    "HEADLINES",
    "DemoRun",
    "FundYear",
    "Headlines",
    "default_allocation",
    "headline_outcomes",
    "post_fund_year",
    "run_demo",
]
