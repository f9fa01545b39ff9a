"""The weekly means test, for many people at once.

One function, :func:`assess_week`, holds the rule, over numpy arrays of whole pence: the
calculator for one person passes arrays of one, and the population scenarios pass everyone in
care. So a person's figures and the region's are the same arithmetic.

For each person in a week (``docs/methods/charging.md``):

1. chargeable capital = savings + the home where it counts (in a care home, after the 12-week
   disregard, unless a partner or qualifying relative lives there; never at home);
2. above the upper capital limit the person can pay the full cost; otherwise the assessed
   charge is income, less disregarded income and the allowance kept (the personal expenses
   allowance in a care home; elsewhere the minimum income guarantee, disability-related
   expenditure and housing costs), plus tariff income: £1 a week for every £250, or part of it,
   between the limits; never below nothing, never above the cost;
3. under a cap, the charge meets the daily living costs first (in a care home), and what it
   puts towards personal care counts towards the cap; once the cap is reached only the daily
   living costs are charged. Free personal care is the cap at nothing.

The council pays the rest: person + council = cost, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.charging.rules import PENSION_CREDIT_AGE, ChargingRules

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class People:
    """The circumstances of people in care, one array element each, money in pence a week
    (capital and property in pence)."""

    care_home: BoolArray
    weekly_cost_pence: IntArray
    savings_pence: IntArray
    property_pence: IntArray
    #: The home is ignored throughout: a partner or qualifying relative lives there.
    property_disregarded: BoolArray
    weekly_income_pence: IntArray
    disregarded_income_pence: IntArray
    #: Disability-related expenditure and housing costs, kept outside a care home.
    other_allowances_pence: IntArray
    age: npt.NDArray[np.int16]


@dataclass(frozen=True)
class Week:
    """One week's assessment, in pence, for each person."""

    person_pays_pence: IntArray
    council_pays_pence: IntArray
    tariff_income_pence: IntArray
    #: What this week's charge put towards the cap (zero without one).
    metered_pence: IntArray
    #: Of what the person pays, the part their income covers after the allowance they keep;
    #: the rest comes out of capital.
    from_income_pence: IntArray


def home_counts(people: People, week: int, rules: ChargingRules) -> BoolArray:
    """Whether each person's home is chargeable capital in ``week`` (0 = the first)."""
    counts: BoolArray = (
        people.care_home & ~people.property_disregarded & (week >= rules.property_disregard_weeks)
    )
    return counts


def allowance_pence(people: People, rules: ChargingRules) -> IntArray:
    """The income each person keeps: the personal expenses allowance in a care home; outside
    one the minimum income guarantee for their age, with their other allowances."""
    mig = np.where(
        people.age >= PENSION_CREDIT_AGE,
        rules.mig_pension_age_pence,
        np.where(people.age >= 25, rules.mig_25_to_pension_age_pence, rules.mig_18_to_24_pence),
    )
    kept: IntArray = np.where(
        people.care_home,
        rules.personal_expenses_allowance_pence,
        mig + people.other_allowances_pence,
    ).astype(np.int64)
    return kept


