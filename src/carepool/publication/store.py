"""Where the public figures are kept: ``$CAREPOOL_DATA_DIR/public/``, one folder per part.

``model/`` (written when the model is built or the demonstration runs) and ``fund/``
(written whenever the fund is posted to): each a Parquet file per collection and
``meta.json``; ``fund/`` also holds the published journal, its latest signed checkpoint and
the fund's public key. A part is written to a folder of its own and swapped into place by
rename, so a reader finds the old part or the new one, never half of each.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from carepool.errors import WarehouseError

PARTS = ("model", "fund")


def public_dir(data_dir: Path) -> Path:
    return data_dir / "public"


def write_part(
    root: Path,
    part: str,
    tables: dict[str, pd.DataFrame],
    meta: dict[str, Any],
    files: dict[str, Path] | None = None,
) -> Path:
    """Write one part's tables, metadata and any extra files, then swap it into place."""
    assert part in PARTS
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{part}-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        for name, frame in tables.items():
            table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
            pq.write_table(table, staging / f"{name}.parquet")
        for name, source in (files or {}).items():
            shutil.copyfile(source, staging / name)
        (staging / "meta.json").write_text(
            json.dumps({**meta, "tables": sorted(tables)}, indent=2, default=str) + "\n",
            encoding="utf-8",
        )
        target = root / part
        retired = root / f".{part}-retired-{uuid.uuid4().hex[:12]}"
        if target.exists():
            target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root / part


@dataclass
class Part:
    """One part as read back: its tables and metadata."""

    meta: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    folder: Path | None = None

    @property
    def present(self) -> bool:
        return self.folder is not None


def read_part(root: Path, part: str) -> Part:
    folder = root / part
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        return Part()
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tables = {
            name: pq.read_table(folder / f"{name}.parquet").to_pandas()
            for name in meta.get("tables", [])
        }
    except (OSError, ValueError) as exc:
        raise WarehouseError(f"{folder}: the published figures cannot be read: {exc}") from None
    return Part(meta=meta, tables=tables, folder=folder)
