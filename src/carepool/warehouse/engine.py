"""The one expression layer: Ibis over DuckDB (default) or local Spark.

Domain code builds Ibis expressions against :meth:`Warehouse.table` and hands them back to
:meth:`Warehouse.to_pandas` or :meth:`Warehouse.to_pyarrow`; it never sees the engine. This
module and the rest of ``carepool.warehouse`` are the only places that import ``duckdb`` or
``pyspark`` (kept that way by ``tests/test_conventions.py``). See
docs/adr/0001-ibis-expression-layer.md.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from carepool.config import Settings
from carepool.errors import ConfigError, WarehouseError
from carepool.warehouse.schemas import TABLES
from carepool.warehouse.store import table_path

#: Local Spark: small enough for a laptop or CI, quiet, deterministic time zone.
SPARK_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


@cache
def spark_session() -> Any:
    """One local SparkSession per process (starting Spark takes seconds)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the spark extra is not installed
        raise ConfigError(
            "CAREPOOL_ENGINE=spark needs the Spark extra: pip install 'carepool[spark]' "
            "(and Java 17 or newer)"
        ) from exc
    logging.getLogger("py4j").setLevel(logging.ERROR)
    builder = SparkSession.builder.master("local[2]").appName("carepool")
    for key, value in SPARK_CONFIG.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class Warehouse:
    """A connection to the warehouse's Parquet tables through one engine."""

    def __init__(self, warehouse_dir: Path, engine: str) -> None:
        self.warehouse_dir = warehouse_dir
        self.engine = engine
        if engine == "duckdb":
            self._backend: Any = ibis.duckdb.connect()
        elif engine == "spark":
            session = spark_session()  # first: it explains a missing Spark extra
            self._backend = ibis.pyspark.connect(session)
        else:
            raise ConfigError(f"unknown engine {engine!r}; expected duckdb or spark")
        self._tables: dict[str, Any] = {}

    def table(self, name: str) -> Any:
        """The Ibis table expression for warehouse table ``name``."""
        if name in self._tables:
            return self._tables[name]
        if name not in TABLES:
            raise WarehouseError(f"no warehouse table {name!r}; tables: {', '.join(TABLES)}")
        path = table_path(self.warehouse_dir, name)
        if not path.is_file():
            raise WarehouseError(f"{path}: missing; run `carepool build` first")
        alias = f"carepool_{name}"
        if self.engine == "spark":
            # Spark keeps temporary views per session: a fresh name per connection and file
            alias = f"{alias}_{abs(hash((str(path.resolve()), id(self)))):x}"
        expr = self._backend.read_parquet(str(path), table_name=alias)
        self._tables[name] = expr
        return expr

    def to_pyarrow(self, expr: Any) -> pa.Table:
        table: pa.Table = self._backend.to_pyarrow(expr)
        return normalise(table)

    def to_pandas(self, expr: Any) -> pd.DataFrame:
        frame: pd.DataFrame = self.to_pyarrow(expr).to_pandas()
        return frame

    def close(self) -> None:
        for name in list(self._tables):
            if self.engine == "spark":
                alias = self._tables[name].get_name()
                self._backend._session.catalog.dropTempView(alias)
        self._tables.clear()
        if self.engine == "duckdb":
            self._backend.disconnect()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def normalise(table: pa.Table) -> pa.Table:
    """Make results comparable across engines: large strings become strings, every integer
    int64, every float float64, decimals float64; nothing else changes."""
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_large_string(kind) or pa.types.is_string(kind):
            kind = pa.string()
        elif pa.types.is_integer(kind):
            kind = pa.int64()
        elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            kind = pa.float64()
        fields.append(pa.field(field.name, kind, nullable=True))
    return table.cast(pa.schema(fields))


def connect(settings: Settings | None = None, warehouse_dir: Path | None = None) -> Warehouse:
    """Open the warehouse with the configured engine (``CAREPOOL_ENGINE``)."""
    settings = settings or Settings.from_env()
    return Warehouse(warehouse_dir or settings.warehouse_dir, settings.engine)
