"""Disclosure control: the one function every published table passes through.

Security-sensitive: anything that leaves carepool for the public (portal, open data, public
API, reports) must go through :func:`protect`. The default rule is the NHS hospital statistics
(HES) rule: counts of 1 to 7 are suppressed, other counts below national level are rounded to
the nearest 5, and rates derived from a suppressed count are suppressed. Secondary suppression
then makes sure no suppressed cell can be recovered by subtraction: in every group of cells
that adds up to a published total, either no cell is suppressed or at least two are.

Source: NHS Digital, *Hospital Episode Statistics (HES) Analysis Guide*, disclosure control;
ONS, *Statistical disclosure control* guidance. See docs/methods/disclosure-control.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class DisclosureRule:
    """A disclosure rule: which counts are hidden and how shown counts are rounded."""

    name: str = "NHS hospital statistics (HES) rule"
    #: Counts from ``smallest`` to ``largest_suppressed`` inclusive are suppressed.
    smallest: int = 1
    largest_suppressed: int = 7
    #: Shown counts below national level are rounded to the nearest ``round_to`` (1 = none).
    round_to: int = 5

    def __post_init__(self) -> None:
        if self.smallest < 0 or self.largest_suppressed < self.smallest:
            raise ValueError("suppression bounds must satisfy 0 <= smallest <= largest")
        if self.round_to < 1:
            raise ValueError("round_to must be 1 or more")

    def primary(self, counts: pd.Series) -> pd.Series:
        """Counts to hide: ``smallest`` to ``largest_suppressed``, and any weighted (fractional)
        count strictly between ``smallest - 1`` and ``largest_suppressed + 1`` (0.4 of a
        person is as disclosive as one)."""
        return (counts > self.smallest - 1) & (counts < self.largest_suppressed + 1)


HES_RULE = DisclosureRule()


def _group_ids(codes: Sequence[tuple[np.ndarray, int]], rows: int) -> np.ndarray:
    """An integer group per row from the factorised key columns ``codes`` (code per row, number
    of distinct values); -1 where a key is missing, so the row is in no group of that grouping.
    No keys: all rows are one group."""
    ids = np.zeros(rows, dtype=np.int64)
    span = 1
    for key, distinct in codes:
        if span * (distinct + 1) > max(4 * rows, 1 << 16):  # compact: no overflow, small counts
            ids = np.where(ids < 0, -1, pd.factorize(ids)[0])
            span = rows
        ids = np.where((ids < 0) | (key < 0), -1, ids * (distinct + 1) + key)
        span *= distinct + 1
    return ids


def _secondary(
    frame: pd.DataFrame, count: str, hidden: pd.Series, groupings: Sequence[Sequence[str]]
) -> pd.Series:
    """Hide the smallest shown cell of any group with exactly one hidden cell, until stable."""
    is_hidden = hidden.to_numpy(dtype=bool).copy()
    counts = frame[count].to_numpy(dtype=np.float64)
    is_zero = counts == 0
    rows = np.arange(len(frame))
    factorised: dict[str, tuple[np.ndarray, int]] = {}
    for key in dict.fromkeys(k for grouping in groupings for k in grouping):
        codes, uniques = pd.factorize(frame[key], use_na_sentinel=True)
        factorised[key] = (codes, len(uniques))
    ids = [_group_ids([factorised[k] for k in grouping], len(frame)) for grouping in groupings]
    ids = [group for group in ids if group.max(initial=-1) >= 0]
    changed = True
    while changed:
        changed = False
        for group in ids:
            member = group >= 0
            hidden_per_group = np.bincount(
                group[member], weights=is_hidden[member], minlength=group.max() + 1
            )
            lonely = member & (hidden_per_group[np.where(member, group, 0)] == 1)
            candidates = rows[lonely & ~is_hidden]
            if candidates.size == 0:
                continue
            # the smallest shown non-zero count of each such group (a zero only when nothing
            # else is left: zeros are often known from structure); ties to the earlier row
            order = candidates[
                np.lexsort((candidates, counts[candidates], is_zero[candidates], group[candidates]))
            ]
            first = np.ones(order.size, dtype=bool)
            first[1:] = group[order][1:] != group[order][:-1]
            is_hidden[order[first]] = True
            changed = True
    return pd.Series(is_hidden, index=hidden.index)


def protect(
    frame: pd.DataFrame,
    *,
    count: str,
    derived: Sequence[str] = (),
    groupings: Sequence[Sequence[str]] = ((),),
    national: pd.Series | None = None,
    rule: DisclosureRule = HES_RULE,
    denominator: str | None = None,
    forced: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Apply ``rule`` to a table before it is published.

    ``count`` is the column of counts; ``derived`` are columns computed from it (rates,
    intervals) that are hidden with it. ``groupings`` lists the sets of columns whose rows add
    up to a published total (e.g. ``[["period"]]`` when the places of each period add up to the
    region); by default the whole table is one group. ``national`` marks rows at national level,
    which are not rounded. Returns a copy with the count rounded (nullable integers; missing
    where suppressed), derived columns missing where suppressed, and a ``suppressed`` column.

    ``denominator`` is a second count protected like ``count``: a row is hidden when either is
    1-7 (a population of 3 is as disclosive as 3 deaths: "0 of 3" names three people), and it
    is rounded like the count and hidden with the row.

    ``forced`` marks rows to hide whatever their counts, before secondary suppression: cells
    the differencing audit (:mod:`carepool.indicators.differencing`) hides so that no small
    count can be narrowed by setting overlapping tables against each other.
    """
    if count not in frame.columns:
        raise KeyError(f"no count column {count!r}")
    named = [*derived, *(k for g in groupings for k in g), *([denominator] if denominator else [])]
    missing = [c for c in named if c not in frame.columns]
    if missing:
        raise KeyError(f"no column(s) {', '.join(missing)}")
    out = frame.copy().reset_index(drop=True)
    counts = out[count]
    hidden = rule.primary(counts).fillna(False).astype(bool)
    if denominator is not None:
        hidden |= rule.primary(out[denominator]).fillna(False).astype(bool)
    if forced is not None:
        hidden |= np.asarray(forced, dtype=bool)
    hidden = _secondary(out, count, hidden, groupings)
    is_national = (
        pd.Series(False, index=out.index)
        if national is None
        else pd.Series(np.asarray(national, dtype=bool), index=out.index)
    )
    rounded = np.where(is_national, counts, np.round(counts / rule.round_to) * rule.round_to)
    out[count] = pd.array(np.where(hidden, np.nan, rounded), dtype="Int64")
    if denominator is not None:
        base = out[denominator].to_numpy(dtype=np.float64, na_value=np.nan)
        base = np.where(is_national, base, np.round(base / rule.round_to) * rule.round_to)
        out[denominator] = pd.Series(base, index=out.index).where(~hidden)
    for column in derived:
        out[column] = out[column].where(~hidden)
    out[SUPPRESSED] = hidden.to_numpy()
    return out
