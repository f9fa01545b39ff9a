"""Spec tests: one expression, a tiny table, the expected rows — on DuckDB and on Spark."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

from carepool.config import Settings
from carepool.errors import ConfigError, WarehouseError
from carepool.warehouse.engine import Warehouse, connect


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_filter_and_select(engine: Warehouse) -> None:
    t = engine.table("activity_cost")
    expr = t.filter(t.payer_kind == "self").select("service", "activity")
    assert _rows(engine.to_pandas(expr)) == [("asc_residential_weeks", 52)]


def test_group_by_with_sum_count_and_mean(engine: Warehouse) -> None:
    t = engine.table("activity_cost")
    expr = (
        t.group_by("year")
        .aggregate(cost=t.cost_pence.sum(), rows=t.count(), mean_activity=t.activity.mean())
        .order_by("year")
    )
    assert _rows(engine.to_pandas(expr)) == [
        ("2024-25", 338584, 3, 38.0),
        ("2025-26", 4981652, 3, 23.0),
    ]


def test_join_to_neighbourhoods_and_distinct_count(engine: Warehouse) -> None:
    a = engine.table("activity_cost")
    n = engine.table("lsoa")
    joined = a.join(n, a.lsoa21_code == n.lsoa21_code)
    expr = (
        joined.group_by("imd_quintile")
        .aggregate(services=joined.service.nunique(), pence=joined.cost_pence.sum())
        .order_by("imd_quintile")
    )
    assert _rows(engine.to_pandas(expr)) == [(1, 2, 360632), (5, 2, 4959604)]


def test_window_running_total(engine: Warehouse) -> None:
    t = engine.table("activity_cost")
    gp = t.filter(t.service == "gp_appointments")
    window = ibis.cumulative_window(group_by=gp.lsoa21_code, order_by=gp.year)
    expr = gp.select("lsoa21_code", "year", running=gp.activity.sum().over(window)).order_by(
        ["lsoa21_code", "year"]
    )
    assert _rows(engine.to_pandas(expr)) == [
        ("E01000001", "2024-25", 10),
        ("E01000001", "2025-26", 22),
        ("E01000002", "2024-25", 4),
        ("E01000002", "2025-26", 9),
    ]


def test_conditional_aggregation_and_nulls(engine: Warehouse) -> None:
    n = engine.table("lsoa")
    expr = n.aggregate(
        deprived=(n.imd_quintile == 1).cast("int64").sum(),
        missing=n.imd_score.isnull().cast("int64").sum(),
        top=ibis.ifelse(n.imd_decile > 5, n.lsoa21_code, ibis.null()).max(),
    )
    assert _rows(engine.to_pandas(expr)) == [(1, 0, "E01000002")]


QUERIES: dict[str, Callable[[Warehouse], Any]] = {
    "cost_by_payer": lambda w: (
        (t := w.table("activity_cost"))
        .group_by(["payer_kind", "payer_code"])
        .aggregate(pence=t.cost_pence.sum(), activity=t.activity.sum())
        .order_by(["payer_kind", "payer_code"])
    ),
    "cost_per_resident": lambda w: (
        (j := w.table("activity_cost").join(w.table("lsoa"), "lsoa21_code"))
        .group_by("lad_name")
        .aggregate(per_head=j.cost_pence.sum() / j.residents.max())
        .order_by("lad_name")
    ),
}


def test_same_queries_give_the_same_answers_on_duckdb_and_spark(spec_warehouse: Path) -> None:
    results: dict[str, dict[str, pd.DataFrame]] = {}
    for name in ("duckdb", "spark"):
        with Warehouse(spec_warehouse, name) as warehouse:
            results[name] = {q: warehouse.to_pandas(f(warehouse)) for q, f in QUERIES.items()}
    for query in QUERIES:
        pd.testing.assert_frame_equal(results["duckdb"][query], results["spark"][query])


def test_missing_table_names_the_file(tmp_path: Path) -> None:
    with (
        Warehouse(tmp_path, "duckdb") as warehouse,
        pytest.raises(WarehouseError, match=r"residents\.parquet"),
    ):
        warehouse.table("residents")


def test_unknown_engine_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_ENGINE", "oracle")
    with pytest.raises(ConfigError, match="CAREPOOL_ENGINE"):
        connect()
    assert Settings(tmp_path, "duckdb").warehouse_dir == tmp_path / "warehouse"


def test_spark_without_the_extra_explains_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from carepool.warehouse.engine import spark_session

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ConfigError, match=r"carepool\[spark\]"):
        spark_session.__wrapped__()
