"""Statistics on the engine's sums: one value and interval per indicator, place and period.

The engine returns sums by place, year, sex and age band (:mod:`carepool.indicators.cube`);
here each indicator's method turns them into a value with 95% and 99.8% limits, vectorised
over places with the functions of :mod:`carepool.stats`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from carepool.ages import STANDARD, AgeBands
from carepool.errors import IndicatorError
from carepool.indicators.definitions import Indicator, Method, Table
from carepool.indicators.measures import DERIVED_MEASURES
from carepool.stats import (
    CONFIDENCE_LEVELS,
    ESP2013,
    ESP2013_STARTS,
    crude_rate,
    dsr_many,
    life_expectancy_at_birth,
    proportion,
)
from carepool.years import days_in

GROUP = ["level", "place_code", "year"]
LIMITS = ["lower", "upper", "lower_998", "upper_998"]
RESULT_COLUMNS = [
    "indicator",
    *GROUP,
    "value",
    *LIMITS,
    "numerator",
    "denominator",
    "dispersion",
    "standard_error",
]
#: The statistics functions' keys for the limit columns.
STATS_KEYS = {
    "lower95": "lower",
    "upper95": "upper",
    "lower998": "lower_998",
    "upper998": "upper_998",
}
#: The bands of the 2013 European Standard Population: 0-4, 5-9, ..., 85-89, 90+.
ESP_BANDS = AgeBands(ESP2013_STARTS)
#: The person sums are by the standard age bands (0, 1-4, 5-9, ..., 85-89, 90+); each band's
#: column in the European Standard Population (0 and 1-4 share 0-4).
ESP_COLUMN = ESP_BANDS.index(STANDARD.starts)


def check_ages(indicator: Indicator) -> None:
    """Age limits must fall on the standard bands' boundaries."""
    starts = set(STANDARD.starts)
    ok = indicator.min_age in starts and (
        indicator.max_age is None or indicator.max_age + 1 in starts
    )
    if not ok:
        raise IndicatorError(
            f"indicator {indicator.id}: ages {indicator.min_age}-{indicator.max_age} do not "
            f"fall on the standard age bands (starting {', '.join(map(str, sorted(starts)))})"
        )


def with_person_years(sums: pd.DataFrame) -> pd.DataFrame:
    """The person sums with person-years derived from days lived (days / days in the year).

    Sums that hold no days lived are returned as they are: pooled sums
    (:mod:`carepool.indicators.pooling`) hold person-years derived year by year already."""
    sources = {d: s for d, s in DERIVED_MEASURES.items() if s in sums.columns}
    if sums.empty or not sources:
        return sums
    days = sums["year"].map({y: days_in(y) for y in sums["year"].unique()}).astype(float)
    return sums.assign(**{derived: sums[source] / days for derived, source in sources.items()})


def _band_mask(indicator: Indicator, sums: pd.DataFrame) -> np.ndarray:
    """Which rows of the person sums an indicator covers: its sex and ages."""
    keep = sums["band"].to_numpy() >= indicator.min_age
    if indicator.max_age is not None:
        keep &= sums["band"].to_numpy() <= indicator.max_age
    if indicator.sex is not None:
        keep &= (sums["sex"] == indicator.sex).to_numpy()
    return np.asarray(keep, dtype=bool)


def _person_rows(indicator: Indicator, sums: pd.DataFrame) -> pd.DataFrame:
    """The sums an indicator covers: its sex and ages."""
    return sums[_band_mask(indicator, sums)]


def _frame(keys: pd.DataFrame, numerator: np.ndarray, denominator: np.ndarray) -> pd.DataFrame:
    out = keys.reset_index(drop=True).copy()
    out["numerator"] = numerator
    out["denominator"] = denominator
    out["dispersion"] = np.nan
    out["standard_error"] = np.nan
    return out


def _with_stats(out: pd.DataFrame, result: dict[str, object]) -> pd.DataFrame:
    out["value"] = np.asarray(result["value"], dtype=np.float64)
    for key, column in STATS_KEYS.items():
        out[column] = np.asarray(result[key], dtype=np.float64)
    return out


def _squares(indicator: Indicator) -> list[str]:
    return [f"{indicator.numerator}_squares"] if indicator.repeat_events else []


