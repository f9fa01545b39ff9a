"""The benchmark's pandas reference computes the same sums as the engine."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from carepool.indicators import INDICATORS
from carepool.indicators.compute import compute
from carepool.indicators.cube import person_sums, spend_sums
from carepool.indicators.levels import memberships
from carepool.warehouse.connection import Warehouse

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_pandas_reference_gives_the_engine_numbers(small_warehouse: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        reference = importlib.import_module("indicators_pandas")
    finally:
        sys.path.remove(str(BENCHMARKS))
    levels = ["region", "lad", "msoa", "decile", "lsoa11"]
    with Warehouse(small_warehouse) as wh:
        members = memberships(wh, levels)
        engine = compute(
            INDICATORS, person_sums(wh, INDICATORS, members), spend_sums(wh, INDICATORS, members)
        )
    pandas = compute(
        INDICATORS,
        reference.person_sums(small_warehouse, members),
        reference.spend_sums(small_warehouse, members),
    )
    keys = ["indicator", "level", "place_code", "year"]
    a = engine.sort_values(keys).reset_index(drop=True)
    b = pandas.sort_values(keys).reset_index(drop=True)
    assert len(a) > 1000
    pd.testing.assert_frame_equal(a[keys], b[keys])
    for column in ("value", "lower", "upper", "numerator", "denominator"):
        np.testing.assert_allclose(a[column], b[column], rtol=1e-9, equal_nan=True)
