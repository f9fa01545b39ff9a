"""Calibrating mortality to each local authority's published life expectancy, and registers
to each authority's published prevalence (:func:`area_prevalence_multipliers`).

England's life table times the deprivation ratios of the rates card reproduces the national
gradient, but places differ beyond their deprivation mix (Manchester's men live about four
years less than Trafford's). For every authority and sex with a published life expectancy
(OHID Fingertips, 2022-24) we solve one multiplier ``c`` on the annual hazard,

    q(x, quintile) = 1 - (1 - qx_England(x)) ** (RR_quintile(x) * c)

such that the period life expectancy of the authority's own mix of quintiles at each age
equals the published figure (``RR`` is shaped by age:
:mod:`carepool.population.mortality_gradient`). Authorities without a published figure keep
``c = 1``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import brentq

from carepool.errors import ReferenceDataError
from carepool.population.fit import FittedAuthority
from carepool.population.mortality_gradient import hazard, period_life_expectancy
from carepool.population.parameters import MAX_LIFE_TABLE_AGE, Parameters, condition_band
from carepool.reference import read_reference

LE_PERIOD = "2022-24"


def _local_targets(indicator: str, period: str) -> pd.DataFrame:
    """The rates card's published local figures of ``indicator`` in ``period``."""
    frame = read_reference("rates_gm_targets").to_pandas()
    rows: pd.DataFrame = frame[(frame["indicator"] == indicator) & (frame["period"] == period)]
    return rows


@cache
def published_life_expectancy(period: str = LE_PERIOD) -> dict[tuple[str, str], float]:
    """``{(area_code, sex): years}`` for life expectancy at birth in ``period``, every English
    council with a published figure (OHID Fingertips; 294 of 296 in 2022-24: the Isles of
    Scilly and the City of London are too small to publish)."""
    frame = read_reference(
        "phof_indicators_england", columns=["indicator_id", "area_code", "period", "sex", "value"]
    ).to_pandas()
    fingertips_period = period.replace("-", " - ")  # Fingertips writes "2022 - 24"
    rows = frame[
        (frame["indicator_id"] == "life_expectancy_at_birth")
        & (frame["period"] == fingertips_period)
        & frame["sex"].isin(["Female", "Male"])
    ]
    keys = zip(rows["area_code"].astype(str), rows["sex"].str.lower(), strict=True)
    return dict(zip(keys, rows["value"].astype(float), strict=True))


def _quintiles(
    authority: FittedAuthority, quintile_of_lsoa: dict[str, int]
) -> npt.NDArray[np.int64]:
    """Each of the authority's LSOAs' deprivation quintile, 0 (most deprived) to 4."""
    return np.array([quintile_of_lsoa[c] for c in authority.lsoa_codes], dtype=np.int64) - 1


