"""The charging rules in force: the Care Act 2014 means test, read from the vendored thresholds,
and the reforms a council may be asked to price.

A rule set is a frozen value: capital limits, tariff income, the allowances people keep, and,
for the reforms, the lifetime cap and the daily living costs that do not count towards it.
Every figure is a whole number of pence a week (or pence of capital), so what a person pays and
what the council pays add up to the cost to the penny.

The four policies (``docs/methods/charging.md``):

- ``means-test``: today's rules (Care Act 2014; Charging and Assessment of Resources
  Regulations 2014, SI 2014/2672; the year's local authority circular).
- ``raised-limits``: the 2021 reform's capital limits (upper £100,000, lower £20,000) without
  the cap.
- ``cap``: the 2021 reform whole: those limits and an £86,000 lifetime cap on what a person
  spends on their eligible personal care, metered without £200 a week of daily living costs in
  a care home (DHSC, *Adult social care charging reform: further details*, November 2021,
  updated March 2022). Announced for October 2023, cancelled in July 2024.
- ``free-personal-care``: personal care free at the point of use in every setting, as in
  Scotland; in a care home the person still pays the daily living costs, means-tested as today.
  It is the cap set at nothing: the same code serves both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final

import pyarrow.compute as pc

from carepool.errors import ChargingError, ReferenceDataError
from carepool.reference import read_reference
from carepool.years import is_financial_year, start_year

POLICIES: Final = ("means-test", "raised-limits", "cap", "free-personal-care")
#: The years the rules may be asked for: the Care Act's charging began in April 2015; a
#: projection may look to 2050-51.
FIRST_YEAR: Final = 2015
LAST_YEAR: Final = 2050

#: The 2021 reform package (DHSC, *Adult social care charging reform: further details*).
REFORM_UPPER_CAPITAL_LIMIT_PENCE: Final = 100_000_00
REFORM_LOWER_CAPITAL_LIMIT_PENCE: Final = 20_000_00
REFORM_CAP_PENCE: Final = 86_000_00
#: The notional daily living costs a care home resident keeps paying after the cap (£200 a
#: week), which do not count towards it.
REFORM_DAILY_LIVING_COSTS_PENCE: Final = 200_00

#: Pension Credit qualifying age, which sets the minimum income guarantee's pension rate.
PENSION_CREDIT_AGE: Final = 66
#: Weeks of a new permanent care home resident's home ignored in the means test (Care and
#: Support statutory guidance, annex B, paragraph 34; SI 2014/2672 schedule 2).
PROPERTY_DISREGARD_WEEKS: Final = 12

_PARAMETERS: Final = {
    "upper_capital_limit": "upper_capital_limit",
    "lower_capital_limit": "lower_capital_limit",
    "tariff_income": "tariff_income",
    "personal_expenses_allowance": "personal_expenses_allowance",
    "mig_18_to_24": "mig_single_18_to_24",
    "mig_25_to_pension_age": "mig_single_25_to_pension_credit_age",
    "mig_pension_age": "mig_single_pension_credit_age",
}


@dataclass(frozen=True)
class ChargingRules:
    """One year's rules under one policy, in pence."""

    year: str
    policy: str
    upper_capital_limit_pence: int
    lower_capital_limit_pence: int
    #: £1 a week of tariff income for every £250 of capital, or part of £250, between the limits.
    tariff_step_pence: int
    tariff_per_step_pence: int
    personal_expenses_allowance_pence: int
    mig_18_to_24_pence: int
    mig_25_to_pension_age_pence: int
    mig_pension_age_pence: int
    #: The lifetime cap on what a person spends on eligible personal care (None: no cap).
    cap_pence: int | None = None
    daily_living_costs_pence: int = 0
    property_disregard_weeks: int = PROPERTY_DISREGARD_WEEKS
    #: The financial year each threshold was read for: the latest published at or before
    #: ``year`` (a circular not yet vendored leaves last year's figure in force).
    read_for: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def version(self) -> str:
        """Names the rules in every answer: ``means-test/2026-27``."""
        return f"{self.policy}/{self.year}"

    def minimum_income_guarantee_pence(self, age: int) -> int:
        """The single person's minimum income guarantee outside a care home, by age
        (before any disability premium, which the caller adds as disregarded income)."""
        if age >= PENSION_CREDIT_AGE:
            return self.mig_pension_age_pence
        if age >= 25:
            return self.mig_25_to_pension_age_pence
        return self.mig_18_to_24_pence

    def tariff_income_pence(self, capital_pence: int) -> int:
        """Tariff income on ``capital_pence`` between the limits (above the upper limit the
        person pays the full cost, so tariff income no longer matters)."""
        over = max(
            0, min(capital_pence, self.upper_capital_limit_pence) - self.lower_capital_limit_pence
        )
        return math.ceil(over / self.tariff_step_pence) * self.tariff_per_step_pence


