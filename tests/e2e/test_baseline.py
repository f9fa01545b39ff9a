"""Golden headline figures: a change in the model's results shows up in review.

The figures of a fixed small model (Greater Manchester, scale 0.05, seed 42) are kept in
``baseline.json``. This test fails when they change; if the change is intended, rewrite the
file with ``make baseline`` and commit it with the change that caused it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from carepool.config import Settings
from carepool.population import BuildRequest, build, model_summary
from carepool.warehouse.connection import connect

BASELINE = Path(__file__).with_name("baseline.json")
REQUEST = BuildRequest(region="gm", scale=0.05, seed=42)


def headline_figures(data_dir: Path) -> dict[str, Any]:
    manifest = build(REQUEST, data_dir / "warehouse")
    with connect(Settings(data_dir=data_dir, engine="duckdb")) as engine:
        summary = model_summary(engine, manifest)
    return {
        "request": {"region": REQUEST.region, "scale": REQUEST.scale, "seed": REQUEST.seed},
        "residents": summary.residents,
        "deaths": summary.deaths,
        "cost_pence": summary.cost_pence,
        "by_payer": {row["payer_kind"]: row["cost_pence"] for row in summary.by_payer},
        "by_lad": {row["code"]: [row["residents"], row["cost_pence"]] for row in summary.by_lad},
        "by_service": {row["service"]: row["activity"] for row in summary.by_service},
        "tables": {name: table["rows"] for name, table in sorted(manifest["tables"].items())},
    }


def test_headline_figures_match_the_reviewed_baseline(tmp_path: Path) -> None:
    figures = headline_figures(tmp_path)
    if os.environ.get("CAREPOOL_WRITE_BASELINE") == "1":
        BASELINE.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    expected = json.loads(BASELINE.read_text())
    assert figures == expected, "results changed: review, then `make baseline` if intended"
