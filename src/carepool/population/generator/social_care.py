"""A year's adult social care: long-term care, reablement, and the Care Act means test.

Care home residence and home care are drawn with each person's fixed uniforms (so a care home
resident stays one), at the card's rates by age raised for the conditions that need care and
by deprivation. The means test then splits clients into self-funders (capital above the upper
limit, 65+ only) and council-funded clients, who pay an assessed charge from income and the
tariff on their capital; the council pays the rest.

A self-funder in a care home runs their capital down: after their years of capital (drawn
once, around :data:`DEPLETION_YEARS_RESIDENTIAL` or :data:`DEPLETION_YEARS_NURSING`) the
council pays, and from then on they are means-tested with capital at the upper limit. ASCOF
counts that change as a council-supported permanent admission, which is one reason an
affluent borough, with more self-funders, admits more than its deprivation suggests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv, ndtri

from carepool.population.generator.health import Registers
from carepool.population.generator.individual_risk import (
    BoolArray,
    FloatArray,
    IntArray,
    normalise_within,
)
from carepool.population.generator.year import Year
from carepool.population.parameters import MAX_LIFE_TABLE_AGE
from carepool.population.social_care_rates import (
    ASC_CONDITION_WEIGHTS,
    CARE_HOME_PER_1000_65PLUS,
    DEPLETION_YEARS_NURSING,
    DEPLETION_YEARS_RESIDENTIAL,
    HOME_CARE_HOURS_18_64,
    HOME_CARE_HOURS_65PLUS,
    HOME_CARE_PER_1000_65PLUS,
    INCOME_SIGMA,
    MEAN_CARE_HOME_STAY_YEARS,
    NO_CAPITAL_SHARE,
    NURSING_SHARE_OF_CARE_HOME,
    PENSIONER_INCOME_MEDIAN,
    REABLEMENT_AFTER_ADMISSION_65PLUS,
    RESIDENTIAL_SHARE_18_64,
    WORKING_AGE_INCOME_MEDIAN,
    self_funder_share_by_quintile,
)
from carepool.warehouse import ASC_FUNDING, ASC_SETTINGS

#: The age from which the minimum income guarantee is the pension-age one.
STATE_PENSION_AGE = 66


@dataclass(frozen=True)
class SocialCare:
    """A year's social care, one entry per person; money in pence."""

    care_home: BoolArray  # lives in a care home (residential or nursing), whoever pays
    setting: np.ndarray  # codes into ASC_SETTINGS, -1 for none
    funding: np.ndarray  # codes into ASC_FUNDING, -1 for none
    hours: IntArray  # home care hours
    residential_weeks: IntArray
    nursing_weeks: IntArray
    reablement: IntArray  # episodes
    contribution: IntArray  # a council-funded client's assessed charge
    self_funded: IntArray  # what a self-funder pays
    council_cost: IntArray  # the council's cost, net of contributions
    self_funder: BoolArray


@dataclass(frozen=True)
class _Settings:
    """Where each person's long-term care is given, if anywhere."""

    older: BoolArray  # 65+
    care_home: BoolArray
    home_care: BoolArray
    residential: BoolArray
    nursing: BoolArray

    @property
    def in_care(self) -> BoolArray:
        return self.home_care | self.residential | self.nursing

    def codes(self) -> np.ndarray:
        setting = np.full(self.older.size, -1, dtype=np.int8)  # codes into ASC_SETTINGS
        setting[self.home_care] = ASC_SETTINGS.index("home_care")
        setting[self.residential] = ASC_SETTINGS.index("residential")
        setting[self.nursing] = ASC_SETTINGS.index("nursing")
        return setting


