"""Spec tests of the expression layer: a tiny table, one expression, the expected rows.

Every test taking ``engine`` runs on DuckDB and on local Spark (see conftest.py). Known
engine differences are declared as strict xfails with the exact exception, so the suite fails
when a gap closes unnoticed.
"""

from __future__ import annotations

import datetime as dt
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest
from pyspark.errors import ArithmeticException

from carepool.config import Settings
from carepool.errors import ConfigError, WarehouseError
from carepool.warehouse.connection import Warehouse, connect, spark_session


def rows(engine: Warehouse, expr: ir.Expr) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in engine.to_pyarrow(expr).to_pylist()]


# --- the spec: one expression each -----------------------------------------------------------


def test_filter_and_select(engine: Warehouse) -> None:
    t = engine.table("activity_cost")
    expr = t.filter(t.payer_kind == "self").select("service", "activity")
    assert rows(engine, expr) == [("asc_residential_weeks", 52)]


def test_group_by_with_sum_count_and_mean(engine: Warehouse) -> None:
    t = engine.table("activity_cost")
    expr = (
        t.group_by("year")
        .aggregate(pence=t.cost_pence.sum(), n=t.count(), mean_activity=t.activity.mean())
        .order_by("year")
    )
    assert rows(engine, expr) == [
        ("2024-25", 338_584, 3, 38.0),
        ("2025-26", 4_981_652, 3, 23.0),
    ]


def test_inner_join_with_distinct_count(engine: Warehouse) -> None:
    cost = engine.table("activity_cost")
    lsoa = engine.table("lsoa")
    joined = cost.join(lsoa, "lsoa21_code")
    expr = (
        joined.group_by("imd_quintile")
        .aggregate(services=joined.service.nunique(), pence=joined.cost_pence.sum())
        .order_by("imd_quintile")
    )
    assert rows(engine, expr) == [(1, 2, 360_632), (5, 2, 4_959_604)]


def test_left_join_keeps_neighbourhoods_without_activity(engine: Warehouse) -> None:
    lsoa = engine.table("lsoa")
    cost = engine.table("activity_cost")
    joined = lsoa.left_join(cost, "lsoa21_code")
    expr = (
        joined.group_by(joined.lsoa21_code)
        .aggregate(n=joined.cost_pence.count(), pence=joined.cost_pence.sum().fill_null(0))
        .order_by("lsoa21_code")
    )
    assert rows(engine, expr) == [
        ("E01005001", 3, 360_632),
        ("E01005002", 0, 0),
        ("E01006001", 3, 4_959_604),
    ]


def test_running_total_over_a_cumulative_window(engine: Warehouse) -> None:
    t = engine.table("activity_cost")
    gp = t.filter(t.service == "gp_appointments")
    window = ibis.cumulative_window(group_by=gp.lsoa21_code, order_by=gp.year)
    expr = gp.select(
        "lsoa21_code",
        "year",
        running=gp.activity.sum().over(window),
        rank=ibis.row_number().over(window),
    ).order_by(["lsoa21_code", "year"])
    assert rows(engine, expr) == [
        ("E01005001", "2024-25", 10, 0),
        ("E01005001", "2025-26", 22, 1),
        ("E01006001", "2024-25", 4, 0),
        ("E01006001", "2025-26", 9, 1),
    ]


def test_nulls_are_skipped_by_aggregates_and_grouped_and_sorted_last(engine: Warehouse) -> None:
    s = engine.table("stays")
    summary = s.aggregate(
        n=s.count(),
        discharged=s.discharged.count(),
        still_in=s.discharged.isnull().sum(),
        bed_days=s.bed_days.sum(),
        mean_bed_days=s.bed_days.mean(),
        bed_days_or_zero=s.bed_days.fill_null(0).sum(),
    )
    assert rows(engine, summary) == [(5, 2, 3, 12, 4.0, 12)]
    by_ward = s.group_by("ward").aggregate(n=s.count()).order_by("ward")
    assert rows(engine, by_ward) == [("A", 2), ("B", 1), ("C", 1), (None, 1)]


