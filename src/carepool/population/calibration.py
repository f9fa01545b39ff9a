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


def published_life_expectancy(period: str = LE_PERIOD) -> dict[tuple[str, str], float]:
    """``{(area_code, sex): years}`` for life expectancy at birth in ``period``."""
    rows = _local_targets("life_expectancy_at_birth", period)
    keys = zip(rows["area_code"].astype(str), rows["sex"].astype(str), strict=True)
    return dict(zip(keys, rows["value"].astype(float), strict=True))


def _quintiles(
    authority: FittedAuthority, quintile_of_lsoa: dict[str, int]
) -> npt.NDArray[np.int64]:
    """Each of the authority's LSOAs' deprivation quintile, 0 (most deprived) to 4."""
    return np.array([quintile_of_lsoa[c] for c in authority.lsoa_codes], dtype=np.int64) - 1


def area_mortality_multipliers(
    fitted: list[FittedAuthority],
    quintile_of_lsoa: dict[str, int],
    params: Parameters,
    period: str = LE_PERIOD,
) -> dict[str, npt.NDArray[np.float64]]:
    """``{lad_code: [c_female, c_male]}``."""
    targets = published_life_expectancy(period)
    ages = np.arange(MAX_LIFE_TABLE_AGE + 1)
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
            weights = by_q[:, np.minimum(ages, authority.counts.shape[1] - 1)]
            weights = weights / np.maximum(weights.sum(axis=0, keepdims=True), 1.0)
            qx = params.qx[s]
            rr = params.mortality_rr[s]  # [quintile, age]

            def gap(
                c: float,
                qx: np.ndarray = qx,
                rr: np.ndarray = rr,
                weights: np.ndarray = weights,
                target: float = target,
            ) -> float:
                mixed = (weights * hazard(qx[None, :], rr * c)).sum(axis=0)
                return period_life_expectancy(mixed) - target

            if gap(0.2) * gap(5.0) > 0:
                raise ReferenceDataError(
                    f"{authority.lad_code} ({sex}): no mortality multiplier in 0.2-5 reproduces "
                    f"the published life expectancy of {target} years"
                )
            multipliers[s] = brentq(gap, 0.2, 5.0, xtol=1e-6)
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
