"""Adult social care charging: the Care Act 2014 means test and the reforms to price.

``rules`` (the thresholds in force in a year, and the policies: today's means test, raised
capital limits, a lifetime cap, free personal care), ``assessment`` (the weekly means test over
arrays of people, and their capital running down over the weeks), ``person`` (the calculator for
one person: :func:`charge`). The population scenarios of the projection use the same
``assessment``.
"""

from carepool.charging.assessment import WEEKS_A_YEAR, People, RunDown, Week, assess_week, run_down
from carepool.charging.person import SETTINGS, Charge, ChargeYear, Person, charge
from carepool.charging.rules import POLICIES, ChargingRules, charging_rules, with_policy

__all__ = [
    "POLICIES",
    "SETTINGS",
    "WEEKS_A_YEAR",
    "Charge",
    "ChargeYear",
    "ChargingRules",
    "People",
    "Person",
    "RunDown",
    "Week",
    "assess_week",
    "charge",
    "charging_rules",
    "run_down",
    "with_policy",
]
