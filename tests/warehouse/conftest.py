"""Fixtures for the warehouse tests.

``engine`` runs a spec test on DuckDB and on local Spark. Spark starts once per test session
(one JVM for the whole run) and each test module shares one warehouse per engine, so the
Spark share of the suite stays a few seconds beyond the JVM's start-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carepool.warehouse import write_table
from carepool.warehouse.connection import Warehouse

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]

MANCHESTER = "E08000003"
TRAFFORD = "E08000009"
GM_ICB = "E54000057"


def lsoa_table(rows: list[tuple[str, str, str]]) -> pa.Table:
    """A minimal ``lsoa`` table from (LSOA, LAD, ICB) triples (at most three)."""
    n = len(rows)
    return pa.table(
        {
            "lsoa21_code": [r[0] for r in rows],
            "lsoa21_name": [f"LSOA {i}" for i in range(n)],
            "msoa21_code": [f"E02{i:06d}" for i in range(n)],
            "msoa21_name": [f"MSOA {i}" for i in range(n)],
            "lad_code": [r[1] for r in rows],
            "lad_name": [{MANCHESTER: "Manchester", TRAFFORD: "Trafford"}[r[1]] for r in rows],
            "icb_code": [r[2] for r in rows],
            "imd_score": [45.5, 20.0, 8.25][:n],
            "imd_decile": pa.array([1, 5, 9][:n], pa.int8()),
            "imd_quintile": pa.array([1, 3, 5][:n], pa.int8()),
            "residents": [3, 0, 2][:n],
        }
    )


@pytest.fixture(scope="session")
def spec_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny tables for the spec tests: three neighbourhoods, six cost rows, five residents,
    and a ``stays`` table (not a warehouse schema) with missing values to test nulls."""
    path = tmp_path_factory.mktemp("spec")
    write_table(
        path,
        "lsoa",
        lsoa_table(
            [
                ("E01005001", MANCHESTER, GM_ICB),
                ("E01005002", MANCHESTER, GM_ICB),
                ("E01006001", TRAFFORD, GM_ICB),
            ]
        ),
    )
    write_table(
        path,
        "activity_cost",
        pa.table(
            {
                "year": ["2024-25", "2024-25", "2024-25", "2025-26", "2025-26", "2025-26"],
                "lsoa21_code": [
                    "E01005001",
                    "E01005001",
                    "E01006001",
                    "E01005001",
                    "E01006001",
                    "E01006001",
                ],
                "lad_code": [MANCHESTER, MANCHESTER, TRAFFORD, MANCHESTER, TRAFFORD, TRAFFORD],
                "service": [
                    "gp_appointments",
                    "asc_home_care_hours",
                    "gp_appointments",
                    "gp_appointments",
                    "gp_appointments",
                    "asc_residential_weeks",
                ],
                "payer_kind": ["nhs", "council", "nhs", "nhs", "nhs", "self"],
                "payer_code": [GM_ICB, MANCHESTER, GM_ICB, GM_ICB, GM_ICB, "SELF"],
                "activity": [10, 100, 4, 12, 5, 52],
                "cost_pence": [27560, 300000, 11024, 33072, 13780, 4934800],
            }
        ),
    )
    write_table(
        path,
        "residents",
        pa.table(
            {
                "person_id": [1, 2, 3, 4, 5],
                "nhs_number": [
                    "9434765919",
                    "9434765870",
                    "P:" + "0f" * 8,
                    "4010232137",
                    "9990000018",
                ],
                "sex": ["female", "male", "female", "male", "female"],
                "date_of_birth": [
                    dt.date(1940, 2, 29),
                    dt.date(1985, 7, 1),
                    dt.date(2001, 12, 31),
                    dt.date(1985, 3, 15),
                    dt.date(2024, 4, 1),
                ],
                "lsoa21_code": ["E01005001", "E01005001", "E01005002", "E01006001", "E01006001"],
                "lad_code": [MANCHESTER, MANCHESTER, MANCHESTER, TRAFFORD, TRAFFORD],
                "first_year": ["2024-25"] * 4 + ["2025-26"],
            }
        ),
    )
    pq.write_table(
        pa.table(
            {
                "stay_id": pa.array([1, 2, 3, 4, 5], pa.int32()),
                "person_id": [1, 1, 2, 4, 9],
                "ward": ["A", None, "B", "A", "C"],
                "admitted": [
                    dt.date(2024, 4, 30),
                    dt.date(2025, 1, 2),
                    dt.date(2024, 12, 31),
                    dt.date(2025, 3, 31),
                    dt.date(2025, 2, 1),
                ],
                "discharged": [dt.date(2024, 5, 3), None, dt.date(2025, 1, 9), None, None],
                "bed_days": pa.array([3, None, 9, 0, None], pa.int16()),
            }
        ),
        path / "stays.parquet",
    )
    return path


@pytest.fixture(params=ENGINES, scope="module")
def engine(request: pytest.FixtureRequest, spec_warehouse: Path) -> Iterator[Warehouse]:
    """One warehouse per engine per test module (the Spark session itself is per process)."""
    with Warehouse(spec_warehouse, request.param) as warehouse:
        yield warehouse
