"""How preventable premature mortality follows the all-cause mortality a place's life
expectancy implies, learned on the English authorities outside the modelled region.

OHID publishes each authority's under-75 mortality from causes considered preventable; the
all-cause rate (Fingertips indicator 108) is not vendored, and the model simulates all
causes. The two are not interchangeable: preventable causes (lung cancer, liver disease,
drug and alcohol deaths, much of circulatory disease) are more unequal between places than
deaths as a whole. Comparing the model's all-cause ratio to England with the published
preventable ratio therefore understates every deprived place (Manchester: 1.46 against 1.74).

The bridge is measured, not assumed. For every English district and unitary authority
outside the region, the model's own method gives an expected all-cause under-75 rate: its
residents' deprivation mix at each age (ONS mid-2020 on 2021 LSOAs, IoD 2025 quintiles), the
model's age-shaped mortality ratios, and the hazard multiplier that reproduces the authority's
published 2022-24 life expectancy, as the generator calibrates the region's own
authorities (:mod:`carepool.population.calibration`). Across those authorities,

    log(published preventable ratio) = β · log(model all-cause ratio) + ε,

fitted through the origin (England maps to England). β, about 1.4, is the elasticity of
preventable to all-cause premature mortality between places; ε's standard deviation (about
0.08) is how well any authority's preventable rate can be told from its life expectancy and
deprivation. The borough check compares the model's simulated all-cause ratio raised to β
with the published preventable ratio: nothing of the region's own published premature
mortality enters the fit, so the check stays independent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from carepool.errors import ReferenceDataError
from carepool.indicators import u75_rate
from carepool.model.england import ENGLAND, authorities, published
from carepool.population import load_parameters, mixed_hazard

U75_PERIOD = "2024"  # the release pooling 2022-24
#: Fewer authorities than this cannot pin the elasticity down.
MIN_AUTHORITIES = 30


@dataclass(frozen=True)
class Elasticity:
    """The fitted bridge from the model's all-cause to the published preventable ratio."""

    beta: float
    residual_sd: float  # of log ratios, across the authorities fitted
    authorities: int

    def preventable(self, all_cause_ratio: float) -> float:
        """The preventable-causes ratio to England that goes with ``all_cause_ratio``."""
        return float(all_cause_ratio**self.beta)

    def preventable_se(self, all_cause_ratio: float, se: float) -> float:
        """:meth:`preventable`'s standard error from the all-cause ratio's (delta method)."""
        return float(self.beta * all_cause_ratio ** (self.beta - 1.0) * se)


@cache
def _all_cause_ratios() -> pd.DataFrame:
    """Each English authority's modelled all-cause under-75 ratio to England (persons) beside
    its published preventable-causes ratio."""
    params = load_parameters()
    u75 = published("under75_mortality_preventable", U75_PERIOD)
    england = u75.get((ENGLAND, "Persons"))
    if england is None:
        raise ReferenceDataError(
            f"phof_indicators_england: no England row for preventable under-75 mortality "
            f"in {U75_PERIOD}"
        )
    england_rate = u75_rate(-np.log(1.0 - params.qx).mean(axis=0))
    rows = []
    for authority in authorities():
        rate = u75.get((authority.code, "Persons"))
        if rate is None:
            continue
        shares = authority.quintile_shares()
        mx = [
            -np.log(1.0 - mixed_hazard(params.qx[s], params.mortality_rr[s], shares, c))
            for s, c in enumerate(authority.multiplier)
        ]
        ratio = u75_rate(np.mean(mx, axis=0)) / england_rate
        rows.append((authority.code, ratio, rate / england))
    return pd.DataFrame(rows, columns=["area_code", "model_all_causes", "published_preventable"])


@cache
def preventable_elasticity(excluded: frozenset[str]) -> Elasticity | None:
    """β and the residual spread, fitted on every English authority not in ``excluded`` (the
    modelled region's, whose own figures are what the fit will be checked against); ``None``
    when fewer than :data:`MIN_AUTHORITIES` remain to fit it on."""
    table = _all_cause_ratios()
    fitted = table[~table["area_code"].isin(excluded)].dropna()
    if len(fitted) < MIN_AUTHORITIES:
        return None
    x = np.log(fitted["model_all_causes"].to_numpy())
    y = np.log(fitted["published_preventable"].to_numpy())
    beta = float((x * y).sum() / (x * x).sum())
    residual = y - beta * x
    return Elasticity(beta, float(np.sqrt((residual**2).mean())), len(fitted))
