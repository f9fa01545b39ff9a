"""Adult social care's rates and rules: how many older people are in care by age, who pays,
how long a self-funder's capital lasts, and the deprivation gradient before and after the
means test. Sources and judgements are given beside each figure and in docs/data-card.md."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Social care by age (judgement, to meet the card's clients per 1,000 aged 65+): the chance
#: of living in a care home (all funding) and of receiving home care, per 1,000 in each of the
#: bands 65-74, 75-84, 85+.
CARE_HOME_PER_1000_65PLUS = np.array([5.0, 27.0, 135.0])
NURSING_SHARE_OF_CARE_HOME = 6.0 / 17.0  # card: nursing 6 vs residential 11 per 1,000 65+
HOME_CARE_PER_1000_65PLUS = np.array([16.0, 60.0, 200.0])
#: Weekly home care hours: Gamma with this mean (65+) and for working-age clients, whose
#: community support (supported living and the like) is costed as home care hours.
HOME_CARE_HOURS_65PLUS = 11.0
HOME_CARE_HOURS_18_64 = 20.0
#: Working-age long-term clients living in residential care (judgement).
RESIDENTIAL_SHARE_18_64 = 0.15
ASC_CONDITION_WEIGHTS = {
    "dementia": 6.0,
    "frailty": 4.0,
    "learning_disability": 40.0,
    "smi": 8.0,
    "heart_failure": 0.8,
    "copd": 0.5,
}
#: Reablement: chance of an episode after an emergency admission at 65+ (judgement, giving
#: about 4 episodes per 1,000 residents a year: the card's 251k episodes for England).
REABLEMENT_AFTER_ADMISSION_65PLUS = 0.17

#: Weekly income of care clients (lognormal medians, judgement): pensioners by quintile and
#: working-age clients, who mostly live on benefits.
PENSIONER_INCOME_MEDIAN = np.array([215.0, 240.0, 270.0, 310.0, 360.0])
WORKING_AGE_INCOME_MEDIAN = 150.0
INCOME_SIGMA = 0.3
#: Share of non-self-funding clients with no capital above the lower limit (judgement).
NO_CAPITAL_SHARE = 0.6
#: Mean years a self-funder's capital pays a care home's fees before it runs down to the
#: upper capital limit and the council starts to pay: an average English home sold pays for
#: 7.3 years of residential care or 5.4 of nursing care (Partnership/Just Group Care Index,
#: via bestadvice.co.uk: an illustration, not a measured duration). Each self-funder's time
#: is exponential around the mean (judgement: wealth on entry is very unequal, and no
#: published distribution was found).
DEPLETION_YEARS_RESIDENTIAL = 7.3
DEPLETION_YEARS_NURSING = 5.4
#: Mean length of a care-home stay in the model: residents die at about 26% a year (the
#: life table and conditions, raised by ``CARE_HOME_MORTALITY``) and leave no other way, so
#: they stay about 1 / 0.26 years. Residents on the model's first day have been in their home
#: for an exponential time with this mean, and it sets how many more self-funders enter a home
#: than live in one; tests/population/test_generator.py checks it against the model's deaths.
#: (Published: 801 days, median 462, over 11,565 stays in 305 Bupa homes, 2008-10, nursing
#: heavy; Forder and Fernández, PSSRU Discussion Paper 2769, 2011.)
MEAN_CARE_HOME_STAY_YEARS = 3.8


def self_funder_share_by_quintile(most_least: tuple[float, float]) -> FloatArray:
    """The share of older care clients who pay for themselves in each IMD quintile 1..5:
    linear between the card's most and least deprived areas."""
    most, least = most_least
    shares: FloatArray = most + (least - most) * np.arange(5, dtype=np.float64) / 4.0
    return shares


def care_ratios_65plus(asc_rr: FloatArray, self_funder_share: FloatArray) -> FloatArray:
    """Older people's long-term care rate ratios by quintile, whoever pays.

    The card's long-term support ratio counts the clients councils support, which leaves out
    self-funders, and they are a larger share where people are better off (21.6% of care-home
    residents in the most deprived areas against 53.8% in the least). Applied to everyone in
    care before the means test, it would count the self-funding gradient twice (the
    council-supported ratio would come out near 3 instead of 1.8). So the ratio for everyone
    is ``asc_rr / (1 - self_funder_share)``, scaled so that the national mean of
    council-supported clients is unchanged: after the means test the council-supported
    ratio is the card's, and care itself varies little with deprivation (about 1.06 between
    the extremes).
    """
    council = 1.0 - self_funder_share
    scale = float(np.mean(asc_rr * council))
    ratios: FloatArray = asc_rr * scale / council
    return ratios
