"""The one engine query behind the indicators.

Person-year rows are summed into every measure the requested indicators need, by year, LSOA,
sex and standard age band (0, 1-4, 5-9, ..., 85-89, 90+), then rolled up to the requested
places through the weighted LSOA memberships — all on the warehouse engine, so the same query
runs on DuckDB and Spark. Only the rolled-up sums (places × years × sexes × bands) come back
to Python, where :mod:`carepool.indicators.compute` applies the statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
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
from carepool.warehouse import Tables

MEMBERSHIP_KEYS = ["level", "place_code", "lsoa21_code", "weight"]


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


def person_sums(
    warehouse: Tables,
    indicators: Sequence[Indicator],
    members: pd.DataFrame,
    years: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sums by level, place, year, sex and age band; empty when no indicator needs them.

    ``years`` are the model's years, if the caller already has them (:func:`model_years`).
    """
    measures = measures_for(indicators, Table.PERSON_YEAR)
    if not measures:
        return pd.DataFrame()
    source = warehouse.table("person_year")
    if not any(i.needs_previous_year for i in indicators):
        years = []
    elif years is None:
        years = model_years(warehouse)
    t = source.mutate(
        band=STANDARD.start_expr(source.age), previous_year_known=previous_year_known(source, years)
    )
    keys = ["year", "lsoa21_code", "sex", "band"]
    everyone = [m for m in measures if not ALL_MEASURES[m].care_home_only]
    residents_only = [m for m in measures if ALL_MEASURES[m].care_home_only]
    by_lsoa = t.group_by(keys).aggregate(**{m: ALL_MEASURES[m].expr(t).sum() for m in everyone})
    if residents_only:
        homes = with_last_year_supported_in_care_home(t.filter(in_care_home(t)), source)
        extra = homes.group_by(keys).aggregate(
            **{m: ALL_MEASURES[m].expr(homes).sum() for m in residents_only}
        )
        joined = by_lsoa.left_join(extra, keys)
        by_lsoa = joined.select(
            *keys,
            *everyone,
            **{m: joined[m].fill_null(0) for m in residents_only},
        )
    rolled = _rollup(by_lsoa, _membership_table(members), ["year", "sex", "band"], measures)
    return warehouse.to_pandas(rolled)


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
