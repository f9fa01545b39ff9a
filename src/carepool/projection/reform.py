"""Charging reform over the population: who pays for social care under each policy, from the
model's own people in care and the same means test as ``carepool charge``.

The model's residents in long-term care in its base year are the microsimulation's people:
their setting, the care's weekly cost at the services' prices, their age, deprivation quintile
and whether they paid for themselves. Their finances are the model's own assumptions
(``carepool.population``'s social care rates): weekly income lognormal about a median by
quintile; a self-funder's capital above the upper limit by an exponential amount with the mean
of 7.3 years of residential fees (5.4 of nursing); a council-funded client's nothing in 60% of
cases, else evenly spread below the limit. Each policy's weekly means test
(:func:`carepool.charging.assess_week`) then says what the council and the person pay.

A cap accrues: in the reform's n-th year a person has put towards it what they paid towards
their personal care in the weeks since it began, or since they came into care if later (time in
care exponential about 3.8 years in a care home, the model's mean stay, and 2 years at home, a
judgement). Capital is held where it is: the reform's effect on a steady flow of people, not on
one cohort running its savings down (``docs/methods/charging.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from carepool.charging import People, assess_week, charging_rules
from carepool.population import (
    DEPLETION_YEARS_NURSING,
    DEPLETION_YEARS_RESIDENTIAL,
    INCOME_SIGMA,
    MEAN_CARE_HOME_STAY_YEARS,
    NO_CAPITAL_SHARE,
    PENSIONER_INCOME_MEDIAN,
    WORKING_AGE_INCOME_MEDIAN,
)
from carepool.warehouse import Tables

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Mean years in care at home (a judgement: no published duration was found).
MEAN_HOME_CARE_YEARS: Final = 2.0
#: The care the microsimulation prices: weekly cost in pence by setting is read from the
#: services table; home care's is the person's hours a week at the hourly rate.
_SETTINGS: Final = ("home_care", "residential", "nursing")


@dataclass(frozen=True)
class CareUsers:
    """The model's people in long-term care in its base year, each standing for ``weight``
    real people."""

    lad: IntArray
    quintile: IntArray  # 1..5
    people: People
    self_funder: npt.NDArray[np.bool_]
    elapsed_weeks: FloatArray
    weight: float


def care_users(
    warehouse: Tables,
    lad_codes: tuple[str, ...],
    year: str,
    unit_cost_pence: dict[str, int],
    seed: int,
) -> CareUsers:
    """The people in long-term care in ``year``, with the finances the model assumes."""
    py = warehouse.table("person_year")
    chosen = py.filter((py.year == year) & py.asc_setting.isin(list(_SETTINGS)))
    frame = warehouse.to_pandas(
        chosen.select(
            "lad_code",
            "imd_quintile",
            "age",
            "asc_setting",
            "asc_funding",
            "asc_home_care_hours",
            "days_alive",
        )
    )
    scale = float(warehouse.manifest().get("scale", 1.0))
    rng = np.random.default_rng(seed)
    n = len(frame)
    setting = frame["asc_setting"].to_numpy(dtype=object)
    care_home = setting != "home_care"
    nursing = setting == "nursing"
    weeks_alive = np.maximum(frame["days_alive"].fillna(365).to_numpy(dtype=np.float64) / 7.0, 1.0)
    hours = frame["asc_home_care_hours"].fillna(0).to_numpy(dtype=np.float64) / weeks_alive
    cost = np.where(
        nursing,
        unit_cost_pence["asc_nursing_weeks"],
        np.where(
            care_home,
            unit_cost_pence["asc_residential_weeks"],
            np.rint(np.maximum(hours, 1.0) * unit_cost_pence["asc_home_care_hours"]),
        ),
    ).astype(np.int64)
    age = frame["age"].to_numpy(dtype=np.int64)
    quintile = frame["imd_quintile"].to_numpy(dtype=np.int64)
    self_funder = (frame["asc_funding"] == "self_funder").to_numpy()
    income, capital = _finances(rng, n, age, quintile, cost, care_home, nursing, self_funder)
    mean_stay = np.where(care_home, MEAN_CARE_HOME_STAY_YEARS, MEAN_HOME_CARE_YEARS) * 52.0
    lad_index = {code: i for i, code in enumerate(lad_codes)}
    return CareUsers(
        lad=np.asarray(frame["lad_code"].map(lad_index), dtype=np.int64),
        quintile=quintile,
        people=People(
            care_home=care_home,
            weekly_cost_pence=cost,
            savings_pence=capital,
            property_pence=np.zeros(n, np.int64),
            property_disregarded=np.ones(n, bool),
            weekly_income_pence=income,
            disregarded_income_pence=np.zeros(n, np.int64),
            other_allowances_pence=np.zeros(n, np.int64),
            age=np.clip(age, 18, 120).astype(np.int16),
        ),
        self_funder=self_funder,
        elapsed_weeks=rng.exponential(mean_stay),
        weight=1.0 / scale,
    )


def _finances(
    rng: np.random.Generator,
    n: int,
    age: IntArray,
    quintile: IntArray,
    cost: IntArray,
    care_home: npt.NDArray[np.bool_],
    nursing: npt.NDArray[np.bool_],
    self_funder: npt.NDArray[np.bool_],
) -> tuple[IntArray, IntArray]:
    """Weekly income and capital in pence, as the model's generator assumes them."""
    means_test = charging_rules("2024-25")
    upper = means_test.upper_capital_limit_pence
    median = np.where(
        age >= 65, PENSIONER_INCOME_MEDIAN[np.clip(quintile, 1, 5) - 1], WORKING_AGE_INCOME_MEDIAN
    )
    income = median * np.exp(INCOME_SIGMA * ndtri(np.clip(rng.random(n), 1e-6, 1 - 1e-6)))
    years = np.where(nursing, DEPLETION_YEARS_NURSING, DEPLETION_YEARS_RESIDENTIAL)
    above = rng.exponential(years * 52.0 * cost)
    below = np.where(rng.random(n) < NO_CAPITAL_SHARE, 0.0, rng.random(n) * upper)
    capital = np.where(self_funder, upper + 1 + above, below)
    return np.rint(income * 100).astype(np.int64), np.rint(capital).astype(np.int64)