def social_care(
    year: Year,
    need: FloatArray,
    care_home: BoolArray,
    exposure: FloatArray,
    emergency: IntArray,
) -> SocialCare:
    """Long-term care beside this year's ``care_home`` residents (:func:`care_home_residents`),
    reablement (stream ``social_care``) and the means test for one year; ``need``: each
    person's :func:`need_for_care`, computed once a year for both."""
    n = year.n
    params = year.params
    settings = _settings(year, need, care_home)
    older, care_home, home_care = settings.older, settings.care_home, settings.home_care
    residential, nursing = settings.residential, settings.nursing

    # means test: capital above the upper limit makes a self-funder (65+ only), until a care
    # home's fees have run it down
    fu = year.cohort.finance_u[year.rows]
    p_self = self_funder_share_by_quintile(params.self_funder_share_q1_q5)[year.q]
    p_self = np.where(care_home, np.minimum(p_self * _entry_factor(nursing), 0.95), p_self)
    has_the_capital = older & (fu[:, 2] < p_self)
    depleted = care_home & has_the_capital & capital_run_down(year, nursing)
    self_funder = has_the_capital & (home_care | residential | nursing) & ~depleted
    in_care = settings.in_care
    funding = np.full(n, -1, dtype=np.int8)  # codes into ASC_FUNDING
    funding[in_care & ~self_funder] = ASC_FUNDING.index("council_funded")
    funding[self_funder] = ASC_FUNDING.index("self_funder")

    weeks = np.rint(52.0 * exposure).astype(np.int64)
    mean_hours = np.where(older, HOME_CARE_HOURS_65PLUS, HOME_CARE_HOURS_18_64)
    # the gamma(shape 2, scale mean/2) quantile: scale × P⁻¹(2, u)
    cu = year.cohort.care_u[year.rows]
    weekly_hours = gammaincinv(2.0, np.clip(cu[:, 3], 1e-6, 1 - 1e-6)) * (mean_hours / 2.0)
    hours = np.where(home_care, np.rint(weekly_hours * weeks), 0).astype(np.int64)
    residential_weeks = np.where(residential, weeks, 0)
    nursing_weeks = np.where(nursing, weeks, 0)
    rng = year.rng("social_care")
    reablement = (
        older & ~care_home & (emergency > 0) & (rng.random(n) < REABLEMENT_AFTER_ADMISSION_65PLUS)
    ).astype(np.int64)

    weekly_charge = _weekly_charge(year, home_care, depleted)
    price = params.unit_cost_pence
    gross_council = (
        hours * price["asc_home_care_hours"]
        + residential_weeks * price["asc_residential_weeks"]
        + nursing_weeks * price["asc_nursing_weeks"]
    )
    charge_pence = np.rint(weekly_charge * 100).astype(np.int64) * np.maximum(weeks, 0)
    council_funded = in_care & ~self_funder
    contribution = np.where(council_funded, np.minimum(charge_pence, gross_council), 0)
    self_funded = np.where(
        self_funder,
        hours * price["asc_home_care_hours"]
        + residential_weeks * price["self:asc_residential_weeks"]
        + nursing_weeks * price["self:asc_nursing_weeks"],
        0,
    ).astype(np.int64)
    council_cost = (
        np.where(council_funded, gross_council - contribution, 0)
        + reablement * price["asc_reablement_episodes"]
    ).astype(np.int64)
    return SocialCare(
        care_home=care_home,
        setting=settings.codes(),
        funding=funding,
        hours=hours,
        residential_weeks=residential_weeks.astype(np.int64),
        nursing_weeks=nursing_weeks.astype(np.int64),
        reablement=reablement,
        contribution=contribution.astype(np.int64),
        self_funded=self_funded,
        council_cost=council_cost,
        self_funder=self_funder,
    )


