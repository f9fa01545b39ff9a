"""The one engine query behind the indicators.

Person-year rows are summed into every measure the requested indicators need, by year, LSOA,
sex and standard age band (0, 1-4, 5-9, ..., 85-89, 90+), then rolled up to the requested
places through the weighted LSOA memberships — all on the warehouse engine, so the same query
runs on DuckDB and Spark. Only the rolled-up sums (places × years × sexes × bands) come back
to Python, where :mod:`carepool.indicators.compute` applies the statistics.

Those sums can be large: every level of England is 80,000 places, 6.5 million rows by 35
measures for two years. So they come back a part at a time (:func:`person_sums_by_part`), at
most :data:`ROWS_PER_PART` rows each, rolled up from the sums by LSOA held on the engine; the
disclosure audit turns each part into its counts before asking for the next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from carepool.ages import STANDARD
from carepool.indicators.definitions import Indicator, Table
from carepool.indicators.measures import (
    ALL_MEASURES,
    DERIVED_MEASURES,
    PERSON_MEASURES,
    SPEND_MEASURES,
    in_care_home,
    previous_year_known,
    with_last_year_supported_in_care_home,
)
from carepool.warehouse import SEXES, Tables

MEMBERSHIP_KEYS = ["level", "place_code", "lsoa21_code", "weight"]
#: The most rows of sums one query brings back to Python (about 60 MB at 35 measures).
ROWS_PER_PART = 200_000


def _membership_table(members: pd.DataFrame) -> ir.Table:
    """The memberships as an in-memory table; plain Python strings, which Spark's Arrow
    conversion takes without falling back (pandas' Arrow-backed strings it cannot)."""
    keys = members[MEMBERSHIP_KEYS]
    return ibis.memtable(keys.astype(dict.fromkeys(MEMBERSHIP_KEYS[:3], object)))


def measures_for(indicators: Sequence[Indicator], table: Table) -> list[str]:
    """The engine-side measures ``indicators`` on ``table`` need, in declaration order."""
    wanted = set()
    for ind in indicators:
        if ind.table is table:
            for name in (ind.numerator, ind.denominator):
                wanted.add(DERIVED_MEASURES.get(name, name))
            if ind.needs_previous_year:
                wanted.add("has_previous_year")
            if ind.repeat_events:
                wanted.add(f"{ind.numerator}_squares")
    declared = PERSON_MEASURES if table is Table.PERSON_YEAR else SPEND_MEASURES
    return [m.name for m in declared if m.name in wanted]


def _rollup(cube: ir.Table, members: ir.Table, keys: list[str], measures: list[str]) -> ir.Table:
    joined = cube.join(members, "lsoa21_code")
    sums = {m: (joined[m].cast("float64") * joined.weight).sum() for m in measures}
    groups = ["level", "place_code", *keys]
    # in a fixed order, so that the statistics sum in the same order on every run and the
    # figures are the same to the last digit
    return joined.group_by(groups).aggregate(**sums).order_by(groups)


def _person_cube(
    warehouse: Tables, indicators: Sequence[Indicator], measures: list[str], years: Sequence[str]
) -> ir.Table:
    """The sums of ``measures`` by year, LSOA, sex and standard age band, as float64 (the
    rollup's type: exact for whole counts below 2**53, and half the size of DuckDB's
    128-bit integer sums, which matters while they are held on the engine)."""
    source = warehouse.table("person_year")
    if not any(i.needs_previous_year for i in indicators):
        years = []
    t = source.mutate(
        band=STANDARD.start_expr(source.age), previous_year_known=previous_year_known(source, years)
    )
    keys = ["year", "lsoa21_code", "sex", "band"]
    everyone = [m for m in measures if not ALL_MEASURES[m].care_home_only]
    residents_only = [m for m in measures if ALL_MEASURES[m].care_home_only]
    by_lsoa = t.group_by(keys).aggregate(
        **{m: ALL_MEASURES[m].expr(t).sum().cast("float64") for m in everyone}
    )
    if residents_only:
        homes = with_last_year_supported_in_care_home(t.filter(in_care_home(t)), source)
        extra = homes.group_by(keys).aggregate(
            **{m: ALL_MEASURES[m].expr(homes).sum().cast("float64") for m in residents_only}
        )
        joined = by_lsoa.left_join(extra, keys)
        by_lsoa = joined.select(
            *keys,
            *everyone,
            **{m: joined[m].fill_null(0.0) for m in residents_only},
        )
    return by_lsoa


def place_parts(members: pd.DataFrame, places: int) -> list[pd.DataFrame]:
    """``members`` in parts of at most ``places`` places each, in the order of the places'
    ``level, place_code`` (the rollup's order), so that the parts' sums, one after another,
    are the sums of the whole."""
    if members.empty:
        return []
    order = members.sort_values(["level", "place_code"], kind="stable")
    slot = order.groupby(["level", "place_code"], sort=False).ngroup().to_numpy()
    part = slot // max(1, places)
    starts = np.flatnonzero(np.diff(part, prepend=-1))
    ends = [*starts[1:], len(order)]
    return [order.iloc[a:b] for a, b in zip(starts, ends, strict=True)]


def person_sums_by_part(
    warehouse: Tables,
    indicators: Sequence[Indicator],
    members: pd.DataFrame,
    years: Sequence[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """:func:`person_sums` a part of the places at a time, at most :data:`ROWS_PER_PART`
    rows each; nothing when no indicator needs them.

    With more than one part, the sums by LSOA are computed once and held on the engine
    (a DuckDB temporary table, spilled to disk beyond its memory limit, or a persisted Spark
    frame) for the parts' rollups, and let go when the last part is read.
    """
    measures = measures_for(indicators, Table.PERSON_YEAR)
    if not measures:
        return
    years = model_years(warehouse) if years is None else years
    rows_per_place = max(1, len(years)) * len(SEXES) * len(STANDARD)
    parts = place_parts(members, ROWS_PER_PART // rows_per_place) or [members]
    by_lsoa = _person_cube(warehouse, indicators, measures, years)
    with warehouse.held(by_lsoa) if len(parts) > 1 else contextlib.nullcontext(by_lsoa) as sums:
        for part in parts:
            rolled = _rollup(sums, _membership_table(part), ["year", "sex", "band"], measures)
            yield warehouse.to_pandas(rolled)


def person_sums(
    warehouse: Tables,
    indicators: Sequence[Indicator],
    members: pd.DataFrame,
    years: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sums by level, place, year, sex and age band; empty when no indicator needs them.

    ``years`` are the model's years, if the caller already has them (:func:`model_years`).
    All in memory at once: for every level of a large region, use :func:`person_sums_by_part`.
    """
    frames = list(person_sums_by_part(warehouse, indicators, members, years))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def spend_sums(
    warehouse: Tables, indicators: Sequence[Indicator], members: pd.DataFrame
) -> pd.DataFrame:
    """Spend sums by level, place and year; empty when no indicator needs them."""
    measures = measures_for(indicators, Table.ACTIVITY_COST)
    if not measures:
        return pd.DataFrame()
    t = warehouse.table("activity_cost")
    by_lsoa = t.group_by(["year", "lsoa21_code"]).aggregate(
        **{m: ALL_MEASURES[m].expr(t).sum() for m in measures}
    )
    rolled = _rollup(by_lsoa, _membership_table(members), ["year"], measures)
    return warehouse.to_pandas(rolled)


def model_years(warehouse: Tables) -> list[str]:
    """The financial years the model's person-year table holds, in order."""
    t = warehouse.table("person_year")
    frame = warehouse.to_pandas(t.select("year").distinct().order_by("year"))
    return [str(y) for y in frame["year"]]
