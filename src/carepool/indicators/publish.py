"""Publishing indicator values: disclosure control over every place that can be published.

:func:`publish` turns computed values into publishable ones with the disclosure rule of
:mod:`carepool.indicators.disclosure`, in three steps:

1. **One pattern for every output.** Secondary suppression is decided over every level the
   warehouse can publish (:func:`carepool.indicators.levels.available_levels`), whatever was
   asked for, so a cell is hidden or shown the same way in every table: a table of
   neighbourhoods cannot be set against a separately published table of boroughs to recover a
   neighbourhood hidden in one but not the other.
2. **Counts** are suppressed (1-7, and their secondary cells) and rounded to the nearest 5;
   denominators are counts of people too, protected in the same way: a row is hidden when its
   numerator or its denominator is 1-7, and a shown denominator is rounded to the nearest 5.
3. **Figures that reveal no more than the published counts.** Proportions and crude rates,
   and their limits, are recomputed from the rounded numerator and denominator (as NHS
   statistics compute percentages); a crude rate's widening for repeat events is published to
   one decimal place. A standardised rate keeps its value (a complex calculation), but its
   limits are computed from published figures alone: the rate, the rounded count and the
   region's design effect for the indicator and period. Limits about the exact count would
   give that count away (the ratio of the two sides of a Poisson interval depends on the
   count alone), and so would Dobson's limits about the rounded count, whose exact standard
   error with the rate gives the exact count back.

See docs/methods/disclosure-control.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from carepool.indicators.compute import LIMITS, STATS_KEYS
from carepool.indicators.definitions import Indicator, Method
from carepool.indicators.differencing import Audit, audit
from carepool.indicators.disclosure import SUPPRESSED, DisclosureRule, protect
from carepool.indicators.nesting import Nesting
from carepool.indicators.relations import additive_groups
from carepool.stats import byars_limits, crude_rate, proportion

KEYS = ["indicator", "level", "place_code", "year"]


def _from_published_counts(rows: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    """A simple figure and its limits recomputed from the rounded counts of shown rows.

    A rounded denominator of 0 leaves no figure (the value is missing, the row not hidden).
    """
    rows = rows.copy()
    x = rows["numerator"].to_numpy(dtype=np.float64, na_value=np.nan)
    n = rows["denominator"].to_numpy(dtype=np.float64, na_value=np.nan)
    usable = ~rows[SUPPRESSED].to_numpy(dtype=bool) & (n > 0) & ~np.isnan(x)
    for column in ["value", *LIMITS]:
        rows.loc[~usable & ~rows[SUPPRESSED], column] = np.nan
    if not usable.any():
        return rows
    if indicator.method is Method.PROPORTION:
        result = proportion(x[usable], n[usable], multiplier=indicator.multiplier)
    else:
        spread = np.nan_to_num(rows["dispersion"].to_numpy(dtype=np.float64)[usable], nan=1.0)
        # to one decimal place: the exact ratio Σf²/x would give the exact count away
        spread = np.maximum(np.round(spread, 1), 1.0)
        result = crude_rate(
            x[usable], n[usable], multiplier=indicator.multiplier, squares=x[usable] * spread**2
        )
    rows.loc[usable, "value"] = np.asarray(result["value"], dtype=np.float64)
    for key, column in STATS_KEYS.items():
        rows.loc[usable, column] = np.asarray(result[key], dtype=np.float64)
    return rows


def _dobson_about_published_count(rows: pd.DataFrame) -> pd.DataFrame:
    """A standardised rate's Dobson limits from published figures alone: the rate, the
    rounded count O and the region's design effect D for the period (the rate itself is
    unchanged): DSR · (1 + √D · (limit(O) − O) / O).

    Dobson's limits are DSR + SE/√O·(limit(O) − O). Taken about the rounded count they still
    gave back the exact standard error, and with the rate the exact count (DSR²/SE² is the
    count for events in a single age band, and within one or two of it for most small areas).
    Here the variance is that of the published count with the region's mix of ages
    (SE² = D · DSR² / O, D = O·SE²/DSR² of the region), so the limits hold nothing the rate,
    the count and one constant per indicator and period do not.
    """
    rows = rows.copy()
    observed = rows["numerator"].to_numpy(dtype=np.float64, na_value=np.nan)
    value = rows["value"].to_numpy(dtype=np.float64)
    region = rows[(rows["level"] == "region") & rows["value"].notna()].drop_duplicates("year")
    region_count = region["numerator"].to_numpy(dtype=np.float64, na_value=np.nan)
    region_value = region["value"].to_numpy(dtype=np.float64)
    effect = region_count * region["standard_error"].to_numpy(np.float64) ** 2 / region_value**2
    by_year = dict(zip(region["year"], np.where(np.isfinite(effect), effect, 1.0), strict=True))
    design = rows["year"].map(by_year).fillna(1.0).to_numpy(dtype=np.float64)
    usable = ~np.isnan(value) & (observed > 0)
    for level, (low, high) in {0.95: LIMITS[:2], 0.998: LIMITS[2:]}.items():
        lower, upper = byars_limits(observed[usable], level)
        scale = np.sqrt(design[usable]) * value[usable] / observed[usable]
        rows.loc[usable, low] = value[usable] + scale * (lower - observed[usable])
        rows.loc[usable, high] = value[usable] + scale * (upper - observed[usable])
    return rows


def keyed_counts(
    counts: pd.DataFrame, indicators: Sequence[Indicator], members: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """The counts of people disclosure control protects, each row with the key of every
    total-and-parts group it is in (:func:`carepool.indicators.relations.additive_groups`);
    returns the rows and the names of the group key columns. Shares of spend are money, not
    counts of people, and are left out."""
    money = {i.id for i in indicators if i.method is Method.SHARE_OF_SPEND}
    counted = counts[~counts["indicator"].isin(money)]
    groups, relations = additive_groups(members)
    keyed = counted[[*KEYS, "numerator", "denominator"]].merge(
        groups, on=["level", "place_code"], how="left"
    )
    return keyed, relations


def pattern(
    counts: pd.DataFrame,
    indicators: Sequence[Indicator],
    members: pd.DataFrame,
    rule: DisclosureRule,
    extra: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Which cells are hidden, and the published counts, for every place in ``counts``.

    ``counts`` has the numerators and denominators of ``indicators`` for the places of
    ``members`` (:func:`carepool.indicators.compute.counts`), which should
    hold every level that can be published: the secondary suppression protects each total and
    its parts among them. A row is hidden when its numerator or its denominator is 1-7, when
    ``extra`` (``indicator, year, level, place_code``: the differencing audit's record, see
    :func:`audited_pattern`) names it, and where secondary suppression needs it. Shown
    denominators are rounded like the counts.
    """
    keyed, relations = keyed_counts(counts, indicators, members)
    return keyed_pattern(keyed, relations, rule, extra)


