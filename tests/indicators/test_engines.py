"""The same indicator table on DuckDB and on local Spark."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from carepool.indicators import indicator_table
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