def test_dates_compare_extract_and_subtract(engine: Warehouse) -> None:
    s = engine.table("stays")
    expr = (
        s.filter(s.admitted >= ibis.date(2024, 12, 1))
        .select(
            "stay_id",
            "admitted",
            month=s.admitted.month(),
            los=s.discharged.delta(s.admitted, unit="day"),
        )
        .order_by("stay_id")
    )
    assert rows(engine, expr) == [
        (2, dt.date(2025, 1, 2), 1, None),
        (3, dt.date(2024, 12, 31), 12, 9),
        (4, dt.date(2025, 3, 31), 3, None),
        (5, dt.date(2025, 2, 1), 2, None),
    ]


def test_results_have_the_declared_types(engine: Warehouse) -> None:
    s = engine.table("stays")
    lsoa = engine.table("lsoa")
    result = engine.to_pyarrow(
        s.select("stay_id", "ward", "admitted", "bed_days").cross_join(
            lsoa.select("lsoa21_code", "imd_quintile").limit(1)
        )
    )
    assert result.schema == pa.schema(
        [
            ("stay_id", pa.int32()),
            ("ward", pa.string()),
            ("admitted", pa.date32()),
            ("bed_days", pa.int16()),
            ("lsoa21_code", pa.string()),
            ("imd_quintile", pa.int8()),
        ]
    )
    assert result.schema.metadata is None


def test_a_scalar_comes_back_as_a_one_row_table(engine: Warehouse) -> None:
    t = engine.table("activity_cost")
    assert rows(engine, t.cost_pence.sum().name("pence")) == [(5_320_236,)]


def test_division_by_a_zero_made_null_is_null_on_both(engine: Warehouse) -> None:
    s = engine.table("stays")
    expr = s.select("stay_id", per_day=100 / s.bed_days.nullif(0)).order_by("stay_id")
    got = rows(engine, expr)
    assert got[0][1] == pytest.approx(100 / 3)
    assert [r[1] for r in got[1:]] == [None, pytest.approx(100 / 9), None, None]


@pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization")
def test_division_by_zero_is_infinite(engine: Warehouse, request: pytest.FixtureRequest) -> None:
    """DuckDB follows IEEE (x / 0 = inf); Spark in ANSI mode raises. Use ``nullif(0)``."""
    if engine.engine == "spark":
        request.applymarker(
            pytest.mark.xfail(raises=ArithmeticException, strict=True, reason="DIVIDE_BY_ZERO")
        )
    s = engine.table("stays")
    expr = s.filter(s.stay_id == 4).select(per_day=100 / s.bed_days)
    assert rows(engine, expr) == [(float("inf"),)]


@pytest.mark.xfail(raises=pa.ArrowNotImplementedError, strict=True, reason="Ibis: interval")
def test_subtracting_dates_gives_an_interval(engine: Warehouse) -> None:
    """Neither engine's date difference converts to Ibis's interval type in Arrow; domain
    code uses ``delta(..., unit="day")`` (tested above) instead."""
    s = engine.table("stays")
    engine.to_pyarrow(s.select(los=s.discharged - s.admitted))


# --- the same answers on both engines --------------------------------------------------------

QUERIES: dict[str, Callable[[Warehouse], ir.Table]] = {
    "cost_by_payer": lambda w: (
        (t := w.table("activity_cost"))
        .group_by(["payer_kind", "payer_code"])
        .aggregate(pence=t.cost_pence.sum(), activity=t.activity.sum(), rows=t.count())
    ),
    "cost_per_resident": lambda w: (
        (j := w.table("activity_cost").join(w.table("lsoa"), "lsoa21_code"))
        .group_by("lad_name")
        .aggregate(per_head=j.cost_pence.sum() / j.residents.sum().nullif(0))
    ),
    "residents_by_place": lambda w: (
        (r := w.table("residents"))
        .group_by(["lad_code", "sex"])
        .aggregate(
            n=r.count(),
            oldest=r.date_of_birth.min(),
            pseudonymised=r.nhs_number.startswith("P:").sum(),
        )
    ),
    "stays_per_person": lambda w: (
        (j := w.table("stays").left_join(w.table("residents"), "person_id"))
        .group_by(["person_id", "lad_code"])
        .aggregate(stays=j.count(), wards=j.ward.nunique(), last_in=j.admitted.max())
    ),
    "share_of_lad_cost": lambda w: (t := w.table("activity_cost")).select(
        "year",
        "lsoa21_code",
        "service",
        share=t.cost_pence / t.cost_pence.sum().over(group_by=["year", "lad_code"]),
    ),
}