def _simple(indicator: Indicator, rows: pd.DataFrame) -> pd.DataFrame:
    totals = rows.groupby(GROUP, as_index=False, sort=True)[
        [indicator.numerator, indicator.denominator, *_squares(indicator)]
    ].sum()
    x = totals[indicator.numerator].to_numpy(np.float64)
    n = totals[indicator.denominator].to_numpy(np.float64)
    out = _frame(totals[GROUP], x, n)
    valid = n > 0
    out = out[valid].reset_index(drop=True)
    x, n = x[valid], n[valid]
    squares = [totals[c].to_numpy(np.float64)[valid] for c in _squares(indicator)]
    if indicator.method is Method.CRUDE_RATE:
        result = crude_rate(
            x, n, multiplier=indicator.multiplier, squares=squares[0] if squares else None
        )
        out["dispersion"] = dispersion(x, squares[0] if squares else None)
    elif indicator.method is Method.PROPORTION:
        result = proportion(x, n, multiplier=indicator.multiplier)
    else:  # share of spend: money, not a sample, so no interval
        nan = np.full(x.shape, np.nan)
        result = {"value": x / n * indicator.multiplier} | dict.fromkeys(STATS_KEYS, nan)
        out["numerator"], out["denominator"] = x / 100, n / 100  # pence to pounds
    return _with_stats(out, dict(result))


def dispersion(counts: np.ndarray, squares: np.ndarray | None) -> np.ndarray:
    """√(Σ f² / x): how much wider than Poisson a crude rate's limits are when one person can
    have many events (1 when they cannot, or there are none). Kept with the result so that
    published limits can be recomputed from rounded counts
    (:func:`carepool.indicators.publish.publish`)."""
    if squares is None:
        return np.ones_like(counts)
    ratio = np.divide(squares, counts, out=np.ones_like(counts), where=counts > 0)
    spread: np.ndarray = np.sqrt(ratio)
    return spread


def _matrix(rows: pd.DataFrame, column: str, band_column: str, width: int) -> pd.DataFrame:
    summed = rows.groupby([*GROUP, band_column], sort=True)[column].sum()
    wide = summed.unstack(band_column).fillna(0.0)
    return wide.reindex(columns=range(width), fill_value=0.0)


