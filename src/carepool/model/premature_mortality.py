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
published 2022-24 life expectancy, exactly as the generator calibrates the region's own
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
import numpy.typing as npt
import pandas as pd

from carepool.errors import ReferenceDataError
from carepool.population import (
    load_parameters,
    mid2020_on_lsoa21,
    mixed_hazard,
    quintile_shares_by_age,
    solve_hazard_multiplier,
)
from carepool.reference import read_reference
from carepool.stats import ESP2013

ENGLAND = "E92000001"
LE_PERIOD = "2022 - 24"
U75_PERIOD = "2024"  # the release pooling 2022-24
#: Fewer authorities than this cannot pin the elasticity down.
MIN_AUTHORITIES = 30
_U75_AGES = 75


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


def _published(indicator: str, period: str) -> dict[tuple[str, str], float]:
    """``{(area_code, sex): value}`` of an indicator for England and its authorities."""
    frame = read_reference("phof_indicators_england").to_pandas()
    rows = frame[
        (frame["indicator_id"] == indicator)
        & (frame["period"].astype(str) == period)
        & frame["area_type"].isin(["Country", "District", "UA"])
    ]
    keys = zip(rows["area_code"].astype(str), rows["sex"].astype(str), strict=True)
    return dict(zip(keys, rows["value"].astype(float), strict=True))


def _u75_rate(mx: npt.NDArray[np.float64]) -> float:
    """Directly standardised (ESP 2013) rate per 100,000 under 75 from central death rates
    by single year of age."""
    ages = np.arange(_U75_AGES)
    bands = ages // 5
    by_band = np.bincount(bands, weights=mx[:_U75_AGES]) / np.bincount(bands)
    weights = np.asarray(ESP2013[: by_band.size], dtype=np.float64)
    return float((weights * by_band).sum() / weights.sum() * 100_000)


def _quintile_counts() -> dict[str, npt.NDArray[np.float64]]:
    """``{lad24_code: residents[quintile 0..4, age 0..90]}`` for every English authority."""
    iod = read_reference(
        "iod2025_lsoa21", columns=["lsoa21_code", "lad24_code", "imd_decile"]
    ).to_pandas()
    people = mid2020_on_lsoa21(iod["lsoa21_code"].tolist())
    quintile = (iod["imd_decile"].to_numpy(dtype=np.int64) + 1) // 2 - 1
    counts: dict[str, npt.NDArray[np.float64]] = {}
    values = people.to_numpy(dtype=np.float64)
    for code, rows in iod.groupby("lad24_code").indices.items():
        by_q = np.zeros((5, values.shape[1]))
        np.add.at(by_q, quintile[rows], values[rows])
        counts[str(code)] = by_q
    return counts


@cache
def _all_cause_ratios() -> pd.DataFrame:
    """Each English authority's modelled all-cause under-75 ratio to England (persons) beside
    its published preventable-causes ratio."""
    params = load_parameters()
    life = _published("life_expectancy_at_birth", LE_PERIOD)
    u75 = _published("under75_mortality_preventable", U75_PERIOD)
    england = u75.get((ENGLAND, "Persons"))
    if england is None:
        raise ReferenceDataError(
            f"phof_indicators_england: no England row for preventable under-75 mortality "
            f"in {U75_PERIOD}"
        )
    england_rate = _u75_rate(-np.log(1.0 - params.qx).mean(axis=0))
    rows = []
    for code, by_q in _quintile_counts().items():
        published = u75.get((code, "Persons"))
        targets = [life.get((code, sex)) for sex in ("Female", "Male")]
        if published is None or None in targets:
            continue  # a code of another vintage, or no published figure
        weights = quintile_shares_by_age(by_q)
        mx = []
        for s, target in enumerate(targets):
            qx, rr = params.qx[s], params.mortality_rr[s]
            c = solve_hazard_multiplier(qx, rr, weights, float(target))  # type: ignore[arg-type]
            if c is None:
                break
            mx.append(-np.log(1.0 - mixed_hazard(qx, rr, weights, c)))
        else:
            ratio = _u75_rate(np.mean(mx, axis=0)) / england_rate
            rows.append((code, ratio, published / england))
    return pd.DataFrame(rows, columns=["area_code", "model_all_causes", "published_preventable"])


@cache
def preventable_elasticity(excluded: frozenset[str]) -> Elasticity:
    """β and the residual spread, fitted on every English authority not in ``excluded`` (the
    modelled region's, whose own figures are what the fit will be checked against)."""
    table = _all_cause_ratios()
    fitted = table[~table["area_code"].isin(excluded)].dropna()
    if len(fitted) < MIN_AUTHORITIES:
        raise ReferenceDataError(
            f"phof_indicators_england: only {len(fitted)} authorities outside the region have "
            f"both life expectancy {LE_PERIOD} and preventable under-75 mortality "
            f"{U75_PERIOD}; at least {MIN_AUTHORITIES} are needed"
        )
    x = np.log(fitted["model_all_causes"].to_numpy())
    y = np.log(fitted["published_preventable"].to_numpy())
    beta = float((x * y).sum() / (x * x).sum())
    residual = y - beta * x
    return Elasticity(beta, float(np.sqrt((residual**2).mean())), len(fitted))
