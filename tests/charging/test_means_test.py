"""The means test for one person against cases worked by hand from the statutory rules: the
Charging and Assessment of Resources Regulations 2014 (tariff income, reg. 25; the 12-week
property disregard, sch. 2), the Care and Support statutory guidance annexes B and C, and the
2021 reform's cap and daily living costs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carepool.charging import Person, charge, charging_rules
from carepool.errors import ChargingError

RULES = charging_rules("2026-27")


def _home(**figures: int) -> Person:
    return Person(setting="care-home", **figures)  # type: ignore[arg-type]


def test_the_thresholds_in_force_in_2026_27() -> None:
    assert RULES.upper_capital_limit_pence == 23_250_00
    assert RULES.lower_capital_limit_pence == 14_250_00
    assert RULES.personal_expenses_allowance_pence == 31_80
    assert RULES.mig_pension_age_pence == 241_45
    # no 2026-27 figure is vendored for the under-25s: 2025-26's stays in force, and says so
    assert RULES.mig_18_to_24_pence == 89_15
    assert RULES.read_for["mig_18_to_24"] == "2025-26"
    assert RULES.version == "means-test/2026-27"


@pytest.mark.parametrize(
    ("capital", "tariff"),
    [
        (0, 0),
        (14_250_00, 0),  # at the lower limit: nothing
        (14_250_01, 1_00),  # a penny above: £1 for the part of £250
        (16_000_00, 7_00),  # annex B's example: £1,750 is seven steps of £250
        (20_000_00, 23_00),  # £5,750 = 23 steps
        (23_250_00, 36_00),  # at the upper limit: £9,000 = 36 steps
    ],
)
def test_tariff_income_is_a_pound_for_every_250_or_part(capital: int, tariff: int) -> None:
    answer = charge(_home(weekly_cost_pence=900_00, savings_pence=capital, weekly_income_pence=0))
    assert answer.tariff_income_pence == tariff
    assert answer.person_pays_pence == max(0, tariff - RULES.personal_expenses_allowance_pence)


def test_a_penny_above_the_upper_limit_pays_the_full_cost() -> None:
    answer = charge(
        _home(weekly_cost_pence=900_00, savings_pence=23_250_01, weekly_income_pence=150_00)
    )
    assert (answer.person_pays_pence, answer.council_pays_pence) == (900_00, 0)


def test_a_care_home_resident_keeps_the_personal_expenses_allowance() -> None:
    # £20,000 of savings, £200 a week of income, a £1,000 home:
    # 200.00 + 23.00 tariff - 31.80 allowance = £191.20; the council pays £808.80
    answer = charge(
        _home(weekly_cost_pence=1_000_00, savings_pence=20_000_00, weekly_income_pence=200_00)
    )
    assert (answer.person_pays_pence, answer.council_pays_pence) == (191_20, 808_80)


def test_the_knowsley_example_at_home() -> None:
    """Income £352.26, of which £111.65 disregarded; disability-related expenditure £12.60;
    minimum income guarantee £160.30 (that year's); no capital or housing costs:
    352.26 - 111.65 - 12.60 - 160.30 = £67.71 a week towards £391.95."""
    rules = replace(RULES, mig_pension_age_pence=160_30)
    person = Person(
        setting="community",
        weekly_cost_pence=391_95,
        weekly_income_pence=352_26,
        disregarded_income_pence=111_65,
        disability_related_expenditure_pence=12_60,
        age=70,
    )
    answer = charge(person, rules)
    assert answer.person_pays_pence == 67_71
    assert answer.council_pays_pence == 391_95 - 67_71


def test_at_home_the_minimum_income_guarantee_follows_age() -> None:
    # £200 a week of income, no capital: under 25 keeps £89.15, 25 and over £120.40, pension
    # age £241.45 (so pays nothing)
    paid = [
        charge(
            Person(
                setting="community", weekly_cost_pence=300_00, weekly_income_pence=200_00, age=age
            )
        ).person_pays_pence
        for age in (20, 40, 70)
    ]
    assert paid == [200_00 - 89_15, 200_00 - 120_40, 0]


def test_the_home_is_never_counted_for_care_at_home() -> None:
    person = Person(
        setting="community",
        weekly_cost_pence=300_00,
        property_pence=400_000_00,
        weekly_income_pence=250_00,
        age=70,
    )
    answer = charge(person, weeks=104)
    assert answer.person_pays_pence == 250_00 - 241_45
    assert answer.weeks_until_council_support == 0


def test_the_home_counts_after_the_12_week_disregard_and_capital_runs_down() -> None:
    """£5,000 of savings, a £150,000 home, £220 a week of income, a £900 home.

    Weeks 1-12 (0-11): the home is ignored; savings are below the lower limit, so the person
    pays 220.00 - 31.80 = £188.20 from income and the council £711.80.
    Week 13 (12) on: capital £155,000 is above the limit, so the person pays £900: £188.20 from
    income, £711.80 from capital. After n such weeks capital is 155,000 - 711.80 n, at or below
    £23,250 first when n = 186 (£22,605.20). So in week 199 (198) the council pays again:
    tariff ceil((22,605.20 - 14,250) / 250) = 34, the person pays 188.20 + 34 = £222.20.
    """
    person = _home(
        weekly_cost_pence=900_00,
        savings_pence=5_000_00,
        property_pence=150_000_00,
        weekly_income_pence=220_00,
        age=84,
    )
    answer = charge(person, weeks=260)
    assert (answer.person_pays_pence, answer.council_pays_pence) == (188_20, 711_80)
    assert answer.weeks_until_council_support == 198
    first_year = answer.years[0]
    assert first_year.person_pays_pence == 12 * 188_20 + 40 * 900_00
    assert first_year.council_pays_pence == 12 * 711_80
    assert first_year.capital_left_pence == 155_000_00 - 40 * 711_80
    # year 4 is weeks 156-207: 42 more weeks at full cost (to week 197), then means-tested
    fourth = answer.years[3]
    assert fourth.council_pays_pence > 0
    assert fourth.person_pays_pence + fourth.council_pays_pence == 52 * 900_00


def test_a_partner_at_home_keeps_the_home_out_for_good() -> None:
    person = _home(
        weekly_cost_pence=900_00,
        savings_pence=5_000_00,
        property_pence=150_000_00,
        property_disregarded=True,
        weekly_income_pence=220_00,
    )
    answer = charge(person, weeks=104)
    assert answer.weeks_until_council_support == 0
    assert all(year.person_pays_pence == 52 * 188_20 for year in answer.years)


def test_a_self_funder_who_never_needs_the_council() -> None:
    answer = charge(_home(weekly_cost_pence=900_00, savings_pence=2_000_000_00), weeks=104)
    assert answer.weeks_until_council_support is None
    assert answer.council_pays_pence == 0


def test_the_cap_meters_care_without_daily_living_costs() -> None:
    """A self-funder with £500,000 in a £1,200 home under the cap: £1,000 a week counts (the
    £200 of daily living costs does not), so the £86,000 cap is reached after 86 weeks; from
    week 87 (86) they pay the £200 of daily living costs and the council £1,000.
    Year 2 (weeks 52-103): 34 weeks at £1,200 and 18 at £200 = £44,400; the council £18,000."""
    person = _home(weekly_cost_pence=1_200_00, savings_pence=500_000_00)
    answer = charge(person, policy="cap", weeks=156)
    assert answer.rules.cap_pence == 86_000_00
    assert answer.weeks_until_council_support == 86
    assert answer.years[0].person_pays_pence == 52 * 1_200_00
    assert answer.years[1].person_pays_pence == 34 * 1_200_00 + 18 * 200_00
    assert answer.years[1].council_pays_pence == 18 * 1_000_00
    assert answer.years[1].metered_pence == 86_000_00


def test_the_reform_limits_widen_the_tariff_band() -> None:
    # £50,000 under the reform's limits: ceil((50,000 - 20,000) / 250) = 120
    answer = charge(
        _home(weekly_cost_pence=1_000_00, savings_pence=50_000_00, weekly_income_pence=200_00),
        policy="raised-limits",
    )
    assert answer.tariff_income_pence == 120_00
    assert answer.person_pays_pence == 200_00 + 120_00 - 31_80


def test_free_personal_care_leaves_only_daily_living_costs() -> None:
    at_home = Person(setting="community", weekly_cost_pence=300_00, savings_pence=90_000_00, age=80)
    assert charge(at_home, policy="free-personal-care").person_pays_pence == 0
    rich = _home(weekly_cost_pence=1_000_00, savings_pence=300_000_00)
    assert charge(rich, policy="free-personal-care").person_pays_pence == 200_00
    poor = _home(weekly_cost_pence=1_000_00, weekly_income_pence=150_00)
    assert charge(poor, policy="free-personal-care").person_pays_pence == 150_00 - 31_80


@pytest.mark.parametrize(
    ("figures", "field"),
    [
        ({"savings_pence": -1}, "savings"),
        ({"weekly_income_pence": -500}, "weekly income"),
        ({"weekly_cost_pence": 0}, "weekly cost"),
        ({"disregarded_income_pence": 10_00, "weekly_income_pence": 5_00}, "disregarded income"),
        ({"age": 17}, "age"),
        ({"savings_pence": 10**13}, "savings"),
        ({"property_pence": 1.5}, "property"),
    ],
)
def test_bad_figures_are_refused_naming_the_field(figures: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"setting": "care-home", "weekly_cost_pence": 900_00, **figures}
    with pytest.raises(ChargingError, match=f"^{field}:"):
        Person(**values)  # type: ignore[arg-type]


def test_an_unknown_policy_year_or_horizon_is_refused() -> None:
    person = _home(weekly_cost_pence=900_00)
    with pytest.raises(ChargingError, match=r"^policy:"):
        charge(person, policy="cheap")
    with pytest.raises(ChargingError, match=r"^year:"):
        charge(person, year="2026")
    with pytest.raises(ChargingError, match=r"^weeks:"):
        charge(person, weeks=0)


@pytest.mark.parametrize(
    ("figures", "field"),
    [
        ({"weekly_cost_pence": 10**400}, "weekly cost"),
        ({"savings_pence": -(10**400)}, "savings"),
        ({"age": 10**5000}, "age"),
        ({"property_disregarded": "no"}, "property disregarded"),
        ({"property_disregarded": None}, "property disregarded"),
    ],
)
def test_absurd_figures_are_refused_naming_the_field(
    figures: dict[str, object], field: str
) -> None:
    values: dict[str, object] = {"setting": "care-home", "weekly_cost_pence": 900_00, **figures}
    with pytest.raises(ChargingError, match=f"^{field}:"):
        Person(**values)  # type: ignore[arg-type]


def test_weeks_are_whole_years_and_years_are_the_care_acts() -> None:
    person = _home(weekly_cost_pence=900_00)
    for weeks in (53, 10**5000):
        with pytest.raises(ChargingError, match=r"^weeks:"):
            charge(person, weeks=weeks)
    for year in ("1900-01", "2051-52", 2026):
        with pytest.raises(ChargingError, match=r"^year:"):
            charge(person, year=year)  # type: ignore[arg-type]
    assert charge(person, year="2015-16").rules.upper_capital_limit_pence == 23_250_00