def _dsr(indicator: Indicator, rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.assign(esp=ESP_COLUMN[STANDARD.index(rows["band"].to_numpy())])
    used = sorted(set(rows["esp"].tolist()))
    counts = _matrix(rows, indicator.numerator, "esp", len(ESP2013))[used]
    pops = _matrix(rows, indicator.denominator, "esp", len(ESP2013))[used]
    weights = np.asarray(ESP2013, dtype=np.float64)[used]
    squares = [_matrix(rows, c, "esp", len(ESP2013))[used].to_numpy() for c in _squares(indicator)]
    result = dsr_many(
        counts.to_numpy(),
        pops.to_numpy(),
        weights,
        multiplier=indicator.multiplier,
        squares=squares[0] if squares else None,
    )
    keys = counts.index.to_frame(index=False)
    out = _frame(keys, result["total_count"], result["total_pop"])
    out["standard_error"] = result["standard_error"]
    return _with_stats(out, dict(result))


def _life_expectancy(indicator: Indicator, rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.assign(band_index=STANDARD.index(rows["band"].to_numpy()))
    deaths = _matrix(rows, indicator.numerator, "band_index", len(STANDARD))
    pops = _matrix(rows, indicator.denominator, "band_index", len(STANDARD))
    d, p = deaths.to_numpy(), pops.to_numpy()
    result = life_expectancy_at_birth(d, p, confidence=CONFIDENCE_LEVELS)
    keys = deaths.index.to_frame(index=False)
    out = _frame(keys, d.sum(axis=1), p.sum(axis=1))
    return _with_stats(out, dict(result))


def _group_total(
    sums: pd.DataFrame, column: str, group: np.ndarray, rows: np.ndarray, size: int
) -> np.ndarray:
    values = sums[column].to_numpy(dtype=np.float64)[rows]
    total: np.ndarray = np.bincount(group[rows], values, minlength=size)
    return total


def counts(
    indicators: Sequence[Indicator], person: pd.DataFrame, spend: pd.DataFrame
) -> pd.DataFrame:
    """The numerator and denominator of every row :func:`compute` would give, and no statistic:
    what disclosure control needs, for every place that could be published. Columns
    ``indicator``, ``level``, ``place_code``, ``year``, ``numerator``, ``denominator``."""
    person = with_person_years(person)
    frames: list[pd.DataFrame] = []
    for table, sums in ((Table.PERSON_YEAR, person), (Table.ACTIVITY_COST, spend)):
        chosen = [i for i in indicators if i.table is table]
        if not chosen or sums.empty:
            continue
        group = sums.groupby(GROUP, sort=True).ngroup().to_numpy()
        size = int(group.max()) + 1
        keys = sums[GROUP].iloc[pd.Series(np.arange(len(group))).groupby(group).first()]
        keys = keys.reset_index(drop=True)
        for indicator in chosen:
            check_ages(indicator)
            rows = (
                _band_mask(indicator, sums)
                if table is Table.PERSON_YEAR
                else np.ones(len(sums), dtype=bool)
            )
            x = _group_total(sums, indicator.numerator, group, rows, size)
            n = _group_total(sums, indicator.denominator, group, rows, size)
            keep = np.bincount(group[rows], minlength=size) > 0
            if indicator.method not in (Method.DSR, Method.LIFE_EXPECTANCY):
                keep &= n > 0
            if table is Table.PERSON_YEAR and indicator.needs_previous_year:
                keep &= _group_total(sums, "has_previous_year", group, rows, size) > 0
            out = keys[keep].reset_index(drop=True)
            out["numerator"], out["denominator"] = x[keep], n[keep]
            if indicator.method is Method.SHARE_OF_SPEND:  # pence to pounds, as compute() gives
                out["numerator"], out["denominator"] = x[keep] / 100, n[keep] / 100
            frames.append(out.assign(indicator=indicator.id))
    columns = ["indicator", *GROUP, "numerator", "denominator"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def counts_by_part(
    indicators: Sequence[Indicator], person_parts: Iterable[pd.DataFrame], spend: pd.DataFrame
) -> pd.DataFrame:
    """:func:`counts` of person sums that come a part at a time
    (:func:`carepool.indicators.cube.person_sums_by_part`): each part is made into its counts
    and let go before the next."""
    person = [counts(indicators, part, pd.DataFrame()) for part in person_parts]
    return counts_in_order(indicators, person, spend)


def counts_in_order(
    indicators: Sequence[Indicator], person_counts: Sequence[pd.DataFrame], spend: pd.DataFrame
) -> pd.DataFrame:
    """The counts of parts of the person sums (in place order) and of the spend sums, in the
    order :func:`counts` of the whole gives (:func:`counts` orders by indicator, then by
    place)."""
    frames = [*person_counts, counts(indicators, pd.DataFrame(), spend)]
    table_order = [Table.PERSON_YEAR, Table.ACTIVITY_COST]
    ranked = sorted(indicators, key=lambda i: table_order.index(i.table))
    rank = {indicator.id: n for n, indicator in enumerate(ranked)}
    whole = pd.concat([f for f in frames if len(f)] or frames[-1:], ignore_index=True)
    order = np.argsort(whole["indicator"].map(rank).to_numpy(), kind="stable")
    return whole.iloc[order].reset_index(drop=True)


def compute(
    indicators: Sequence[Indicator],
    person: pd.DataFrame,
    spend: pd.DataFrame,
) -> pd.DataFrame:
    """Every indicator for every place and year in the sums: ``RESULT_COLUMNS``.

    A year with no data for an indicator (such as admissions, which need the year before) has
    no row.
    """
    frames: list[pd.DataFrame] = []
    person = with_person_years(person)
    for indicator in indicators:
        check_ages(indicator)
        simple = indicator.method not in (Method.DSR, Method.LIFE_EXPECTANCY)
        if indicator.table is Table.ACTIVITY_COST:
            if not simple:
                raise IndicatorError(
                    f"indicator {indicator.id}: a {indicator.method.value} needs a population "
                    "by age band, and the activity_cost table has no age bands; use "
                    "person_year measures"
                )
            rows = spend
        else:
            rows = _person_rows(indicator, person)
        if indicator.method is Method.DSR:
            out = _dsr(indicator, rows)
        elif indicator.method is Method.LIFE_EXPECTANCY:
            out = _life_expectancy(indicator, rows)
        else:
            out = _simple(indicator, rows)
        if indicator.table is Table.PERSON_YEAR and indicator.needs_previous_year:
            known = rows.groupby(GROUP, as_index=False)["has_previous_year"].sum()
            out = out.merge(known, on=GROUP)
            out = out[out.pop("has_previous_year") > 0]
        frames.append(out.assign(indicator=indicator.id))
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[RESULT_COLUMNS]
