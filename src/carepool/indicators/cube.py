"""The one engine query behind the indicators.

Person-year rows are summed into every measure the requested indicators need, by year, LSOA,
sex and standard age band (0, 1-4, 5-9, ..., 85-89, 90+), on the warehouse engine, so the same
query runs on DuckDB and Spark. Those sums by LSOA come back to Python once, a year at a time,
into a dense array (:class:`LsoaSums`: for England 34,000 LSOAs by 80 cells by 35 measures,
about 760 MB), and are rolled up to the requested places through the weighted LSOA
memberships by a sparse matrix product; :mod:`carepool.indicators.compute` then applies the
statistics.

The rolled-up sums can be larger still: every level of England is 80,000 places, 6.5 million
rows by 35 measures for two years. So they are made a part of the places at a time
(:func:`person_sums_by_part`), at most :data:`ROWS_PER_PART` rows each; the disclosure audit
turns each part into its counts before the next is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from carepool.ages import STANDARD
from carepool.errors import IndicatorError
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
from carepool.machine import available_memory, gib
from carepool.warehouse import SEXES, Tables

#: The most rows of rolled-up sums made at once (about 60 MB at 35 measures).
ROWS_PER_PART = 200_000


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


@dataclass(frozen=True)
class LsoaSums:
    """Sums by LSOA and cell (the keys below the place: year, sex and band, or year alone),
    held as one dense array so that any places' sums are a sparse product of their weighted
    LSOA memberships with it.

    Made empty for the LSOAs and cells wanted (:meth:`empty`), then filled a batch of the
    engine's rows at a time (:meth:`add`), so that no one result the engine sends is the
    whole. A place's cell has a row only where one of its LSOAs had one on the engine, as the
    engine's join would give; a measure summed from nulls alone is null (NaN) there, as SQL's
    ``SUM`` gives.
    """

    measures: list[str]
    #: The LSOA codes, in the order of the array's rows.
    lsoas: pd.Index
    #: Each key's values, sorted: the cells are every combination, in that order.
    axes: dict[str, pd.Index]
    #: One row per cell: the keys' values (the array's second axis).
    cells: pd.DataFrame
    #: ``(LSOA, cell, measure)``, float64: the sums, 0 where the engine had no row.
    values: np.ndarray
    #: ``(LSOA, cell)``: 1 where the engine had a row.
    present: np.ndarray
    #: ``(LSOA, cell)`` per measure that has had a null: 1 where its sum is not null.
    known: dict[str, np.ndarray]

    @property
    def keys(self) -> list[str]:
        return list(self.axes)

    @classmethod
    def empty(
        cls, lsoas: Iterable[str], axes: Mapping[str, Iterable[Any]], measures: list[str]
    ) -> LsoaSums:
        """No sums yet, for ``lsoas`` (rows of other LSOAs lie in no place asked about, so
        are left out) and every combination of the keys' values ``axes``."""
        index = pd.Index(sorted(set(lsoas)))
        sorted_axes = {key: pd.Index(values).unique().sort_values() for key, values in axes.items()}
        shape = tuple(len(values) for values in sorted_axes.values())
        _refuse_beyond_memory(len(index), int(np.prod(shape)), len(measures))
        grid = np.unravel_index(np.arange(int(np.prod(shape))), shape)
        cells = pd.DataFrame(
            {k: v.take(g) for (k, v), g in zip(sorted_axes.items(), grid, strict=True)}
        )
        values = np.zeros((len(index), len(cells), len(measures)))
        present = np.zeros((len(index), len(cells)))
        return cls(measures, index, sorted_axes, cells, values, present, {})

    @classmethod
    def of(cls, table: pa.Table, keys: list[str], measures: list[str]) -> LsoaSums:
        """The sums of ``table`` (one row per LSOA and cell, as the engine's ``group_by``
        gives) as the array, for its own LSOAs and cells."""
        lsoas = table.column("lsoa21_code").unique().to_pylist()
        sums = cls.empty(lsoas, {k: table.column(k).unique().to_pandas() for k in keys}, measures)
        sums.add(table)
        return sums

    def add(self, table: pa.Table) -> None:
        """Put the engine's rows ``table`` (one per LSOA and cell, no two for the same) in
        the array."""
        rows = _positions(table.column("lsoa21_code"), self.lsoas)
        wanted = rows >= 0
        codes = []
        for key, values in self.axes.items():
            code = _positions(table.column(key), values)
            if (code < 0).any():
                stray = table.column(key).to_pandas()[code < 0].iloc[0]
                raise ValueError(f"{key} {stray!r} is none of the sums' cells ({list(values)})")
            codes.append(code[wanted])
        shape = tuple(len(values) for values in self.axes.values())
        cell = np.ravel_multi_index(codes, shape) if codes else np.zeros(int(wanted.sum()), int)
        rows = rows[wanted]
        self.present[rows, cell] = 1.0
        for k, measure in enumerate(self.measures):
            column = table.column(measure)
            if column.null_count and measure not in self.known:
                self.known[measure] = self.present.copy()  # every sum before had a value
            if measure in self.known:
                valid = column.is_valid().to_numpy(zero_copy_only=False)[wanted]
                self.known[measure][rows, cell] = valid
            sums = column.fill_null(0).to_numpy(zero_copy_only=False)[wanted]
            self.values[rows, cell, k] = sums

    def rolled_up(self, members: pd.DataFrame) -> pd.DataFrame:
        """The sums of the places of ``members`` (``level, place_code, lsoa21_code, weight``
        rows), by ``level, place_code`` and cell, in that order, with the places in the order
        of their first rows in ``members``."""
        places = members.groupby(["level", "place_code"], sort=False).ngroup().to_numpy()
        firsts = members.drop_duplicates(["level", "place_code"])
        column = self.lsoas.get_indexer(pd.Index(members["lsoa21_code"]))
        inside = column >= 0
        shape = (len(firsts), len(self.lsoas))
        weights = sp.csr_array(
            (members["weight"].to_numpy(float)[inside], (places[inside], column[inside])), shape
        )
        pattern = sp.csr_array(
            (np.ones(int(inside.sum())), (places[inside], column[inside])), shape
        )
        has_row = (pattern @ self.present) > 0
        place, cell = np.nonzero(has_row)
        flat = self.values.reshape(len(self.lsoas), len(self.cells) * len(self.measures))
        sums = (weights @ flat).reshape(len(firsts), len(self.cells), len(self.measures))
        frame = pd.DataFrame(
            {
                "level": firsts["level"].array.take(place),
                "place_code": firsts["place_code"].array.take(place),
                **{k: self.cells[k].array.take(cell) for k in self.keys},
            }
        )
        for k, measure in enumerate(self.measures):
            column_sums = sums[place, cell, k]
            if measure in self.known:
                unknown = (pattern @ self.known[measure])[place, cell] == 0
                column_sums = np.where(unknown, np.nan, column_sums)
            frame[measure] = column_sums
        return frame


