"""Indicator benchmarks at full Greater Manchester scale.

1. The whole command, each run a fresh process: every indicator for the region, its 10
   boroughs, all neighbourhoods (MSOAs) and the deprivation deciles, as JSON, disclosure
   control included. Target: 10 s.
2. The same computation in-process on the warehouse engine and in idiomatic pandas
   (benchmarks/indicators_pandas.py), timed in one run each after one warm-up run each; the
   two results are checked to be the same numbers before the ratio is printed. The
   statistics step (carepool.indicators.compute) is shared, so the ratio is of the whole
   computation, not of the data step alone. Target: engine at least 10× faster.

Uses the full-scale model in CAREPOOL_DATA_DIR when there is one, otherwise builds one into a
temporary folder first.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import indicators_pandas
from carepool.indicators import INDICATORS
from carepool.indicators.compute import compute
from carepool.indicators.cube import person_sums, spend_sums
from carepool.indicators.levels import memberships
from carepool.warehouse import Warehouse
from fullscale import with_full_scale_model

LEVELS = ["region", "lad", "msoa", "decile"]
TARGET_SECONDS = 10.0
TARGET_RATIO = 10.0
RUNS = 3


def _command(data_dir: Path) -> tuple[float, int]:
    levels = [arg for level in LEVELS for arg in ("--level", level)]
    command = [sys.executable, "-m", "carepool", "indicators", *levels, "--json"]
    env = {**os.environ, "CAREPOOL_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=True, text=True)
    return time.perf_counter() - started, len(json.loads(done.stdout))


def _timed(work: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, float]:
    """One warm-up run (lazy imports, query compilation, the file cache), then one timed run."""
    work()
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _same_numbers(engine: pd.DataFrame, reference: pd.DataFrame) -> None:
    keys = ["indicator", "level", "place_code", "year"]
    a = engine.sort_values(keys).reset_index(drop=True)
    b = reference.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[keys], b[keys])
    for column in ("value", "lower", "upper", "lower_998", "upper_998", "numerator", "denominator"):
        np.testing.assert_allclose(a[column], b[column], rtol=1e-9, equal_nan=True)


def run(data_dir: Path) -> None:
    walls: list[float] = []
    for i in range(RUNS):
        wall, rows = _command(data_dir)
        walls.append(wall)
        print(f"  indicators, whole command: run {i + 1}: {wall:5.2f} s wall, {rows:,} rows")
    median = statistics.median(walls)
    print(
        f"every indicator for region, boroughs, MSOAs and deciles (fresh process, JSON): median "
        f"{median:.2f} s (target {TARGET_SECONDS:.0f} s, ratio {median / TARGET_SECONDS:.2f})"
    )

    warehouse_dir = data_dir / "warehouse"
    with Warehouse(warehouse_dir) as wh:
        members = memberships(wh, LEVELS)

        steps: dict[str, float] = {}

        def sums_and_stats(
            name: str, sums: Callable[[], tuple[pd.DataFrame, pd.DataFrame]]
        ) -> Callable[[], pd.DataFrame]:
            def work() -> pd.DataFrame:
                started = time.perf_counter()
                person, spend = sums()
                steps[f"{name} sums"] = time.perf_counter() - started
                started = time.perf_counter()
                result = compute(INDICATORS, person, spend)
                steps[f"{name} statistics"] = time.perf_counter() - started
                return result

            return work

        engine, engine_seconds = _timed(
            sums_and_stats(
                "engine",
                lambda: (
                    person_sums(wh, INDICATORS, members),
                    spend_sums(wh, INDICATORS, members),
                ),
            )
        )
        reference, pandas_seconds = _timed(
            sums_and_stats(
                "pandas",
                lambda: (
                    indicators_pandas.person_sums(warehouse_dir, members),
                    indicators_pandas.spend_sums(warehouse_dir, members),
                ),
            )
        )
    _same_numbers(engine, reference)
    ratio = pandas_seconds / engine_seconds
    print(
        f"same {len(engine):,} results from both (checked); "
        f"engine (DuckDB) {engine_seconds:.2f} s, idiomatic pandas {pandas_seconds:.2f} s: "
        f"engine {ratio:.1f}x faster "
        f"(target {TARGET_RATIO:.0f}x, {'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    print(
        f"  of which the sums (the engine's work): engine {steps['engine sums']:.2f} s, pandas "
        f"{steps['pandas sums']:.2f} s ({steps['pandas sums'] / steps['engine sums']:.1f}x); "
        f"the shared statistics step {steps['engine statistics']:.2f} s on each side"
    )


def main() -> None:
    with_full_scale_model(run, "indicator")


if __name__ == "__main__":
    main()
