"""Pooled periods: indicators over several consecutive years, for places too small for one.

A neighbourhood of 8,000 people has about 4,000 of each sex: too few for a life table in one
year (:data:`carepool.stats.MIN_POPULATION`), enough over two or more. ONS and OHID publish
life expectancy for MSOAs over five pooled years for this reason. A pooled period sums the
engine's sums -- numerators, denominators, and for standardised rates and life tables each
age band's -- over a window of consecutive model years, then applies the same statistics:
pooled person-years are the sum of each year's person-years, a pooled share of spend the
share of the pooled spend.

**Windows.** ``--pool N`` publishes rolling windows: one ending at each model year that has
N - 1 consecutive model years before it, labelled ``2022-23 to 2026-27``. An indicator that
needs the year before (admissions: new since last year) pools only the years that have it,
and says how many in ``pooled_years``.

**Disclosure.** Security-sensitive. A pooled count is the sum of yearly counts, so a window
published on its own terms could be set against the single years, or against another window,
to recover a hidden year: a window less the shown years in it is the hidden one. So a
window publishes nothing that is not already published (:func:`pooled_pattern`): its cell is
shown only where every year's cell is shown, and its counts are the sums of the years'
published counts. Whatever an attacker does with windows and single years together, he could
do with the single years alone, which the differencing audit protects; and every window of
every length follows the same one rule, so no two can be set against each other either.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carepool.errors import IndicatorError
from carepool.indicators.compute import compute, with_person_years
from carepool.indicators.definitions import Indicator
from carepool.indicators.disclosure import SUPPRESSED
from carepool.indicators.measures import DERIVED_MEASURES
from carepool.indicators.publish import KEYS
from carepool.years import next_year, previous_year

#: Columns of the engine's sums that say where and who, not how many.
_KEYS = ("level", "place_code", "sex", "band")
#: A cell of an indicator's table, in any period.
_CELL = ["indicator", "level", "place_code"]


@dataclass(frozen=True)
class Window:
    """Consecutive model years pooled into one period."""

    years: tuple[str, ...]

    @property
    def label(self) -> str:
        """``2022-23 to 2026-27`` (a single year is its own label)."""
        if len(self.years) == 1:
            return self.years[0]
        return f"{self.years[0]} to {self.years[-1]}"


def _consecutive(years: Sequence[str]) -> bool:
    return all(next_year(a) == b for a, b in itertools.pairwise(years))


def windows(model_years: Sequence[str], length: int) -> list[Window]:
    """The rolling windows of ``length`` consecutive model years, one ending at each model
    year that has ``length - 1`` consecutive model years before it, oldest first."""
    ordered = sorted(model_years)
    found = []
    for end in range(length - 1, len(ordered)):
        chosen = tuple(ordered[end - length + 1 : end + 1])
        if _consecutive(chosen):
            found.append(Window(chosen))
    return found


def check_pool(pool: int, model_years: Sequence[str]) -> None:
    """A pool is 1 (single years) to the number of model years."""
    if not 1 <= pool <= len(model_years):
        raise IndicatorError(
            f"--pool {pool}: expected 1 to {len(model_years)} years, the model's years "
            f"({', '.join(model_years)}); 1 gives single years"
        )
    if pool > 1 and not windows(model_years, pool):
        raise IndicatorError(
            f"--pool {pool}: the model has no {pool} consecutive years ({', '.join(model_years)})"
        )


def years_with_data(indicator: Indicator, model_years: Collection[str]) -> frozenset[str]:
    """The model years an indicator has data for: all, or for one that needs the year before,
    those whose year before is in the model."""
    if not indicator.needs_previous_year:
        return frozenset(model_years)
    return frozenset(y for y in model_years if previous_year(y) in model_years)


def pool_sums(sums: pd.DataFrame, chosen: Sequence[Window], years: Collection[str]) -> pd.DataFrame:
    """The engine's sums over each window's years (those in ``years``), ``year`` the window's
    label. Person-years are derived per year first (days lived over the days in that year)."""
    if sums.empty:
        return sums
    sums = with_person_years(sums)
    derived = [d for d, source in DERIVED_MEASURES.items() if source in sums.columns]
    sums = sums.drop(columns=[DERIVED_MEASURES[d] for d in derived])
    keys = [c for c in _KEYS if c in sums.columns]
    measures = [c for c in sums.columns if c not in (*keys, "year")]
    frames = []
    for window in chosen:
        inside = [y for y in window.years if y in years]
        rows = sums[sums["year"].isin(inside)]
        if rows.empty:
            continue
        summed = rows.groupby(keys, sort=True)[measures].sum().reset_index()
        frames.append(
            summed.assign(year=window.label)[["level", "place_code", "year", *keys[2:], *measures]]
        )
    if not frames:
        return sums.iloc[0:0]
    return pd.concat(frames, ignore_index=True)


def _by_years(
    indicators: Sequence[Indicator], model_years: Sequence[str]
) -> dict[frozenset[str], list[Indicator]]:
    """The indicators grouped by the years they have data for."""
    groups: dict[frozenset[str], list[Indicator]] = {}
    for indicator in indicators:
        groups.setdefault(years_with_data(indicator, model_years), []).append(indicator)
    return groups


def pooled_compute(
    indicators: Sequence[Indicator],
    person: pd.DataFrame,
    spend: pd.DataFrame,
    chosen: Sequence[Window],
    model_years: Sequence[str],
) -> pd.DataFrame:
    """:func:`carepool.indicators.compute.compute` of each window, with ``pooled_years``: how
    many of its years each indicator had data for."""
    frames = []
    for years, group in _by_years(indicators, model_years).items():
        out = compute(group, pool_sums(person, chosen, years), pool_sums(spend, chosen, years))
        used = {w.label: sum(y in years for y in w.years) for w in chosen}
        frames.append(out.assign(pooled_years=out["year"].map(used)))
    return pd.concat(frames, ignore_index=True)


def pooled_pattern(
    single: pd.DataFrame,
    chosen: Sequence[Window],
    indicators: Sequence[Indicator],
    model_years: Sequence[str],
) -> pd.DataFrame:
    """The pooled periods' published counts and hidden cells, from the single years' (a
    :func:`carepool.indicators.publish.pattern` of every year in the windows).

    A window's cell is shown only where every one of its years' cells is shown (a year with no
    row, nobody counted, adds nothing), and its counts are the sums of those years' published
    counts. Everything it publishes is then a sum of figures already published, so it can
    tell an attacker nothing the single years do not: the single years' audit protects it.
    """
    frames = []
    for years, group in _by_years(indicators, model_years).items():
        rows = single[single["indicator"].isin({indicator.id for indicator in group})]
        rows = rows.assign(
            numerator=rows["numerator"].astype("Float64").fillna(0.0).astype(np.float64),
            denominator=rows["denominator"].astype("Float64").fillna(0.0).astype(np.float64),
        )
        for window in chosen:
            inside = rows[rows["year"].isin([y for y in window.years if y in years])]
            if inside.empty:
                continue
            summed = (
                inside.groupby(_CELL, sort=True)
                .agg(
                    numerator=("numerator", "sum"),
                    denominator=("denominator", "sum"),
                    suppressed=(SUPPRESSED, "any"),
                )
                .reset_index()
            )
            hidden = summed[SUPPRESSED].to_numpy(dtype=bool)
            summed["numerator"] = pd.array(
                np.where(hidden, np.nan, summed["numerator"]), dtype="Int64"
            )
            summed["denominator"] = summed["denominator"].where(~hidden)
            frames.append(summed.assign(year=window.label))
    columns = [*KEYS, "numerator", "denominator", SUPPRESSED]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
