"""Does the model's method order places by their inequality in life expectancy? Tested on
England's authorities, where the order can be tested.

Within Greater Manchester the boroughs' published slope indices of inequality differ by
little more than their sampling error, so their order says little either way. Across
England's authorities outside the region the published slopes run from about 3 to 16 years,
and the model's method can be judged by its order there: for each authority
(:mod:`carepool.model.england`), its LSOAs are ranked by IMD 2025 score and cut into deciles at
tenths of its residents, as OHID does and as the model's own ``lad_local_decile`` level does
(:func:`carepool.indicators.local_deciles`); each decile's expected life expectancy follows
from the authority's calibrated life table; and the slope index of inequality is the point
estimate of :func:`carepool.stats.sii` (:func:`carepool.stats.slope_index`), without its
simulated interval. Spearman's
correlation of those slopes with the published 2022-24 slopes is a
:class:`carepool.model.boroughs.RankCheck` of the method, marked independent: the model is
given each authority's life expectancy, never its slope.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.stats import spearmanr

from carepool.model.england import LE_PERIOD, SEXES, Authority, authorities, published
from carepool.population import load_parameters, mixed_hazard, period_life_expectancy
from carepool.stats import slope_index

SII_PERIOD = LE_PERIOD
DECILES = 10


def expected_slope(authority: Authority, sex: int) -> float:
    """The slope index of inequality (years, least minus most deprived) of the authority's
    expected life expectancy by local decile; NaN for an authority too small to have two."""
    params = load_parameters()
    c = authority.multiplier[sex]
    values, weights = [], []
    for decile in range(1, DECILES + 1):
        lsoas = authority.local_decile == decile
        people = float(authority.people[lsoas].sum())
        if people <= 0:
            continue
        shares = authority.quintile_shares(lsoas)
        mixed = mixed_hazard(params.qx[sex], params.mortality_rr[sex], shares, c)
        values.append(period_life_expectancy(mixed))
        weights.append(people)
    if len(values) < 2:
        return float("nan")
    return slope_index(weights, values)


@cache
def slope_order(excluded: frozenset[str]) -> dict[str, tuple[float, int]]:
    """``{sex: (Spearman's ρ, authorities)}`` of the method's slopes against the published,
    over the English authorities not in ``excluded``."""
    slopes = published("slope_index_of_inequality_life_expectancy", SII_PERIOD)
    result = {}
    for s, sex in enumerate(SEXES):
        pairs = [
            (slope, slopes[(a.code, sex)])
            for a in authorities()
            if a.code not in excluded and (a.code, sex) in slopes
            for slope in [expected_slope(a, s)]
            if np.isfinite(slope)
        ]
        model, observed = zip(*pairs, strict=True) if pairs else ((), ())
        rho = float(spearmanr(model, observed).statistic) if len(pairs) > 2 else float("nan")
        result[sex.lower()] = (rho, len(pairs))
    return result