@dataclass(frozen=True)
class ReformYear:
    """A policy's effect in one year of the reform, against today's means test."""

    #: the change in the council's share of social care's gross cost under the policy, by
    #: local authority and quintile, ``(lad, 5)``
    share_change: FloatArray
    #: people (real, at the base year's numbers) whom the council pays for under the policy
    #: and not under today's rules, by local authority
    newly_supported: FloatArray


def reform_year(
    users: CareUsers, policy: str, year: str, reform_years: int, n_lad: int
) -> ReformYear:
    """The policy's ``reform_years``-th year (1 = the first) against today's means test, both
    with ``year``'s thresholds."""
    people = users.people
    n = people.weekly_cost_pence.size
    zeros = np.zeros(n, np.int64)
    today = assess_week(
        people,
        charging_rules(year),
        savings=people.savings_pence,
        property_counted=zeros,
        metered=zeros,
    )
    rules = charging_rules(year, policy)
    if rules.cap_pence is not None and rules.cap_pence > 0:
        weekly = assess_week(
            people, rules, savings=people.savings_pence, property_counted=zeros, metered=zeros
        ).metered_pence
        weeks = np.minimum(users.elapsed_weeks, 52.0 * reform_years)
        metered = np.minimum(rules.cap_pence, np.rint(weekly * weeks)).astype(np.int64)
    else:
        metered = zeros
    after = assess_week(
        people, rules, savings=people.savings_pence, property_counted=zeros, metered=metered
    )
    gross = np.zeros((n_lad, 5))
    change = np.zeros((n_lad, 5))
    cell = (users.lad, np.clip(users.quintile, 1, 5) - 1)
    np.add.at(gross, cell, people.weekly_cost_pence.astype(np.float64))
    np.add.at(
        change, cell, (after.council_pays_pence - today.council_pays_pence).astype(np.float64)
    )
    # a cell with nobody in care takes its borough's change
    borough = change.sum(axis=1) / np.maximum(gross.sum(axis=1), 1.0)
    share_change = np.where(gross > 0, change / np.maximum(gross, 1.0), borough[:, None])
    newly = (after.council_pays_pence > 0) & (today.council_pays_pence == 0)
    supported = np.bincount(users.lad, weights=newly.astype(np.float64), minlength=n_lad).astype(
        np.float64
    )
    return ReformYear(share_change=share_change, newly_supported=supported * users.weight)