def _refuse_beyond_memory(lsoas: int, cells: int, measures: int) -> None:
    """A clear error, before any work, when the sums by LSOA cannot fit in the memory the
    system has free: 8 bytes per LSOA, cell (year, sex, band) and measure, and as much again
    for the year the engine sends and the parts rolled up from it."""
    needed = 2 * lsoas * cells * (measures + 1) * 8
    free = available_memory()
    if free is not None and needed > free:
        raise IndicatorError(
            f"the sums by LSOA ({lsoas:,} LSOAs by {cells:,} cells of year, sex and age band by "
            f"{measures} measures) need about {gib(needed)} of memory and {gib(free)} is "
            "available: ask for fewer indicators (--indicator) or years, or close other "
            "programs"
        )


def _positions(column: pa.ChunkedArray, values: pd.Index) -> np.ndarray:
    """Each of ``column``'s values' position in ``values``, -1 where it is not there (Arrow's
    hash lookup: a few times faster than pandas' on Arrow-backed strings)."""
    found = pc.index_in(column, value_set=pa.array(values.to_numpy(), type=column.type))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _person_cube(
    warehouse: Tables, indicators: Sequence[Indicator], measures: list[str], years: Sequence[str]
) -> ir.Table:
    """The sums of ``measures`` by year, LSOA, sex and standard age band, as float64 (the
    rollup's type: exact for whole counts below 2**53, and half the size of DuckDB's
    128-bit integer sums on their way to Python)."""
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
    rows each, all rolled up from the sums by LSOA fetched once; nothing when no indicator
    needs them. ``years``: the model's years (:func:`model_years`, the default); only these
    are summed."""
    measures = measures_for(indicators, Table.PERSON_YEAR)
    if not measures:
        return
    years = model_years(warehouse) if years is None else years
    rows_per_place = max(1, len(years)) * len(SEXES) * len(STANDARD)
    by_lsoa = _person_cube(warehouse, indicators, measures, years)
    axes = {
        "year": pd.Index(list(years), dtype="str"),
        "sex": pd.Index(SEXES, dtype="str"),
        "band": pd.Index(STANDARD.starts, dtype="int16"),
    }
    sums = LsoaSums.empty(members["lsoa21_code"], axes, measures)
    for year in years:  # a year at a time: no engine sends the whole at once
        sums.add(warehouse.to_pyarrow(by_lsoa.filter(by_lsoa.year == year)))
    for part in place_parts(members, ROWS_PER_PART // rows_per_place) or [members]:
        yield sums.rolled_up(part)


def person_sums(
    warehouse: Tables,
    indicators: Sequence[Indicator],
    members: pd.DataFrame,
    years: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sums by level, place, year, sex and age band; empty when no indicator needs them.

    ``years`` are the model's years, if the caller already has them (:func:`model_years`);
    only these are summed.
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
    sums = LsoaSums.of(warehouse.to_pyarrow(by_lsoa), ["year"], measures)
    return sums.rolled_up(members.sort_values(["level", "place_code"], kind="stable"))


def model_years(warehouse: Tables) -> list[str]:
    """The financial years the model's person-year table holds, in order."""
    t = warehouse.table("person_year")
    frame = warehouse.to_pandas(t.select("year").distinct().order_by("year"))
    return [str(y) for y in frame["year"]]