def quintile_shares_by_age(by_quintile: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``[quintile, age 0..100]`` shares of a place's residents at each age, from its counts
    ``[quintile, age 0..90]`` (the life table's ages 90+ share the open 90 column)."""
    ages = np.arange(MAX_LIFE_TABLE_AGE + 1)
    counts = by_quintile[:, np.minimum(ages, by_quintile.shape[1] - 1)]
    shares: npt.NDArray[np.float64] = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1.0)
    return shares


def mixed_hazard(
    qx: npt.NDArray[np.float64],
    rr: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    c: float,
) -> npt.NDArray[np.float64]:
    """A place's death probability at each age: England's ``qx`` under each quintile's ratio
    ``rr[quintile, age]`` times ``c``, averaged over the place's ``weights[quintile, age]``
    (its residents' shares by quintile at each age)."""
    mixed: npt.NDArray[np.float64] = (weights * hazard(qx[None, :], rr * c)).sum(axis=0)
    return mixed


def solve_hazard_multiplier(
    qx: npt.NDArray[np.float64],
    rr: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    target: float,
) -> float | None:
    """The multiplier ``c`` in 0.2-5 whose :func:`mixed_hazard` gives the period life
    expectancy ``target``; ``None`` if none does."""

    def gap(c: float) -> float:
        return period_life_expectancy(mixed_hazard(qx, rr, weights, c)) - target

    if gap(0.2) * gap(5.0) > 0:
        return None
    return float(brentq(gap, 0.2, 5.0, xtol=1e-6))


def area_mortality_multipliers(
    fitted: list[FittedAuthority],
    quintile_of_lsoa: dict[str, int],
    params: Parameters,
    period: str = LE_PERIOD,
) -> dict[str, npt.NDArray[np.float64]]:
    """``{lad_code: [c_female, c_male]}``."""
    targets = published_life_expectancy(period)
    result: dict[str, npt.NDArray[np.float64]] = {}
    for authority in fitted:
        quintiles = _quintiles(authority, quintile_of_lsoa)
        multipliers = np.ones(2)
        for s, sex in enumerate(("female", "male")):
            target = targets.get((authority.lad_code, sex))
            if target is None:
                continue
            # residents by quintile at each age (ages 90+ share the 90 column)
            by_q = np.zeros((5, authority.counts.shape[1]))
            np.add.at(by_q, quintiles, authority.counts[:, :, s])
            weights = quintile_shares_by_age(by_q)
            solved = solve_hazard_multiplier(params.qx[s], params.mortality_rr[s], weights, target)
            if solved is None:
                raise ReferenceDataError(
                    f"{authority.lad_code} ({sex}): no mortality multiplier in 0.2-5 reproduces "
                    f"the published life expectancy of {target} years"
                )
            multipliers[s] = solved
        result[authority.lad_code] = multipliers
    return result


#: Registers calibrated to each authority's own published prevalence: (condition, the rates
#: card's local indicator, its period, lowest age of the register's denominator).
LOCAL_REGISTERS = (("depression", "depression_QOF_prevalence_18plus", "2022/23", 18),)


def published_local_prevalence(indicator: str, period: str) -> dict[str, float]:
    """``{area_code: share}`` of a register's published prevalence by local authority."""
    rows = _local_targets(indicator, period)
    shares = rows["value"].astype(float) / 100.0
    return dict(zip(rows["area_code"].astype(str), shares, strict=True))


def area_prevalence_multipliers(
    fitted: list[FittedAuthority],
    quintile_of_lsoa: dict[str, int],
    params: Parameters,
    conditions: tuple[str, ...],
) -> dict[str, npt.NDArray[np.float64]]:
    """``{lad_code: multiplier per condition}`` (in ``conditions`` order; 1 where not
    calibrated).

    National registers times deprivation ratios do not reproduce local recording: QOF
    depression is higher in Bury, Stockport and Trafford than in Manchester, against their
    deprivation. For each register in :data:`LOCAL_REGISTERS` and each authority with a
    published value, one multiplier ``k`` makes the authority's expected prevalence (its own
    residents by LSOA, age and sex, each at the national rate of their sex and age times their
    quintile's ratio) equal the published figure; deprivation still shapes the register within
    the authority.
    """
    result = {a.lad_code: np.ones(len(conditions)) for a in fitted}
    ages: npt.NDArray[np.int16] = np.arange(
        fitted[0].counts.shape[1] if fitted else 0, dtype=np.int16
    )
    for condition, indicator, period, min_age in LOCAL_REGISTERS:
        if condition not in conditions:
            continue
        published = published_local_prevalence(indicator, period)
        j = conditions.index(condition)
        bands = np.asarray(condition_band(ages), dtype=np.intp)
        rates = params.prevalence[condition][:, bands]  # [sex, age]
        ratios = params.condition_rr[condition]
        for authority in fitted:
            target = published.get(authority.lad_code)
            if target is None:
                continue
            quintiles = _quintiles(authority, quintile_of_lsoa)
            adults = authority.counts[:, ages >= min_age, :].astype(np.float64)
            p = ratios[quintiles][:, None, None] * rates[:, ages >= min_age].T[None, :, :]
            expected = float((adults * np.minimum(p, 0.98)).sum() / max(adults.sum(), 1.0))
            if expected > 0:
                result[authority.lad_code][j] = target / expected
    return result
