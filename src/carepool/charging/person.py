"""The charging calculator for one person: what they pay and what the council pays each week,
and over the years as their capital runs down.

>>> from carepool.charging import Person, charge
>>> answer = charge(Person(setting="care-home", weekly_cost_pence=1_000_00,
...                        savings_pence=20_000_00, weekly_income_pence=200_00, age=80),
...                 year="2026-27")
>>> answer.person_pays_pence, answer.council_pays_pence
(19120, 80880)

The person above has £20,000: tariff income of £23 a week (23 steps of £250 above £14,250);
with £200 of income and the £31.80 personal expenses allowance, they pay £191.20 and the council
£808.80.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final, Literal

import numpy as np

from carepool.charging.assessment import WEEKS_A_YEAR, People, run_down
from carepool.charging.rules import ChargingRules, charging_rules
from carepool.errors import ChargingError

SETTINGS: Final = ("care-home", "community")
#: The stated limits of what a person's figures may be, in pence (a week, or of capital).
MAX_WEEKLY_COST_PENCE: Final = 50_000_00
MAX_WEEKLY_INCOME_PENCE: Final = 100_000_00
MAX_CAPITAL_PENCE: Final = 100_000_000_00
MAX_WEEKS: Final = 50 * WEEKS_A_YEAR
AGES: Final = range(18, 121)

_WEEKLY: Final = (
    "weekly_income_pence",
    "disregarded_income_pence",
    "disability_related_expenditure_pence",
    "housing_costs_pence",
)


@dataclass(frozen=True)
class Person:
    """One adult with eligible care needs, in pence (a week, or of capital)."""

    setting: Literal["care-home", "community"]
    #: What meeting their eligible needs costs a week, at the rate the council would pay.
    weekly_cost_pence: int
    #: Savings and other capital, not counting the home.
    savings_pence: int = 0
    #: The home's value net of any loan secured on it.
    property_pence: int = 0
    #: A partner or qualifying relative lives in the home, so it is never counted.
    property_disregarded: bool = False
    weekly_income_pence: int = 0
    #: Income the regulations ignore (e.g. the mobility part of PIP), within the income.
    disregarded_income_pence: int = 0
    #: Outside a care home: extra costs of disability, and rent or mortgage, which are kept.
    disability_related_expenditure_pence: int = 0
    housing_costs_pence: int = 0
    age: int = 75
    #: What they have already put towards a cap on care costs (the care account).
    metered_pence: int = 0

    def __post_init__(self) -> None:
        if self.setting not in SETTINGS:
            raise ChargingError(
                f"setting: expected care-home or community, not {_shown(self.setting)}"
            )
        if not isinstance(self.property_disregarded, bool):
            raise ChargingError("property disregarded: expected True or False")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_pence") and (
                not isinstance(value, int) or isinstance(value, bool)
            ):
                raise ChargingError(f"{_label(item.name)}: expected a whole number of pence")
            if item.name.endswith("_pence") and value < 0:
                raise ChargingError(
                    f"{_label(item.name)}: expected nothing or more, not {_shown(value)} pence"
                )
        _at_most("weekly_cost_pence", self.weekly_cost_pence, MAX_WEEKLY_COST_PENCE)
        if self.weekly_cost_pence == 0:
            raise ChargingError("weekly cost: expected the cost of the care a week, more than £0")
        for name in _WEEKLY:
            _at_most(name, getattr(self, name), MAX_WEEKLY_INCOME_PENCE)
        for name in ("savings_pence", "property_pence", "metered_pence"):
            _at_most(name, getattr(self, name), MAX_CAPITAL_PENCE)
        if self.disregarded_income_pence > self.weekly_income_pence:
            raise ChargingError(
                "disregarded income: expected a part of the weekly income, not more than it"
            )
        if isinstance(self.age, bool) or not isinstance(self.age, int) or self.age not in AGES:
            raise ChargingError(
                f"age: expected a whole number of years from 18 to 120, not {_shown(self.age)}"
            )

    def as_people(self) -> People:
        """This person as the arrays the means test reads."""
        return People(
            care_home=np.array([self.setting == "care-home"]),
            weekly_cost_pence=np.array([self.weekly_cost_pence], np.int64),
            savings_pence=np.array([self.savings_pence], np.int64),
            property_pence=np.array([self.property_pence], np.int64),
            property_disregarded=np.array(
                [self.property_disregarded or self.setting != "care-home"]
            ),
            weekly_income_pence=np.array([self.weekly_income_pence], np.int64),
            disregarded_income_pence=np.array([self.disregarded_income_pence], np.int64),
            other_allowances_pence=np.array(
                [self.disability_related_expenditure_pence + self.housing_costs_pence], np.int64
            ),
            age=np.array([self.age], np.int16),
        )


def _label(name: str) -> str:
    return name.removesuffix("_pence").replace("_", " ")


def _shown(value: object) -> str:
    """A value as an error message may quote it: short, whatever it is (a number of thousands
    of digits cannot even be written out)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        return "a number far too large"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _at_most(name: str, value: int, limit: int) -> None:
    if value > limit:
        shown = f"£{value / 100:,.2f}" if value < 10**18 else "a number far too large"
        raise ChargingError(f"{_label(name)}: expected at most £{limit / 100:,.0f}, not {shown}")


