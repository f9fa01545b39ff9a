"""The full-scale Greater Manchester model the benchmarks run on: the one in
CAREPOOL_DATA_DIR when it is full scale, otherwise one built into a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from carepool.config import Settings
from carepool.errors import WarehouseError
from carepool.warehouse import read_manifest


def is_full_scale(data_dir: Path) -> bool:
    try:
        manifest = read_manifest(data_dir / "warehouse")
    except WarehouseError:
        return False
    return float(manifest.get("scale", 0)) == 1.0 and len(manifest.get("lad_codes", [])) == 10


def with_full_scale_model(run: Callable[[Path], None], purpose: str) -> None:
    """Call ``run(data_dir)`` with a data directory holding the full-scale model."""
    data_dir = Settings.from_env().data_dir
    if is_full_scale(data_dir):
        run(data_dir)
        return
    with tempfile.TemporaryDirectory(prefix="carepool-bench-") as tmp:
        print(f"  building the full-scale Greater Manchester model for the {purpose} benchmarks")
        env = {**os.environ, "CAREPOOL_DATA_DIR": tmp}
        subprocess.run(
            [sys.executable, "-m", "carepool", "build", "--region", "gm", "--scale", "1.0"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        run(Path(tmp))
