"""A small sample of England: four councils from four regions, two of them without a published
life expectancy (the City of London and the Isles of Scilly are too small), built, read and
analysed on both engines as any region is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from carepool.allocation import from_warehouse, load_formula
from carepool.allocation.nhs_england import whole_icbs
from carepool.cli import app
from carepool.geography import Geography, resolve_region
from carepool.indicators import indicator_table
from carepool.model import build_model, validate
from carepool.population import BuildRequest
from carepool.population.build import council_parts
from carepool.population.calibration import published_life_expectancy
from carepool.population.council import council_area, fit_council
from carepool.warehouse import Warehouse, read_manifest

#: Hartlepool (North East), the Isles of Scilly (South West), Trafford (North West) and the City
#: of London (London).
SAMPLE = ("E06000001", "E06000053", "E08000009", "E09000001")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "warehouse"
    build_model(BuildRequest(region=",".join(SAMPLE), scale=0.05, seed=3), path)
    return path


def test_the_sample_builds_every_council_into_its_own_partition(sample: Path) -> None:
    manifest = read_manifest(sample)
    assert manifest["lad_codes"] == sorted(SAMPLE)
    for table in ("residents", "person_year", "activity_cost"):
        folders = sorted(p.name.removeprefix("lad_code=") for p in (sample / table).iterdir())
        assert folders == sorted(SAMPLE)
    with Warehouse(sample) as wh:
        lsoa = wh.to_pandas(wh.table("lsoa"))
    # every LSOA of every council, each with its own ICB
    assert lsoa["lad_code"].nunique() == 4
    assert lsoa["icb_code"].nunique() == 4


@pytest.mark.spark
def test_duckdb_and_spark_agree_on_the_partitioned_sample(sample: Path) -> None:
    tables: dict[str, pd.DataFrame] = {}
    inputs = {}
    formula = load_formula()
    for engine in ("duckdb", "spark"):
        with Warehouse(sample, engine) as wh:
            tables[engine] = indicator_table(wh, levels=["region", "lad", "icb"])
            inputs[engine] = from_warehouse(wh, "2025-26", formula.variables(), ["lad"])
    assert len(tables["duckdb"]) > 50
    pd.testing.assert_frame_equal(tables["duckdb"], tables["spark"], check_exact=False, rtol=1e-9)
    duck, spark = inputs["duckdb"], inputs["spark"]
    assert list(duck.lsoa_codes) == list(spark.lsoa_codes)
    for service, counts in duck.activity.items():
        assert (counts == spark.activity[service]).all(), service


def test_a_council_without_a_published_life_expectancy_keeps_englands_rates() -> None:
    """The Isles of Scilly and the City of London publish no life expectancy to calibrate to:
    their people die at England's rates for their deprivation; every other council is
    calibrated to its own published figure."""
    parts = {p.lad_code: p for p in council_parts(Geography.load(resolve_region(",".join(SAMPLE))))}
    published = published_life_expectancy()
    for code, part in parts.items():
        mortality = council_area(part, fit_council(part, 1.0)).mortality[0]
        if (code, "male") in published:
            assert not np.allclose(mortality, 1.0), code
        else:
            assert code in ("E06000053", "E09000001")
            np.testing.assert_array_equal(mortality, [1.0, 1.0])


def test_validation_compares_the_sample_with_its_own_councils_published_figures(
    sample: Path,
) -> None:
    with Warehouse(sample) as wh:
        checks = {c.check: c for c in validate(wh)}
    published = published_life_expectancy()
    # the target is the sample's councils' own published life expectancy, weighted by their
    # modelled person-years: between the lowest and the highest of them
    for sex in ("male", "female"):
        own = [published[(c, sex)] for c in SAMPLE if (c, sex) in published]
        assert min(own) <= checks[f"life_expectancy_{sex}"].target <= max(own)
    # Greater Manchester's budget per head is no target for councils outside it
    assert "public_cost_per_head" not in checks


def test_each_council_is_checked_against_its_own_published_figures_and_charted(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`carepool validate --level lad` anywhere in England: life expectancy (calibrated), the
    slope index of inequality and premature mortality (independent) of each council that
    publishes them, from the England-wide extract, and the scatter chart of them."""
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(sample.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    chart = tmp_path / "validation.html"
    result = CliRunner().invoke(
        app, ["validate", "--level", "lad", "--json", "--chart", str(chart)]
    )
    assert result.exit_code in (0, 1), result.output
    checks = json.loads(result.stdout)["checks"]
    by = {(c["check"], c["area_code"]): c for c in checks}
    for code in ("E06000001", "E08000009"):  # the two that publish figures
        assert by[("life_expectancy_male", code)]["basis"] == "calibrated"
        assert by[("life_expectancy_sii_female", code)]["basis"] == "independent"
        premature = by[("u75_mortality_vs_england", code)]
        assert premature["basis"] == "independent"
        # fitted outside the modelled sample's councils, never on the council's own figure
        assert "outside the modelled region" in premature["source"]
    assert {code for _, code in by} <= set(SAMPLE)
    assert not any(code in ("E06000053", "E09000001") for _, code in by)  # nothing published
    page = chart.read_text()
    assert "plotly" in page.lower()
    assert "Hartlepool" in page
    assert "Trafford" in page
    assert "(calibrated)" in page
    assert "(independent)" in page
    refused = CliRunner().invoke(app, ["validate", "--chart", str(tmp_path / "x.html")])
    assert refused.exit_code == 2
    assert "--level lad" in refused.output


def test_allocation_by_icb_compares_only_the_icbs_the_model_holds_whole(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample's four councils are each a part of a larger ICB: NHS England's index (of
    the whole ICB) is set beside none of them, and the command says why; asked for another
    region than the one built, a clear error."""
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(sample.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    region = ",".join(SAMPLE)
    result = CliRunner().invoke(app, ["allocate", "--level", "icb", "--region", region, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4
    assert all("nhse_need_index" not in row for row in rows)
    assert whole_icbs(list(SAMPLE)) == set()
    table = CliRunner().invoke(app, ["allocate", "--level", "icb"])
    assert "for the ICBs the model holds whole" in table.stdout
    by_council = CliRunner().invoke(app, ["allocate", "--level", "lad"])
    assert "--level icb" in by_council.stdout
    wrong = CliRunner().invoke(app, ["allocate", "--region", "gm"])
    assert wrong.exit_code == 2
    assert "carepool build --region gm" in wrong.output
