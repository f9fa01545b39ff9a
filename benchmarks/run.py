"""Benchmarks: the build (wall time and peak memory of `carepool build`, and of that the model
and the disclosure audit, each as the build records it in its manifest), the indicators
(benchmarks/indicators.py), the allocation (benchmarks/allocation.py), the ledger
(benchmarks/ledger.py), prevention (benchmarks/prevention.py), the projection
(benchmarks/projection.py) and the portal and API (benchmarks/portal.py), each against its
target.

Each run is a fresh process (`python -m carepool build ...`) writing to a temporary data
directory; peak memory is the child's maximum resident set size from the operating system
(`wait4`). Prints every run, the median, and the ratio of the median to the target.
Run with `make bench`; `python benchmarks/run.py build`, `... indicators` or
`... allocation`, `... ledger`, `... prevention`, `... projection` or `... portal` runs one
part.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    scale: float
    runs: int
    #: The model's own build (the manifest's ``build_seconds``).
    target_seconds: float
    target_gib: float
    #: The disclosure audit of every published indicator (the manifest's
    #: ``disclosure.seconds``); None where no target is set.
    target_audit_seconds: float | None = None


CASES = (
    Case("Greater Manchester, scale 0.1, two years", 0.1, 3, 8.0, 4.0),
    Case("Greater Manchester, scale 1.0, two years", 1.0, 2, 60.0, 4.0, 60.0),
)


@dataclass(frozen=True)
class Run:
    wall: float
    peak_gib: float
    model: float
    audit: float


def run_once(scale: float) -> Run:
    """One build in a fresh process: wall seconds, peak RSS in GiB, and the model's and the
    audit's seconds as the manifest records them."""
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
        manifest = json.loads((Path(data_dir) / "warehouse" / "manifest.json").read_text())
        return Run(
            wall,
            usage.ru_maxrss / 1024 / 1024,  # ru_maxrss is in KiB on Linux
            float(manifest["build_seconds"]),
            float(manifest["disclosure"]["seconds"]),
        )


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for case in CASES:
        runs = []
        for i in range(case.runs):
            run = run_once(case.scale)
            runs.append(run)
            print(
                f"  {case.name}: run {i + 1}: {run.wall:6.1f} s wall (model {run.model:.1f} s, "
                f"disclosure audit {run.audit:.1f} s), {run.peak_gib:5.2f} GiB peak"
            )
        wall = statistics.median(r.wall for r in runs)
        model = statistics.median(r.model for r in runs)
        audit = statistics.median(r.audit for r in runs)
        peak = statistics.median(r.peak_gib for r in runs)
        print(
            f"{case.name}: median {wall:.1f} s wall; model {model:.1f} s (target "
            f"{case.target_seconds:.0f} s, ratio {model / case.target_seconds:.2f}); peak "
            f"{peak:.2f} GiB (target {case.target_gib:.0f} GiB, ratio {peak / case.target_gib:.2f})"
        )
        if case.target_audit_seconds is not None:
            print(
                f"{case.name}: disclosure audit median {audit:.1f} s (target "
                f"{case.target_audit_seconds:.0f} s, ratio "
                f"{audit / case.target_audit_seconds:.2f})"
            )
        else:
            print(f"{case.name}: disclosure audit median {audit:.1f} s (no target)")


if __name__ == "__main__":
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    parts = (
        "all",
        "build",
        "indicators",
        "allocation",
        "ledger",
        "prevention",
        "portal",
        "projection",
        "england",
    )
    if part not in parts:
        raise SystemExit(f"usage: run.py [{'|'.join(parts)}]")
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
    if part in ("all", "prevention"):
        import prevention

        prevention.main()
    if part in ("all", "projection"):
        import projection

        projection.main()
    if part == "england":  # not in "all": many minutes and gigabytes (make bench-england)
        import england

        england.main()
    if part in ("all", "portal"):
        import portal

        portal.main()
