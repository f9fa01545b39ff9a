"""A small sample of England: four councils from four regions, two of them without a published
life expectancy (the City of London and the Isles of Scilly are too small), built, read and
analysed on both engines as any region is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carepool.allocation import from_warehouse, load_formula
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
