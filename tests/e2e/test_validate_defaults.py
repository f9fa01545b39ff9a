"""The default model (Greater Manchester, scale 1, seed 42) passes every validation check."""

from __future__ import annotations

from pathlib import Path

from carepool.config import Settings
from carepool.population import BuildRequest, build, run_checks
from carepool.warehouse.engine import connect


def test_default_model_passes_validation(tmp_path: Path) -> None:
    manifest = build(BuildRequest(), tmp_path / "warehouse")
    settings = Settings(data_dir=tmp_path, engine="duckdb")
    with connect(settings) as engine:
        checks = run_checks(engine, manifest["lad_codes"], manifest["years"][0])
    failures = [c for c in checks if not c.ok]
    assert len(checks) >= 15
    assert not failures, "\n".join(
        f"{c.check}: model {c.model:.2f} vs {c.target:.2f} ± {c.tolerance:.2f}" for c in failures
    )
