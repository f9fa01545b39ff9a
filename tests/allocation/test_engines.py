"""The allocation inputs are the same from DuckDB and from Spark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from carepool.allocation import from_warehouse, load_formula
from carepool.warehouse.connection import Warehouse


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_inputs(small_warehouse: Path) -> None:
    formula = load_formula()
    variables = [*formula.variables(), "morbidity"]
    inputs = {}
    for engine in ("duckdb", "spark"):
        with Warehouse(small_warehouse, engine=engine) as wh:
            inputs[engine] = from_warehouse(wh, "2026-27", variables, ["lad"])
    duck, spark = inputs["duckdb"], inputs["spark"]
    assert list(duck.lsoa_codes) == list(spark.lsoa_codes)
    np.testing.assert_allclose(duck.population, spark.population, rtol=1e-12)
    for service, counts in duck.activity.items():
        np.testing.assert_array_equal(counts, spark.activity[service], err_msg=service)
    for name, values in duck.variables.items():
        np.testing.assert_allclose(values, spark.variables[name], rtol=1e-12, err_msg=name)
