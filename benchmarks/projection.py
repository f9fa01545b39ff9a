"""Projection benchmarks, on the full-scale Greater Manchester model.

1. Ten years ahead at neighbourhood (MSOA) level with 1,000 Monte Carlo draws, the baseline
   scenario: ``project`` from reading the warehouse to every neighbourhood's percentiles and
   every partner's money, and then the rows of ``--json``. Target: 10 s for the projection.
2. The back-cast's errors against Census 2021: boroughs' totals (target: mean absolute
   percentage error at most 3%) and broad age groups (at most 6%), and the back-cast's time.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from carepool.projection import (
    AGE_GROUP_BOUND,
    BOROUGH_BOUND,
    ProjectionRequest,
    backcast,
    project,
    projection_rows,
)
from carepool.warehouse import Warehouse
from fullscale import with_full_scale_model

TARGET_SECONDS = 10.0
DRAWS = 1000
RUNS = 3


def _projection(data_dir: Path) -> None:
    request = ProjectionRequest(years=10, level="msoa", draws=DRAWS)
    times, rows_times = [], []
    for _ in range(RUNS):
        with Warehouse(data_dir / "warehouse") as warehouse:
            start = time.perf_counter()
            result = project(warehouse, request)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            rows = projection_rows(result)
            rows_times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"  {len(result.base.msoa_codes)} neighbourhoods, {DRAWS:,} draws, 10 years: "
        f"{', '.join(f'{t:.2f}' for t in times)} s; median {median:.2f} s "
        f"(target {TARGET_SECONDS:.0f} s, ratio {median / TARGET_SECONDS:.2f})"
    )
    print(
        f"  the rows of --json ({len(rows):,}): median {statistics.median(rows_times):.2f} s more"
    )


def main() -> None:
    print("Projection: ten years ahead, every neighbourhood, 1,000 draws")
    with_full_scale_model(_projection, "projection")
    print("Back-cast 2011 -> 2021 against Census 2021")
    start = time.perf_counter()
    result = backcast("gm")
    seconds = time.perf_counter() - start
    print(
        f"  boroughs' totals: mean absolute error {result.borough_mape:.2f}% (bound "
        f"{BOROUGH_BOUND:.0f}%, ratio {result.borough_mape / BOROUGH_BOUND:.2f}); broad age "
        f"groups {result.broad_mape:.2f}% (bound {AGE_GROUP_BOUND:.0f}%, ratio "
        f"{result.broad_mape / AGE_GROUP_BOUND:.2f}); six age groups {result.fine_mape:.2f}%; "
        f"{seconds:.1f} s"
    )
    for row in result.variants.itertuples(index=False):
        print(
            f"    {row.variant}: boroughs {row.borough_mape:.2f}%, "
            f"broad ages {row.broad_age_mape:.2f}%"
        )


if __name__ == "__main__":
    main()
