"""Investing in prevention when the one who pays is not the one who saves.

An intervention library (TOML, every figure sourced), each intervention's cohort found in the
warehouse, an appraisal for the whole system and each partner year by year (Green Book
discounting, optimism bias, NPV, benefit-cost ratio, payback, cost per QALY, net health
benefit, who gains by deprivation), a Monte Carlo over every uncertain figure, and fair
shares of what is saved (Shapley values, the core). docs/methods/prevention.md.
"""

from carepool.prevention.access import Principal
from carepool.prevention.charts import acceptability_chart, cash_flow_chart, frontier_chart
from carepool.prevention.discounting import discount_factors
from carepool.prevention.fairshare import FairShares, Game, Schedule, fair_shares, shapley
from carepool.prevention.fund import PortfolioLines, portfolio_lines
from carepool.prevention.library import (
    OUTCOMES,
    Intervention,
    default_library_text,
    load_library,
    parse_library,
)
from carepool.prevention.planning import PortfolioPlan, PortfolioRequest, plan_portfolio
from carepool.prevention.portfolio import Portfolio, choose
from carepool.prevention.records import appraisal_record, portfolio_record
from carepool.prevention.service import (
    DEFAULT_THRESHOLD,
    AppraisalRequest,
    InterventionAppraisal,
    ModelInputs,
    PartnerResult,
    appraise,
    model_inputs,
)
from carepool.prevention.stratification import (
    RiskProfile,
    RiskRequest,
    person_risks,
    risk_profile,
    write_private_csv,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "OUTCOMES",
    "AppraisalRequest",
    "FairShares",
    "Game",
    "Intervention",
    "InterventionAppraisal",
    "ModelInputs",
    "PartnerResult",
    "Portfolio",
    "PortfolioLines",
    "PortfolioPlan",
    "PortfolioRequest",
    "Principal",
    "RiskProfile",
    "RiskRequest",
    "Schedule",
    "acceptability_chart",
    "appraisal_record",
    "appraise",
    "cash_flow_chart",
    "choose",
    "default_library_text",
    "discount_factors",
    "fair_shares",
    "frontier_chart",
    "load_library",
    "model_inputs",
    "parse_library",
    "person_risks",
    "plan_portfolio",
    "portfolio_lines",
    "portfolio_record",
    "risk_profile",
    "shapley",
    "write_private_csv",
]