@pytest.mark.spark
def test_same_queries_give_the_same_answers_on_duckdb_and_spark(spec_warehouse: Path) -> None:
    results: dict[str, dict[str, pa.Table]] = {}
    for name in ("duckdb", "spark"):
        with Warehouse(spec_warehouse, name) as warehouse:
            results[name] = {
                query: (result := warehouse.to_pyarrow(build(warehouse))).sort_by(
                    [(column, "ascending") for column in result.column_names]
                )
                for query, build in QUERIES.items()
            }
    for query in QUERIES:
        duck, spark = results["duckdb"][query], results["spark"][query]
        assert duck.num_rows > 0, query
        assert duck.equals(spark), f"{query}:\n{duck.to_pylist()}\n!=\n{spark.to_pylist()}"


# --- the connection itself (DuckDB only: these are about carepool, not the engine) -----------


def test_a_missing_table_names_its_file(tmp_path: Path) -> None:
    with Warehouse(tmp_path, "duckdb") as warehouse:
        with pytest.raises(WarehouseError, match=r"residents\.parquet: missing; run `carepool"):
            warehouse.table("residents")
        with pytest.raises(WarehouseError, match=r"other\.parquet: missing; no such table"):
            warehouse.table("other")
        with pytest.raises(WarehouseError, match="not a table name"):
            warehouse.table("../lsoa")


def test_tables_are_cached_and_a_closed_warehouse_refuses_work(spec_warehouse: Path) -> None:
    warehouse = connect(Settings(spec_warehouse, "duckdb"), warehouse_dir=spec_warehouse)
    with warehouse:
        assert warehouse.engine == "duckdb"
        assert warehouse.table("lsoa") is warehouse.table("lsoa")
        assert warehouse.to_pandas(warehouse.table("lsoa").count()).iat[0, 0] == 3
    warehouse.close()  # twice is harmless
    with pytest.raises(WarehouseError, match="closed"):
        warehouse.table("lsoa")


def test_connect_reads_the_engine_and_folder_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CAREPOOL_ENGINE", "DuckDB ")
    with connect() as warehouse:
        assert (warehouse.engine, warehouse.warehouse_dir) == ("duckdb", tmp_path / "warehouse")
    monkeypatch.setenv("CAREPOOL_ENGINE", "oracle")
    with pytest.raises(ConfigError, match="CAREPOOL_ENGINE='oracle'"):
        connect()
    with pytest.raises(ConfigError, match="unknown engine 'oracle'"):
        Warehouse(tmp_path, "oracle")


def test_spark_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ConfigError, match=r"pip install 'carepool\[spark\]'"):
        spark_session.__wrapped__()


def test_duckdb_holds_no_more_memory_than_its_limit_and_spills_beyond_it(
    spec_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's memory is bounded (2GB unless CAREPOOL_DUCKDB_MEMORY says otherwise): a
    query larger than that spills to a folder of its own, removed when the warehouse closes;
    a limit DuckDB cannot read is a clear error. What spills is counts from before
    disclosure control, so the folder is the user's alone."""
    with Warehouse(spec_warehouse) as wh:
        setting = wh._backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
        spill = wh._spill
        assert spill is not None
        assert stat.S_IMODE(spill.stat().st_mode) == 0o700
    assert setting == "1.8 GiB"  # DuckDB's words for 2GB
    assert not spill.exists()  # removed at close
    monkeypatch.setenv("CAREPOOL_DUCKDB_MEMORY", "64MB")
    with Warehouse(spec_warehouse) as wh:
        numbers = ibis.range(0, 3_000_000).unnest().name("n").as_table()
        grouped = numbers.group_by("n").aggregate(twice=numbers.n.count() * 2)
        total = wh.to_pyarrow(grouped.twice.sum()).to_pylist()
        spill = wh._spill
    assert list(total[0].values()) == [6_000_000]
    assert spill is not None
    assert not spill.exists()
    monkeypatch.setenv("CAREPOOL_DUCKDB_MEMORY", "lots")
    with pytest.raises(ConfigError, match="CAREPOOL_DUCKDB_MEMORY='lots'"):
        Warehouse(spec_warehouse)
