"""The same indicator table on DuckDB and on local Spark."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from carepool.ages import STANDARD
from carepool.indicators import cube, indicator_table
from carepool.indicators.compute import counts, counts_by_part
from carepool.indicators.cube import model_years, person_sums, spend_sums
from carepool.indicators.definitions import INDICATORS, Table
from carepool.indicators.record import every_level
from carepool.warehouse import SEXES
from carepool.warehouse.connection import Warehouse


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_indicators(small_warehouse: Path) -> None:
    tables: dict[str, pd.DataFrame] = {}
    for engine in ("duckdb", "spark"):
        with Warehouse(small_warehouse, engine) as wh:
            tables[engine] = indicator_table(wh, levels=["region", "lad", "quintile", "ward"])
    duck, spark = tables["duckdb"], tables["spark"]
    assert len(duck) > 100
    pd.testing.assert_frame_equal(duck, spark, check_exact=False, rtol=1e-9)


@pytest.mark.spark
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_sums_a_part_at_a_time_count_what_the_whole_counts(
    small_warehouse: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every level's sums, rolled up a few places at a time from the LSOA sums fetched once
    (a year at a time), give the disclosure audit exactly the counts of the sums made at
    once, in the same order (the audit's record is of their digests)."""
    with Warehouse(small_warehouse, engine) as wh:
        members = every_level(wh)
        years = model_years(wh)
        spend = spend_sums(wh, INDICATORS, members)
        whole = counts(INDICATORS, person_sums(wh, INDICATORS, members, years), spend)
        places = members[["level", "place_code"]].drop_duplicates()
        per_place = len(years) * len(SEXES) * len(STANDARD)
        monkeypatch.setattr(cube, "ROWS_PER_PART", 97 * per_place)  # 97 places a part
        fetched: list[list[str]] = []
        real_add = cube.LsoaSums.add

        def counting(self: cube.LsoaSums, table: pa.Table) -> None:
            fetched.append(sorted(set(table.column("year").to_pylist())))
            real_add(self, table)

        monkeypatch.setattr(cube.LsoaSums, "add", counting)
        by_part = counts_by_part(
            INDICATORS, cube.person_sums_by_part(wh, INDICATORS, members, years), spend
        )
    assert len(places) > 5 * 97
    assert fetched == [[year] for year in years]  # the LSOA sums fetched once, a year at a time
    assert len(whole) > 10_000
    pd.testing.assert_frame_equal(by_part, whole)


@pytest.mark.spark
def test_the_indicator_table_is_the_same_a_part_at_a_time_on_spark(
    small_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    levels = ["region", "lad", "msoa"]
    with Warehouse(small_warehouse) as wh:
        whole = indicator_table(wh, levels=levels)
    monkeypatch.setattr(cube, "ROWS_PER_PART", 20_000)
    with Warehouse(small_warehouse, "spark") as wh:
        by_part = indicator_table(wh, levels=levels)
    pd.testing.assert_frame_equal(by_part, whole, check_exact=False, rtol=1e-9)


def test_the_sums_are_what_the_engines_own_join_and_sum_give(small_warehouse: Path) -> None:
    """The rollup by sparse product against the engine doing it in SQL: every level's
    memberships joined to the sums by LSOA, weighted, summed and ordered by place and cell."""
    keys = ["year", "sex", "band"]
    with Warehouse(small_warehouse) as wh:
        members = every_level(wh)
        years = model_years(wh)
        rolled = person_sums(wh, INDICATORS, members, years)
        measures = cube.measures_for(INDICATORS, Table.PERSON_YEAR)
        by_lsoa = cube._person_cube(wh, INDICATORS, measures, years)
        weights = ibis.memtable(
            members[["level", "place_code", "lsoa21_code", "weight"]].astype(
                {"level": object, "place_code": object, "lsoa21_code": object}
            )
        )
        joined = by_lsoa.join(weights, "lsoa21_code")
        groups = ["level", "place_code", *keys]
        engine = wh.to_pandas(
            joined.group_by(groups)
            .aggregate(**{m: (joined[m] * joined.weight).sum() for m in measures})
            .order_by(groups)
        )
    assert len(rolled) > 10_000
    assert members["weight"].lt(1).any()  # fractional weights among them
    pd.testing.assert_frame_equal(rolled, engine, check_exact=False, rtol=1e-12)
