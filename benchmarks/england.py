"""England: the whole country built from the vendored data, out of core and in parallel.

Not part of ``make bench`` by default (it takes many minutes and about 2 GB of disk): run
``python benchmarks/run.py england`` or ``make bench-england``. Prints the whole command's
wall time and the peak memory of it and its workers together (targets: 20 minutes and 4 GB
on two cores) and each stage's time from the manifest; then, on the England warehouse, the
whole ``carepool indicators --level lad`` command (every indicator for every council, with
disclosure control over every level) on DuckDB and on local Spark (targets 60 s and 5
minutes). ``CAREPOOL_BENCH_KEEP=DIR`` builds into DIR and keeps it (to run more commands on
England afterwards); by default a temporary folder is removed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from process_tree import Measured, measure

TARGET_SECONDS = 20 * 60
TARGET_GIB = 4.0
#: Every indicator for every council: the whole command, on each engine.
INDICATOR_TARGETS = {"duckdb": 60.0, "spark": 300.0}


def main() -> None:
    keep = os.environ.get("CAREPOOL_BENCH_KEEP")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        report(keep)
        return
    with tempfile.TemporaryDirectory(prefix="carepool-england-") as data_dir:
        report(data_dir)


def report(data_dir: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPOOL_")}
    env["CAREPOOL_DATA_DIR"] = data_dir
    command = [sys.executable, "-m", "carepool", "build", "--region", "england"]
    run = measure(command, env)
    if run.exit_code != 0:
        raise SystemExit(f"England build failed ({run.exit_code}): {' '.join(command)}")
    manifest = json.loads((Path(data_dir) / "warehouse" / "manifest.json").read_text())
    _build_figures(run, manifest)
    indicators = [sys.executable, "-m", "carepool", "indicators", "--level", "lad", "--json"]
    for engine, target in INDICATOR_TARGETS.items():
        timed = measure(indicators, {**env, "CAREPOOL_ENGINE": engine})
        if timed.exit_code != 0:
            raise SystemExit(f"England indicators on {engine} failed ({timed.exit_code})")
        print(
            f"every indicator for every council on {engine}: {timed.wall:.1f} s (target "
            f"{target:.0f} s, ratio {timed.wall / target:.2f}); peak {timed.peak_gib:.2f} GiB"
        )


def _build_figures(run: Measured, manifest: dict[str, Any]) -> None:
    residents = manifest["tables"]["residents"]["rows"]
    print(
        f"England, scale 1, two years: {residents:,} residents, "
        f"{manifest['tables']['person_year']['rows']:,} person-years"
    )
    print(
        f"England build: {run.wall:.0f} s wall (target {TARGET_SECONDS} s, ratio "
        f"{run.wall / TARGET_SECONDS:.2f}); peak {run.peak_gib:.2f} GiB for the command and its "
        f"workers together (target {TARGET_GIB:.0f} GB, ratio {run.peak_gib / TARGET_GIB:.2f})"
    )
    for stage, figures in manifest["stages"].items():
        print(f"  {stage}: {figures}")
    if "disclosure" in manifest:
        print(f"  disclosure audit: {manifest['disclosure'].get('seconds')} s")


if __name__ == "__main__":
    main()