def keyed_pattern(
    keyed: pd.DataFrame,
    relations: Sequence[str],
    rule: DisclosureRule,
    extra: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`pattern` of counts already keyed by :func:`keyed_counts`."""
    forced = np.zeros(len(keyed), dtype=bool)
    if extra is not None and len(extra):
        named = keyed[KEYS].merge(extra[KEYS].drop_duplicates(), how="left", indicator=True)
        forced = (named["_merge"] == "both").to_numpy()
    # every group is within one indicator and year, so each table is protected alone (the
    # same cells, in a fraction of the memory: England's tables together are 3 million rows)
    frames, order = [], []
    for rows in keyed.groupby(["indicator", "year"], sort=False).indices.values():
        frames.append(
            protect(
                keyed.iloc[rows],
                count="numerator",
                denominator="denominator",
                groupings=[["indicator", "year", relation] for relation in relations],
                rule=rule,
                forced=forced[rows],
            ).drop(columns=list(relations))
        )
        order.append(rows)
    if not frames:
        return protect(keyed, count="numerator", denominator="denominator", rule=rule).drop(
            columns=list(relations)
        )
    hidden = pd.concat(frames, ignore_index=True)
    return hidden.iloc[np.argsort(np.concatenate(order), kind="stable")].reset_index(drop=True)


def audited_pattern(
    counts: pd.DataFrame,
    indicators: Sequence[Indicator],
    members: pd.DataFrame,
    rule: DisclosureRule,
) -> Audit:
    """:func:`pattern` with the differencing audit: cells hidden until no count of 1-7 can be
    narrowed by linear programming over every published table and level together, with
    what the definitions say of how counts nest (:mod:`carepool.indicators.differencing`).
    ``counts`` should hold every indicator that is published: indicators can publish the
    same counts (a shared population)."""
    keyed, relations = keyed_counts(counts, indicators, members)
    del counts  # England's counts are half a gigabyte: not held through the audit as well
    return audit(keyed, relations, members, rule, Nesting.of(indicators))


def publish(
    raw: pd.DataFrame,
    hidden: pd.DataFrame,
    indicators: Sequence[Indicator],
) -> pd.DataFrame:
    """``raw`` (computed values) as published under the ``hidden`` :func:`pattern`, with a
    ``suppressed`` column."""
    by_id = {indicator.id: indicator for indicator in indicators}
    money = raw["indicator"].map(lambda i: by_id[i].method is Method.SHARE_OF_SPEND)
    spend = raw[money].copy()
    spend["numerator"] = spend["numerator"].round()
    spend["denominator"] = spend["denominator"].round()
    spend[SUPPRESSED] = False

    counted = raw[~money].drop(columns=["numerator", "denominator"])
    counted = counted.merge(hidden, on=KEYS, how="left", validate="one_to_one", indicator=True)
    if (counted.pop("_merge") != "both").any():
        raise RuntimeError("the disclosure pattern does not cover every computed row")
    shown = ~counted[SUPPRESSED].to_numpy(dtype=bool)
    for column in ["value", *LIMITS]:
        counted[column] = counted[column].where(shown)
    frames = [spend]
    for indicator_id, rows in counted.groupby("indicator", sort=False):
        indicator = by_id[str(indicator_id)]
        if indicator.method in (Method.PROPORTION, Method.CRUDE_RATE):
            rows = _from_published_counts(rows, indicator)
        elif indicator.method is Method.DSR:
            rows = _dobson_about_published_count(rows)
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)
