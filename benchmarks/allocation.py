"""Allocation benchmarks.

1. Greater Manchester: the pool allocated to all 353 neighbourhoods (MSOAs) from the
   full-scale model, cost curves and need weights estimated from its costed activity, in
   process: the first run (cold) and the median of later runs. Target: 2 s. The whole command
   (`carepool allocate --level msoa --json`, a fresh process) is printed alongside.
2. England: all 6,856 MSOAs from the vendored ONS mid-2020 population and IoD 2025 scores,
   with the need model fitted on the Greater Manchester model (the default formula with the
   IMD score as its inequalities measure: premature mortality by small area is a model
   variable). Cold (reading the vendored files) and warm. Target: 5 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from carepool.allocation import (
    Formula,
    allocate,
    default_formula_text,
    fit_need_model,
    for_england,
    from_warehouse,
    load_formula,
    parse_formula,
)
from carepool.warehouse import Warehouse
from fullscale import with_full_scale_model

TOTAL = 6_000_000_000
ENGLAND_TOTAL = 127_200_000_000  # ICB allocations 2024/25 (House of Commons Library)
YEAR = "2026-27"
GM_TARGET = 2.0
ENGLAND_TARGET = 5.0
RUNS = 5


def england_formula() -> Formula:
    text = default_formula_text()
    text = text.replace('variable = "premature_mortality"', 'variable = "imd_score"')
    return parse_formula(text, "default formula, IMD score as inequalities measure")


def _gm(warehouse_dir: Path, formula: Formula) -> int:
    with Warehouse(warehouse_dir) as wh:
        data = from_warehouse(wh, YEAR, formula.variables(), ["msoa"])
    result = allocate(formula, data, total=TOTAL, year=YEAR, level="msoa")
    assert int(result.places["allocation"].sum()) == TOTAL
    return len(result.places)


def _report(name: str, seconds: list[float], target: float, places: int) -> None:
    warm = statistics.median(seconds[1:])
    print(
        f"{name} ({places:,} places): cold {seconds[0]:.2f} s, warm median {warm:.2f} s "
        f"over {len(seconds) - 1} runs (target {target:.0f} s, ratio cold "
        f"{seconds[0] / target:.2f}, warm {warm / target:.2f})"
    )


def run(data_dir: Path) -> None:
    formula = load_formula()
    warehouse_dir = data_dir / "warehouse"
    seconds: list[float] = []
    places = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        places = _gm(warehouse_dir, formula)
        seconds.append(time.perf_counter() - started)
    _report("Greater Manchester MSOAs, curves and weights estimated", seconds, GM_TARGET, places)

    env = {**os.environ, "CAREPOOL_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "carepool", "allocate", "--level", "msoa", "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=True, text=True)
    wall = time.perf_counter() - started
    print(f"  whole command, fresh process: {wall:.2f} s, {len(json.loads(done.stdout))} rows")

    england = england_formula()
    with Warehouse(warehouse_dir) as wh:
        gm = from_warehouse(wh, YEAR, england.variables(), ["msoa"])
    model = fit_need_model(england, gm)
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        data = for_england(england.variables(), ["msoa"])
        result = allocate(england, data, total=ENGLAND_TOTAL, year=YEAR, level="msoa", model=model)
        seconds.append(time.perf_counter() - started)
        assert int(result.places["allocation"].sum()) == ENGLAND_TOTAL
    _report("England MSOAs from vendored data", seconds, ENGLAND_TARGET, len(result.places))


def main() -> None:
    with_full_scale_model(run, "allocation")


if __name__ == "__main__":
    main()
