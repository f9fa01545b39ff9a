"""Indicators: definitions, computation on the warehouse engine, benchmarking against the
region and England, gaps and inequalities, and disclosure control of everything published."""

from carepool.indicators.benchmarks import TREND_PERIODS, Z95, u75_rate
from carepool.indicators.cube import model_years
from carepool.indicators.definitions import BY_ID, INDICATORS, Indicator, Method, Polarity
from carepool.indicators.disclosure import HES_RULE, SUPPRESSED, DisclosureRule, protect
from carepool.indicators.gaps import GAP_LEVELS, gap_table, gaps_from_table, place_gaps
from carepool.indicators.levels import available_levels, local_deciles, memberships
from carepool.indicators.record import ENTRY as AUDIT_ENTRY
from carepool.indicators.record import audit_is_current, audit_warehouse, record_audit
from carepool.indicators.table import CONTRACT, IndicatorRequest, indicator_table

__all__ = [
    "AUDIT_ENTRY",
    "BY_ID",
    "CONTRACT",
    "GAP_LEVELS",
    "HES_RULE",
    "INDICATORS",
    "SUPPRESSED",
    "TREND_PERIODS",
    "Z95",
    "DisclosureRule",
    "Indicator",
    "IndicatorRequest",
    "Method",
    "Polarity",
    "audit_is_current",
    "audit_warehouse",
    "available_levels",
    "gap_table",
    "gaps_from_table",
    "indicator_table",
    "local_deciles",
    "memberships",
    "model_years",
    "place_gaps",
    "protect",
    "record_audit",
    "u75_rate",
]
