"""Benchmarking: England values, significance-based comparison, and trend between periods.

The comparison follows OHID Fingertips: a place is *better* or *worse* than a benchmark when
its 95% confidence interval lies wholly on one side of the benchmark's value, respecting the
indicator's polarity, and *similar* when the interval contains it (*higher* / *lower* for
indicators without a polarity). Trend compares a place's value with its previous period: the
change is significant when it exceeds 1.96 standard errors of the difference, each standard
error taken from a 95% interval. See docs/methods/benchmarking.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.errors import ReferenceDataError
from carepool.indicators.compute import ESP_BANDS
from carepool.indicators.definitions import INDICATORS, Benchmark, Indicator, Polarity
from carepool.reference import read_reference
from carepool.stats import ESP2013, z_value
from carepool.years import start_year

Z95 = z_value(0.95)
NOT_COMPARED = "not compared"
NO_TREND = "cannot be calculated"
#: Words for a value significantly above and below a benchmark, by polarity.
COMPARISON_WORDS = {
    Polarity.HIGHER_IS_BETTER: ("better", "worse"),
    Polarity.LOWER_IS_BETTER: ("worse", "better"),
    Polarity.NO_JUDGEMENT: ("higher", "lower"),
}
#: Words for a significant rise and fall since the previous period, by polarity.
TREND_WORDS = {
    Polarity.HIGHER_IS_BETTER: ("improving", "worsening"),
    Polarity.LOWER_IS_BETTER: ("worsening", "improving"),
    Polarity.NO_JUDGEMENT: ("increasing", "decreasing"),
}
#: Values are published to one decimal place.
PUBLISHED_PRECISION = 0.1


@dataclass(frozen=True)
class EnglandValue:
    value: float
    period: str
    source: str


def period_end(period: str) -> int:
    """The last calendar year a period string covers: ``2022 - 24`` → 2024, ``2023/24`` →
    2024, ``Mar 2022-Feb 2023`` → 2023, ``2019-20`` → 2020; 0 when it names no year."""
    years = [int(y) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", period)]
    short = re.search(r"(\d{4})\s*[-/]\s*(\d{2})(?!\d)", period)
    if short:
        start = int(short.group(1))
        years.append(start // 100 * 100 + int(short.group(2)))
    return max(years, default=0)


def _from_reference(b: Benchmark) -> EnglandValue:
    frame = read_reference(b.reference).to_pandas()
    for column, value in b.where:
        frame = frame[frame[column].astype(str) == value]
    frame = frame[pd.to_numeric(frame["value"], errors="coerce").notna()]
    if frame.empty:
        raise ReferenceDataError(f"{b.reference}: no England value where {dict(b.where)}")
    order = frame[b.period_column].astype(str).map(period_end)
    row = frame.loc[order[order == order.max()].index[-1]]
    source = str(row["source"]) if "source" in row else b.reference
    if str(row.get("estimated", "false")).lower() == "true":
        source += " [estimated in the rates card]"
    if b.note:
        source += f" ({b.note})"
    # periods as the source spells them, save the spaces some put round a dash ("2023 - 25")
    period = re.sub(r"\s*-\s*", "-", str(row[b.period_column]))
    return EnglandValue(float(row["value"]) * b.scale, period, source)


U75_AGES = 75


def u75_rate(mx: npt.NDArray[np.float64]) -> float:
    """The directly standardised (ESP 2013) death rate per 100,000 under 75 from central death
    rates ``mx`` by single year of age from 0 (each five-year band their mean)."""
    ages = np.arange(U75_AGES)
    band = ESP_BANDS.index(ages)
    by_band = np.bincount(band, weights=mx[:U75_AGES]) / np.bincount(band)
    weights = np.asarray(ESP2013[: by_band.size], dtype=np.float64)
    return float(np.sum(weights * by_band) / weights.sum() * 100_000)


def _u75_all_causes_from_life_table(b: Benchmark) -> EnglandValue:
    table = read_reference("rates_mortality").to_pandas()
    latest = table["period"].astype(str).map(period_end)
    table = table[latest == latest.max()]
    young = table[table["age"].astype(int) < U75_AGES]
    mx = young.groupby(young["age"].astype(int))["mx"].mean()  # persons: sexes equal
    value = u75_rate(mx.reindex(range(U75_AGES)).to_numpy(dtype=np.float64))
    return EnglandValue(value, str(table["period"].iloc[0]), f"derived: {b.note}")


def _talking_therapies_access(b: Benchmark) -> EnglandValue:
    referrals = _from_reference(
        Benchmark("rates_programmes", (("indicator", "talking_therapies_referrals"),))
    )
    ages = [f"age_{a}" for a in range(18, 90)] + ["age_90_plus"]
    population = read_reference("population_mid2020_lsoa11", columns=ages).to_pandas()
    adults = float(population[ages].to_numpy(dtype=np.float64).sum())
    return EnglandValue(referrals.value / adults * 100_000, referrals.period, f"derived: {b.note}")


_DERIVED = {
    "u75_all_causes_from_life_table": _u75_all_causes_from_life_table,
    "talking_therapies_access": _talking_therapies_access,
}


@cache
def england_values() -> dict[str, EnglandValue]:
    """The England value of every indicator that has one, from the vendored reference data."""
    out: dict[str, EnglandValue] = {}
    for indicator in INDICATORS:
        b = indicator.england
        if b is None:
            continue
        out[indicator.id] = _DERIVED[b.derived](b) if b.derived else _from_reference(b)
    return out


def compare(
    lower: npt.ArrayLike, upper: npt.ArrayLike, benchmark: npt.ArrayLike, polarity: Polarity
) -> npt.NDArray[np.str_]:
    """better / similar / worse (or higher / similar / lower) against ``benchmark``."""
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    bench = np.asarray(benchmark, dtype=np.float64)
    above, below = COMPARISON_WORDS[polarity]
    known = ~(np.isnan(lo) | np.isnan(hi) | np.isnan(bench))
    out = np.full(lo.shape, NOT_COMPARED, dtype=object)
    out[known] = "similar"
    out[known & (lo > bench)] = above
    out[known & (hi < bench)] = below
    return out.astype(str)


#: Periods the recent trend looks back over, the row's own included (Fingertips uses five).
TREND_PERIODS = 5


def _slope_z(ordered: pd.DataFrame, se: pd.Series, keys: list[pd.Series]) -> pd.Series:
    """Per row, slope / SE(slope) of the weighted least-squares line through the place's
    values in the last :data:`TREND_PERIODS` periods up to the row's (weights 1/SE²; years
    as their first calendar year). NaN where fewer than two periods have intervals."""
    usable = ordered["value"].notna() & se.notna() & (se > 0)
    weight = np.where(usable, 1.0 / se.where(usable, 1.0) ** 2, 0.0)
    x = ordered["year"].map(start_year).astype(np.float64).to_numpy()
    y = ordered["value"].fillna(0.0).to_numpy(dtype=np.float64)
    x = x - x.min() if len(x) else x  # centred near zero, for precision
    moments = pd.DataFrame(
        {
            "n": usable.astype(np.float64).to_numpy(),
            "s": weight,
            "sx": weight * x,
            "sy": weight * y,
            "sxx": weight * x * x,
            "sxy": weight * x * y,
        },
        index=ordered.index,
    )
    total = moments.groupby(keys, sort=False).cumsum()
    earlier = total.groupby(keys, sort=False).shift(TREND_PERIODS).fillna(0.0)
    window = total - earlier
    spread = window["s"] * window["sxx"] - window["sx"] ** 2
    enough = (window["n"] >= 2) & (spread > 0)
    slope = (window["s"] * window["sxy"] - window["sx"] * window["sy"]) / spread.where(enough)
    error = np.sqrt(window["s"] / spread.where(enough))
    z: pd.Series = slope / error
    return z


def trend(frame: pd.DataFrame, indicator: Indicator) -> pd.Series:
    """Each row's recent trend: over the same place's last :data:`TREND_PERIODS` periods up to
    the row's (as Fingertips' recent trend looks at five points).

    ``frame`` has ``level, place_code, year, value, lower, upper`` for one indicator. The
    trend is the slope of an inverse-variance weighted least-squares line through the values
    (standard errors from the 95% intervals), significant when |slope| > 1.96 of its standard
    error; over two periods that is exactly the test of their difference. Rows without an
    earlier period, or without intervals, *cannot be calculated*; indicators without
    intervals (money) report the direction of any change since the previous period that
    shows at the published precision (one decimal place).
    """
    ordered = frame.sort_values(["level", "place_code", "year"])
    keys = [ordered["level"], ordered["place_code"]]
    before = ordered.groupby(keys, sort=False)[["value", "lower", "upper"]].shift(1)
    se_now = (ordered["upper"] - ordered["lower"]) / (2 * Z95)
    se_before = (before["upper"] - before["lower"]) / (2 * Z95)
    change = ordered["value"] - before["value"]
    # without an interval (money), a change is one that shows at the published precision
    no_interval = ordered["lower"].isna()
    material = change.isna() | (change.abs() >= PUBLISHED_PRECISION / 2)
    change = change.where(~no_interval | material, 0.0)
    z = _slope_z(ordered, se_now, keys)
    improving, worsening = TREND_WORDS[indicator.polarity]
    has_interval = se_now.notna() & se_before.notna()
    out = pd.Series(NO_TREND, index=ordered.index, dtype=object)
    significant_up = np.where(has_interval, z > Z95, change > 0)
    significant_down = np.where(has_interval, z < -Z95, change < 0)
    comparable = change.notna()
    out[comparable] = "no significant change"
    out[comparable & significant_up] = improving
    out[comparable & significant_down] = worsening
    return out.reindex(frame.index)
