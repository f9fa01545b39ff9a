"""Benchmarks: the build (wall time and peak memory of `carepool build`), the indicators
(benchmarks/indicators.py), the allocation (benchmarks/allocation.py) and the ledger
(benchmarks/ledger.py), each against its target.

Each run is a fresh process (`python -m carepool build ...`) writing to a temporary data
directory; peak memory is the child's maximum resident set size from the operating system
(`wait4`). Prints every run, the median, and the ratio of the median to the target.
Run with `make bench`; `python benchmarks/run.py build`, `... indicators` or
`... allocation` or `... ledger` runs one part.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    scale: float
    runs: int
    target_seconds: float
    target_gib: float


CASES = (
    Case("Greater Manchester, scale 0.1, two years", 0.1, 3, 8.0, 4.0),
    Case("Greater Manchester, scale 1.0, two years", 1.0, 2, 60.0, 4.0),
)


def run_once(scale: float) -> tuple[float, float]:
    """One build in a fresh process: (wall seconds, peak RSS in GiB)."""
    with tempfile.TemporaryDirectory(prefix="carepool-bench-") as data_dir:
        env = {**os.environ, "CAREPOOL_DATA_DIR": data_dir}
        command = [
            sys.executable,
            "-m",
            "carepool",
            "build",
            "--region",
            "gm",
            "--scale",
            str(scale),
            "--seed",
            "42",
        ]
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"build at scale {scale} failed: {' '.join(command)}")
        return wall, usage.ru_maxrss / 1024 / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for case in CASES:
        walls: list[float] = []
        peaks: list[float] = []
        for i in range(case.runs):
            wall, peak = run_once(case.scale)
            walls.append(wall)
            peaks.append(peak)
            print(f"  {case.name}: run {i + 1}: {wall:6.1f} s wall, {peak:5.2f} GiB peak")
        wall_med = statistics.median(walls)
        peak_med = statistics.median(peaks)
        print(
            f"{case.name}: median {wall_med:.1f} s (target {case.target_seconds:.0f} s, "
            f"ratio {wall_med / case.target_seconds:.2f}); peak {peak_med:.2f} GiB "
            f"(target {case.target_gib:.0f} GiB, ratio {peak_med / case.target_gib:.2f})"
        )


if __name__ == "__main__":
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    if part not in ("all", "build", "indicators", "allocation", "ledger"):
        raise SystemExit("usage: run.py [all|build|indicators|allocation|ledger]")
    if part in ("all", "build"):
        main()
    if part in ("all", "indicators"):
        import indicators

        indicators.main()
    if part in ("all", "allocation"):
        import allocation

        allocation.main()
    if part in ("all", "ledger"):
        import ledger

        ledger.main()
