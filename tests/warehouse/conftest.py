"""Fixtures for the warehouse tests: an `engine` fixture on DuckDB and on local Spark."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from carepool.warehouse import write_table
from carepool.warehouse.engine import Warehouse

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]


@pytest.fixture(scope="module")
def spec_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny tables for the spec tests: five people in two LSOAs over two years."""
    path = tmp_path_factory.mktemp("spec")
    write_table(
        path,
        "lsoa",
        pa.table(
            {
                "lsoa21_code": ["E01000001", "E01000002"],
                "lsoa21_name": ["A 001A", "B 001A"],
                "msoa21_code": ["E02000001", "E02000002"],
                "msoa21_name": ["A 001", "B 001"],
                "lad_code": ["E08000003", "E08000009"],
                "lad_name": ["Manchester", "Trafford"],
                "icb_code": ["E54000057", "E54000057"],
                "imd_score": [45.5, 8.25],
                "imd_decile": pa.array([1, 9], pa.int8()),
                "imd_quintile": pa.array([1, 5], pa.int8()),
                "residents": [3, 2],
            }
        ),
    )
    write_table(
        path,
        "activity_cost",
        pa.table(
            {
                "year": ["2024-25", "2024-25", "2024-25", "2025-26", "2025-26", "2025-26"],
                "lsoa21_code": [
                    "E01000001",
                    "E01000001",
                    "E01000002",
                    "E01000001",
                    "E01000002",
                    "E01000002",
                ],
                "lad_code": [
                    "E08000003",
                    "E08000003",
                    "E08000009",
                    "E08000003",
                    "E08000009",
                    "E08000009",
                ],
                "service": [
                    "gp_appointments",
                    "asc_home_care_hours",
                    "gp_appointments",
                    "gp_appointments",
                    "gp_appointments",
                    "asc_residential_weeks",
                ],
                "payer_kind": ["nhs", "council", "nhs", "nhs", "nhs", "self"],
                "payer_code": [
                    "E54000057",
                    "E08000003",
                    "E54000057",
                    "E54000057",
                    "E54000057",
                    "SELF",
                ],
                "activity": [10, 100, 4, 12, 5, 52],
                "cost_pence": [27560, 300000, 11024, 33072, 13780, 4934800],
            }
        ),
    )
    return path


@pytest.fixture(params=ENGINES, scope="module")
def engine(request: pytest.FixtureRequest, spec_warehouse: Path) -> Iterator[Warehouse]:
    with Warehouse(spec_warehouse, request.param) as warehouse:
        yield warehouse
