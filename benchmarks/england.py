"""England: the whole country built from the vendored data, out of core and in parallel.

Not part of ``make bench`` by default (it takes many minutes and about 2 GB of disk): run
``python benchmarks/run.py england`` or ``make bench-england``. Prints the whole command's
wall time and the peak memory of it and its workers together (targets: 20 minutes and 4 GB
on two cores), each stage's time from the manifest, and the slowest councils.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from process_tree import measure

TARGET_SECONDS = 20 * 60
TARGET_GIB = 4.0


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="carepool-england-") as data_dir:
        env = {**os.environ, "CAREPOOL_DATA_DIR": data_dir}
        command = [sys.executable, "-m", "carepool", "build", "--region", "england"]
        run = measure(command, env)
        if run.exit_code != 0:
            raise SystemExit(f"England build failed ({run.exit_code}): {' '.join(command)}")
        manifest = json.loads((Path(data_dir) / "warehouse" / "manifest.json").read_text())
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
