"""Death probabilities by area, sex, age and year: England's life table, each local authority's
gap to England in life expectancy, and mortality improving year on year.

    q(area, sex, x, t) = 1 - (1 - qx_England(sex, x)) ** (c(area, sex) * (1 - i) ** t)

``c`` is the one multiplier on the hazard that gives the authority's published life
expectancy (its gap to England, carried to the base life table), and ``i`` the yearly
improvement in mortality rates (``docs/methods/projection.md``). A hazard multiplier keeps
every probability below 1 however high it goes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from carepool.errors import ReferenceDataError
from carepool.population import period_life_expectancy
from carepool.projection.cohort import AGES
from carepool.reference import read_reference

FloatArray = npt.NDArray[np.float64]
SEXES = ("female", "male")
#: Fingertips spells the sexes so.
_FINGERTIPS_SEX = {"Female": 0, "Male": 1}


def life_table_qx(period: str) -> FloatArray:
    """England's national life table for ``period`` (``2010-2012``) as q(x), ``(sex, age)``."""
    table = read_reference("life_tables_england", ["period", "sex", "age", "qx"]).to_pandas()
    rows = table[table["period"] == period]
    if rows.empty:
        periods = ", ".join(sorted(set(table["period"])))
        raise ReferenceDataError(
            f"life_tables_england.csv: no period {period} (there are {periods})"
        )
    qx = np.zeros((2, AGES))
    for index, sex in enumerate(SEXES):
        of_sex = rows[rows["sex"] == sex].sort_values("age")
        ages = of_sex["age"].to_numpy()
        if not np.array_equal(ages, np.arange(AGES)):
            raise ReferenceDataError(
                f"life_tables_england.csv: {period} {sex} must give ages 0..100 once each"
            )
        qx[index] = of_sex["qx"].to_numpy(dtype=np.float64)
    qx[:, -1] = 1.0 if (qx[:, -1] == 0).any() else qx[:, -1]
    return qx


def survivors(qx: FloatArray) -> FloatArray:
    """l(x) from q(x) along the last axis, l(0) = 1."""
    ones = np.ones((*qx.shape[:-1], 1))
    return np.cumprod(np.concatenate([ones, 1.0 - qx[..., :-1]], axis=-1), axis=-1)


def hazard_scaled(qx: FloatArray, multiplier: FloatArray | float) -> FloatArray:
    """``1 - (1 - q) ** k``: q with its hazard multiplied by ``k``."""
    scaled: FloatArray = 1.0 - np.power(1.0 - np.clip(qx, 0.0, 1.0 - 1e-12), multiplier)
    return scaled


def published_life_expectancy(period: str) -> dict[tuple[str, int], float]:
    """Life expectancy at birth by area code and sex (0 female, 1 male), from Fingertips, for
    ``period`` written as Fingertips writes it (``2015 - 17``)."""
    result: dict[tuple[str, int], float] = {}
    # every English authority's recent periods; Greater Manchester's back to 2015-17
    for key in ("phof_indicators_england", "phof_indicators_gm"):
        table = read_reference(
            key, ["indicator_id", "area_code", "period", "sex", "value"]
        ).to_pandas()
        rows = table[
            (table["indicator_id"] == "life_expectancy_at_birth") & (table["period"] == period)
        ]
        for row in rows.itertuples(index=False):
            sex = _FINGERTIPS_SEX.get(str(row.sex))
            if sex is not None:
                result.setdefault((str(row.area_code), sex), float(row.value))
    return result


def hazard_multipliers(
    lad_codes: Sequence[str],
    base_qx: FloatArray,
    le_period: str,
    *,
    relative: bool = True,
    england: str = "E92000001",
) -> FloatArray:
    """``c(area, sex)``: the multiplier on ``base_qx``'s hazard that gives each authority its
    published life expectancy in ``le_period``: with ``relative``, its gap to England added to
    the base table's own life expectancy (the table and the period differ in time); otherwise
    the figure itself. Authorities with no published figure keep England's mortality."""
    published = published_life_expectancy(le_period)
    result = np.ones((len(lad_codes), 2))
    for sex in range(2):
        base_le = period_life_expectancy(base_qx[sex])
        england_le = published.get((england, sex))
        for index, code in enumerate(lad_codes):
            local = published.get((code, sex))
            if local is None or (relative and england_le is None):
                continue
            target = base_le + (local - england_le) if relative and england_le else local
            result[index, sex] = brentq(
                lambda k, s=sex, t=target: period_life_expectancy(hazard_scaled(base_qx[s], k)) - t,
                0.2,
                5.0,
            )
    return result


def death_probability(
    base_qx: FloatArray,
    multiplier: FloatArray,
    improvement: FloatArray | float,
    years_on: int,
) -> FloatArray:
    """q for every area and sex ``years_on`` years after the base table: ``(..., area, sex,
    age)``, where ``multiplier`` is ``(area, sex)`` and ``improvement`` a yearly rate (or one
    per draw, shaped ``(draws, 1, 1)``)."""
    factor = np.power(1.0 - np.asarray(improvement, dtype=np.float64), years_on)
    k = multiplier[..., None] * np.asarray(factor)[..., None]
    return hazard_scaled(base_qx, k)