@dataclass(frozen=True)
class ChargeYear:
    """One year (52 weeks) of the run-down, from the first week."""

    year: int
    person_pays_pence: int
    council_pays_pence: int
    capital_left_pence: int
    metered_pence: int


@dataclass(frozen=True)
class Charge:
    """What one person pays and what the council pays: the first week, and year by year."""

    rules: ChargingRules
    weekly_cost_pence: int
    person_pays_pence: int
    council_pays_pence: int
    tariff_income_pence: int
    weeks_until_council_support: int | None
    years: tuple[ChargeYear, ...]

    def record(self) -> dict[str, Any]:
        """The answer as ``carepool charge --json`` prints it."""
        return {
            "rule_version": self.rules.version,
            "weekly_cost_pence": self.weekly_cost_pence,
            "person_pays_pence": self.person_pays_pence,
            "council_pays_pence": self.council_pays_pence,
            "tariff_income_pence": self.tariff_income_pence,
            "weeks_until_council_support": self.weeks_until_council_support,
            "thresholds_read_for": dict(self.rules.read_for),
            "years": [vars(year) for year in self.years],
        }


def charge(
    person: Person,
    rules: ChargingRules | None = None,
    *,
    year: str = "2026-27",
    policy: str = "means-test",
    weeks: int = 10 * WEEKS_A_YEAR,
) -> Charge:
    """What ``person`` pays and what the council pays under ``rules`` (or the rules of
    ``policy`` in ``year``): the first week's figures, and ``weeks`` of them as the person's
    capital runs down (whole years; at the rules' prices throughout)."""
    if (
        isinstance(weeks, bool)
        or not isinstance(weeks, int)
        or not 1 <= weeks <= MAX_WEEKS
        or weeks % WEEKS_A_YEAR
    ):
        raise ChargingError(
            f"weeks: expected whole years of {WEEKS_A_YEAR} weeks, from {WEEKS_A_YEAR} to "
            f"{MAX_WEEKS}, not {_shown(weeks)}"
        )
    rules = rules if rules is not None else charging_rules(year, policy)
    if rules.cap_pence and person.metered_pence > rules.cap_pence:
        raise ChargingError(
            f"towards cap: expected at most the cap, £{rules.cap_pence / 100:,.0f}, not "
            f"£{person.metered_pence / 100:,.2f}"
        )
    result = run_down(
        person.as_people(), rules, weeks, metered_before=np.array([person.metered_pence], np.int64)
    )
    first = result.first_week
    until = int(result.weeks_until_council_support[0])
    years = tuple(
        ChargeYear(
            year=index + 1,
            person_pays_pence=int(result.person_pays_by_year_pence[0, index]),
            council_pays_pence=int(result.council_pays_by_year_pence[0, index]),
            capital_left_pence=int(result.capital_at_year_end_pence[0, index]),
            metered_pence=int(result.metered_at_year_end_pence[0, index]),
        )
        for index in range(result.person_pays_by_year_pence.shape[1])
    )
    return Charge(
        rules=rules,
        weekly_cost_pence=person.weekly_cost_pence,
        person_pays_pence=int(first.person_pays_pence[0]),
        council_pays_pence=int(first.council_pays_pence[0]),
        tariff_income_pence=int(first.tariff_income_pence[0]),
        weeks_until_council_support=None if until < 0 else until,
        years=years,
    )