def tariff_pence(capital: IntArray, rules: ChargingRules) -> IntArray:
    """Tariff income: £1 a week for every £250, or part of £250, between the limits."""
    over = np.clip(capital, rules.lower_capital_limit_pence, rules.upper_capital_limit_pence)
    over = over - rules.lower_capital_limit_pence
    steps = -(-over // rules.tariff_step_pence)  # ceiling division in integers
    tariff: IntArray = (steps * rules.tariff_per_step_pence).astype(np.int64)
    return tariff


def assess_week(
    people: People,
    rules: ChargingRules,
    *,
    savings: IntArray,
    property_counted: IntArray,
    metered: IntArray,
) -> Week:
    """The week's charge for each person, given their savings, the value of their home that
    counts this week and what they have put towards a cap so far."""
    cost = people.weekly_cost_pence
    capital = savings + property_counted
    above = capital > rules.upper_capital_limit_pence
    tariff = np.where(above, 0, tariff_pence(capital, rules))
    kept = allowance_pence(people, rules)
    # tariff income is notional income: the allowance is kept out of income and tariff together
    assessed = people.weekly_income_pence - people.disregarded_income_pence - kept
    spare_income = np.maximum(0, assessed)
    charge = np.where(above, cost, np.clip(assessed + tariff, 0, cost))

    metered_now = np.zeros_like(cost)
    if rules.cap_pence is not None:
        living = np.where(people.care_home, np.minimum(cost, rules.daily_living_costs_pence), 0)
        to_living = np.minimum(charge, living)
        room = np.maximum(0, rules.cap_pence - metered)
        metered_now = np.minimum(charge - to_living, room)
        charge = to_living + metered_now

    person = charge.astype(np.int64)
    return Week(
        person_pays_pence=person,
        council_pays_pence=(cost - person).astype(np.int64),
        tariff_income_pence=tariff.astype(np.int64),
        metered_pence=metered_now.astype(np.int64),
        from_income_pence=np.minimum(person, spare_income).astype(np.int64),
    )


@dataclass(frozen=True)
class RunDown:
    """People's charges over the weeks, summed by year of 52 weeks, as capital runs down."""

    first_week: Week
    person_pays_by_year_pence: IntArray  # people x years
    council_pays_by_year_pence: IntArray
    capital_at_year_end_pence: IntArray
    metered_at_year_end_pence: IntArray
    #: The week from which the council pays towards the care every week to the end of the
    #: horizon (0: from the start); -1 where it does not pay in the last week.
    weeks_until_council_support: npt.NDArray[np.int32]


WEEKS_A_YEAR = 52


def run_down(
    people: People, rules: ChargingRules, weeks: int, *, metered_before: IntArray | None = None
) -> RunDown:
    """Assess every week of ``weeks`` (a whole number of years): what the person pays beyond
    their spare income comes out of their savings, then out of their home where it counts
    (sold, or deferred against it); the week it would take more than they have, they pay what
    they have and the council the rest. The rules stay as they are: constant prices."""
    n, years = people.weekly_cost_pence.size, -(-weeks // WEEKS_A_YEAR)
    savings = people.savings_pence.astype(np.int64).copy()
    home = people.property_pence.astype(np.int64).copy()
    metered = (
        np.zeros(n, np.int64) if metered_before is None else metered_before.astype(np.int64).copy()
    )
    person_by_year = np.zeros((n, years), np.int64)
    council_by_year = np.zeros((n, years), np.int64)
    capital_end = np.zeros((n, years), np.int64)
    metered_end = np.zeros((n, years), np.int64)
    last_unsupported = np.full(n, -1, np.int32)
    first: Week | None = None
    for week in range(weeks):
        counted = np.where(home_counts(people, week, rules), home, 0)
        this = assess_week(
            people, rules, savings=savings, property_counted=counted, metered=metered
        )
        needed = this.person_pays_pence - this.from_income_pence
        from_capital = np.minimum(needed, savings + counted)
        person = this.from_income_pence + from_capital
        council = people.weekly_cost_pence - person
        if first is None:
            first = Week(
                person,
                council,
                this.tariff_income_pence,
                this.metered_pence,
                this.from_income_pence,
            )
        from_savings = np.minimum(from_capital, savings)
        savings -= from_savings
        home -= from_capital - from_savings
        metered += np.minimum(this.metered_pence, person)
        year = week // WEEKS_A_YEAR
        person_by_year[:, year] += person
        council_by_year[:, year] += council
        capital_end[:, year] = savings + home
        metered_end[:, year] = metered
        last_unsupported = np.where(council <= 0, week, last_unsupported)
    assert first is not None
    until = np.where(last_unsupported == weeks - 1, -1, last_unsupported + 1).astype(np.int32)
    return RunDown(
        first_week=first,
        person_pays_by_year_pence=person_by_year,
        council_pays_by_year_pence=council_by_year,
        capital_at_year_end_pence=capital_end,
        metered_at_year_end_pence=metered_end,
        weeks_until_council_support=until,
    )