def charging_rules(year: str, policy: str = "means-test") -> ChargingRules:
    """The rules of ``policy`` in financial year ``year`` (``2026-27``): from 2015-16, when the
    Care Act's charging came into force, to 2050-51 (a year after the last vendored circular
    keeps its thresholds, and the answer says which year each was read for)."""
    if not isinstance(year, str) or not is_financial_year(year):
        raise ChargingError(f"year: expected a financial year such as 2026-27, not {year!r:.40}")
    if not FIRST_YEAR <= start_year(year) <= LAST_YEAR:
        raise ChargingError(
            f"year: expected {FIRST_YEAR}-{(FIRST_YEAR + 1) % 100:02d} to "
            f"{LAST_YEAR}-{(LAST_YEAR + 1) % 100:02d} (the Care Act's charging rules), not {year}"
        )
    if policy not in POLICIES:
        raise ChargingError(f"policy: expected one of {', '.join(POLICIES)}, not {policy!r}")
    values, read_for = _thresholds(year)
    rules = ChargingRules(
        year=year,
        policy="means-test",
        upper_capital_limit_pence=values["upper_capital_limit"],
        lower_capital_limit_pence=values["lower_capital_limit"],
        tariff_step_pence=250_00,
        tariff_per_step_pence=values["tariff_income"],
        personal_expenses_allowance_pence=values["personal_expenses_allowance"],
        mig_18_to_24_pence=values["mig_18_to_24"],
        mig_25_to_pension_age_pence=values["mig_25_to_pension_age"],
        mig_pension_age_pence=values["mig_pension_age"],
        read_for=read_for,
    )
    return with_policy(rules, policy)


def with_policy(rules: ChargingRules, policy: str) -> ChargingRules:
    """``rules`` changed as ``policy`` changes them (the allowances stay as they are)."""
    if policy == "means-test":
        return replace(rules, policy=policy, cap_pence=None, daily_living_costs_pence=0)
    raised = replace(
        rules,
        policy=policy,
        upper_capital_limit_pence=REFORM_UPPER_CAPITAL_LIMIT_PENCE,
        lower_capital_limit_pence=REFORM_LOWER_CAPITAL_LIMIT_PENCE,
    )
    if policy == "raised-limits":
        return replace(raised, cap_pence=None, daily_living_costs_pence=0)
    if policy == "cap":
        return replace(
            raised,
            cap_pence=REFORM_CAP_PENCE,
            daily_living_costs_pence=REFORM_DAILY_LIVING_COSTS_PENCE,
        )
    if policy == "free-personal-care":
        return replace(
            rules,
            policy=policy,
            cap_pence=0,
            daily_living_costs_pence=REFORM_DAILY_LIVING_COSTS_PENCE,
        )
    raise ChargingError(f"policy: expected one of {', '.join(POLICIES)}, not {policy!r}")


def _thresholds(year: str) -> tuple[dict[str, int], dict[str, str]]:
    """Each threshold in pence for ``year``: the latest value published at or before it (the
    file writes years ``2026/27``), or the one value that holds in all years."""
    table = read_reference("care_act_charging", ["financial_year", "parameter", "value"])
    wanted = f"{start_year(year)}/{(start_year(year) + 1) % 100:02d}"
    values: dict[str, int] = {}
    read_for: dict[str, str] = {}
    for key, name in _PARAMETERS.items():
        rows = table.filter(pc.equal(table["parameter"], name)).to_pylist()
        if not rows:
            raise ReferenceDataError(f"care_act_charging_thresholds.csv: no {name} rows")
        timeless = [row for row in rows if row["financial_year"] == "all years"]
        dated = sorted(
            (row for row in rows if row["financial_year"][:4].isdigit()),
            key=lambda row: str(row["financial_year"]),
        )
        in_force = [row for row in dated if row["financial_year"] <= wanted]
        if in_force:
            chosen = in_force[-1]
        elif timeless:
            chosen = timeless[0]
        elif dated:
            chosen = dated[0]
        else:
            raise ReferenceDataError(f"care_act_charging_thresholds.csv: no usable {name} row")
        values[key] = int(Decimal(str(chosen["value"])) * 100)
        read_for[key] = str(chosen["financial_year"]).replace("/", "-")
    return values, read_for