def need_for_care(year: Year, registers: Registers) -> FloatArray:
    """Each adult's multiplier for the conditions that need care, mean one within each age
    group (working age, 65-74, 75-84, 85+): who enters a care home and who gets care at home
    both follow it."""
    older = year.age >= 65
    working = (year.age >= 18) & (year.age < 65)
    band65 = np.clip((year.age - 65) // 10, 0, 2).astype(np.int64)
    mult = np.ones(year.n)
    for cond, w in ASC_CONDITION_WEIGHTS.items():
        mult += w * registers.has(cond)
    group = np.where(older, 1 + band65, 0).astype(np.int64)
    return normalise_within(mult, group, older | working)


def _care_home_rate(year: Year, mult: FloatArray) -> FloatArray:
    """Each person's chance of living in a care home (65+): the card's rate for their age band
    times their deprivation ratio (whoever pays) times their need."""
    band65 = np.clip((year.age - 65) // 10, 0, 2).astype(np.int64)
    rate = CARE_HOME_PER_1000_65PLUS[band65] / 1000.0 * year.params.care_rr_65plus[year.q] * mult
    return np.where(year.age >= 65, np.minimum(rate, 0.95), 0.0)


def care_home_residents(year: Year, need: FloatArray) -> BoolArray:
    """Who lives in a care home this year (65+; stream ``care_home_entry``).

    In the model's first year, each person's fixed uniform against their rate
    (:func:`_care_home_rate`). After that residents stay until they die, and the places their
    deaths freed, with the growing need of people getting older, are filled: within each
    authority and five-year age band the people not yet in a home enter with a chance in
    proportion to their rate, so that the band's expected residents are its rate again.
    Admissions follow deaths, as places do; residents die more often than others of their age
    and need (:data:`CARE_HOME_MORTALITY`), so the homes turn over (about a quarter of the
    residents a year: docs/data-card.md).
    """
    rate = _care_home_rate(year, need)
    older = year.age >= 65
    if year.start == int(year.cohort.first_year.min()):  # the model's first year
        first: BoolArray = older & (year.cohort.care_u[year.rows, 0] < rate)
        return first
    staying = older & year.cohort.care_home[year.rows]
    bands = (MAX_LIFE_TABLE_AGE - 65) // 5 + 1
    group = year.lad * bands + np.clip((year.age - 65) // 5, 0, bands - 1)
    size = int(year.area.mortality.shape[0]) * bands
    expected = np.bincount(group, weights=rate, minlength=size)
    present = np.bincount(group, weights=staying.astype(np.float64), minlength=size)
    outside = older & ~staying
    waiting = np.bincount(group, weights=np.where(outside, rate, 0.0), minlength=size)
    places = np.maximum(expected - present, 0.0)
    scale = np.divide(places, waiting, out=np.zeros(size), where=waiting > 0)
    chance = np.minimum(rate * scale[group], 0.95)
    entering = outside & (year.rng("care_home_entry").random(year.n) < chance)
    residents: BoolArray = staying | entering
    return residents


def _settings(year: Year, mult: FloatArray, care_home: BoolArray) -> _Settings:
    """Home care and working-age clients' care, at the card's rates by age times the
    deprivation ratio times the conditions that need care, beside this year's care-home
    residents."""
    age, q = year.age, year.q
    cu = year.cohort.care_u[year.rows]
    older = age >= 65
    working = (age >= 18) & (age < 65)
    band65 = np.clip((age - 65) // 10, 0, 2).astype(np.int64)
    rr = year.params.asc_rr[q]  # council-supported clients (under 65 nobody self-funds)
    rr_older = year.params.care_rr_65plus[q]  # whoever pays: the means test follows

    p_hc = np.minimum(HOME_CARE_PER_1000_65PLUS[band65] / 1000.0 * rr_older * mult, 0.95)
    home_care_older = older & ~care_home & (cu[:, 1] < p_hc)
    p_working = np.minimum(year.params.asc_clients_per_1000["18-64"] / 1000.0 * rr * mult, 0.95)
    working_client = working & (cu[:, 1] < p_working)
    working_residential = working_client & (cu[:, 2] < RESIDENTIAL_SHARE_18_64)
    nursing = care_home & (cu[:, 2] < NURSING_SHARE_OF_CARE_HOME)
    return _Settings(
        older=older,
        care_home=care_home,
        home_care=home_care_older | (working_client & ~working_residential),
        residential=(care_home & ~nursing) | working_residential,
        nursing=nursing,
    )


def _entry_factor(nursing: BoolArray) -> FloatArray:
    """How many more self-funders enter a care home than live in one. The card's shares are
    of residents on a day, after some have run their capital down; with exponential stays
    (mean ``L``) and years of capital (mean ``D``) a self-funder on entry is still one on a
    random day with probability ``D / (D + L)``, so entrants self-fund ``(D + L) / D`` times
    as often as residents."""
    mean = np.where(nursing, DEPLETION_YEARS_NURSING, DEPLETION_YEARS_RESIDENTIAL)
    factor: FloatArray = (mean + MEAN_CARE_HOME_STAY_YEARS) / mean
    return factor


def capital_run_down(year: Year, nursing: BoolArray) -> BoolArray:
    """Whether each person's capital has run down to the upper limit: their years as a
    self-funder in a care home have reached their years of capital (an exponential draw
    around the setting's mean, from their own uniform, so the same person keeps it)."""
    mean = np.where(nursing, DEPLETION_YEARS_NURSING, DEPLETION_YEARS_RESIDENTIAL)
    u = np.clip(year.cohort.capital_u[year.rows].astype(np.float64), 0.0, 1.0 - 1e-7)
    years_of_capital = -mean * np.log1p(-u)
    run_down: BoolArray = year.cohort.self_funded_years[year.rows] > years_of_capital
    return run_down


def _weekly_charge(year: Year, home_care: BoolArray, depleted: BoolArray) -> FloatArray:
    """What the Care Act means test asks a client to pay a week, in pounds: income plus the
    tariff on capital, less the personal expenses allowance in a care home or the minimum
    income guarantee at home. A former self-funder's capital is at the upper limit."""
    c = year.params.charging
    q, age = year.q, year.age
    older = age >= 65
    fu = year.cohort.finance_u[year.rows]
    income_median = np.where(older, PENSIONER_INCOME_MEDIAN[q], WORKING_AGE_INCOME_MEDIAN)
    income = income_median * np.exp(INCOME_SIGMA * ndtri(np.clip(fu[:, 0], 1e-6, 1 - 1e-6)))
    has_capital = fu[:, 1] >= NO_CAPITAL_SHARE
    capital = np.where(
        has_capital,
        (fu[:, 1] - NO_CAPITAL_SHARE) / (1 - NO_CAPITAL_SHARE) * c["upper_capital_limit"],
        0.0,
    )
    capital = np.where(depleted, c["upper_capital_limit"], capital)
    tariff = (
        np.ceil(np.maximum(0.0, capital - c["lower_capital_limit"]) / 250.0) * c["tariff_income"]
    )
    mig = np.where(age >= STATE_PENSION_AGE, c["mig_pension_age"], c["mig_25_plus"])
    weekly_charge_home = np.maximum(0.0, income + tariff - c["pea"])
    weekly_charge_community = np.maximum(0.0, income + tariff - mig)
    return np.asarray(
        np.where(home_care, weekly_charge_community, weekly_charge_home), dtype=np.float64
    )
