"""Indicators: definitions, computation, benchmarking, and disclosure control."""

from carepool.indicators.disclosure import HES_RULE, SUPPRESSED, DisclosureRule, protect

__all__ = ["HES_RULE", "SUPPRESSED", "DisclosureRule", "protect"]
