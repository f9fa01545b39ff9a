"""The one expression layer: Ibis over DuckDB (the default) or over local Spark.

Domain code builds Ibis expressions on tables from :meth:`Warehouse.table` and hands them
back to :meth:`Warehouse.to_pyarrow` or :meth:`Warehouse.to_pandas`; it never sees which
engine ran them. That is what lets an indicator written once run embedded on a laptop and on
Spark for all of England. This module (with the rest of ``carepool.warehouse``) is the only
place that touches ``duckdb`` or ``pyspark`` -- ``tests/test_conventions.py`` enforces it --
and ``pyspark`` is imported only when a Spark warehouse is opened, so ``make run`` works
without the ``spark`` extra. See docs/adr/0001-ibis-expression-layer.md.

Results are returned in the Arrow types the expression declares (``expr.schema()``), with no
schema metadata, so the same expression gives equal tables on both engines. Rows come back
in the engine's order unless the expression ends in ``order_by``: compare unordered results
after sorting. Engine differences we know of, and how domain code avoids them:

- Division by zero: DuckDB gives ``inf``/``NaN`` for ``x / 0``; Spark (ANSI mode, on by
  default from Spark 4 and set explicitly here) raises ``DIVIDE_BY_ZERO``. Write
  ``x / y.nullif(0)``, which is NULL on both.
- Integer overflow: both refuse a sum beyond int64, but with different exceptions (pyarrow's
  ``ArrowInvalid`` from DuckDB, Spark's ``ARITHMETIC_OVERFLOW``); money in pence never gets
  near it.
- Date differences: ``date_a - date_b`` is an Ibis interval that neither engine returns in a
  form Arrow can convert; use ``date_a.delta(date_b, unit="day")``, an int64 on both.
- A :class:`Warehouse` reads the tables of the manifest committed when it first opens a table
  (:mod:`carepool.warehouse.store`), so all its tables are of one commit. A load or build
  committed later removes the files it superseded: open a new :class:`Warehouse` to see it
  (one kept open across a load may find its old file gone).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Collection, Mapping
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Protocol, Self

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from carepool.config import Settings
from carepool.errors import ConfigError, WarehouseError
from carepool.warehouse.location import (
    Location,
    join,
    kind,
    local_folder,
    location_of,
    spark_url,
)
from carepool.warehouse.partitions import PARTITION_KEY
from carepool.warehouse.schemas import TABLES
from carepool.warehouse.store import current_manifest, table_exists, table_file

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES: Final = ("duckdb", "spark")

#: Local Spark sized for a laptop or a CI runner: two cores, a modest heap, no web UI, few
#: shuffle partitions (the default 200 makes every small group-by slow), UTC so that dates and
#: timestamps never shift with the machine's zone, ANSI SQL so that bad arithmetic raises
#: instead of silently giving NULL or wrapping round (Spark 3.5 defaults it off, 4.0 on), and
#: the loopback interface because a local session never talks to another machine.
SPARK_MASTER: Final = "local[2]"
SPARK_CONFIG: Final[dict[str, str]] = {
    "spark.app.name": "carepool",
    "spark.driver.memory": "2g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # a partition folder's value (a council code) is a string, never a guessed number
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}

#: Settings that make sense only for Spark on this machine: on a cluster the executors must
#: reach the driver on an address they can see, and the cluster's own files size the driver.
LOCAL_ONLY: Final = frozenset({"spark.driver.host", "spark.driver.bindAddress"})
#: The Spark master (``local[4]``, ``spark://host:7077``, ``yarn``, ``k8s://...``) and a file
#: of further Spark settings (``spark-defaults.conf``'s form: a key and a value per line).
SPARK_MASTER_VARIABLE: Final = "CAREPOOL_SPARK_MASTER"
SPARK_CONF_VARIABLE: Final = "CAREPOOL_SPARK_CONF"
#: Set in the Python process that ``spark-submit`` starts: Spark is already configured.
SUBMITTED_VARIABLE: Final = "PYSPARK_GATEWAY_PORT"

#: The most memory DuckDB holds at once (``CAREPOOL_DUCKDB_MEMORY`` overrides it, in DuckDB's
#: units: ``2GB``, ``500MB``). Beyond it, joins and group-bys spill to a temporary folder of
#: their own under the system's (``TMPDIR``), removed when the warehouse closes. DuckDB's own
#: default, 80% of the machine, let England's counts take 9 GiB.
DUCKDB_MEMORY: Final = "2GB"
DUCKDB_MEMORY_VARIABLE: Final = "CAREPOOL_DUCKDB_MEMORY"

#: Log4j 2 settings for the Spark JVM: errors only, and no start-up banner (Spark prints its
#: "Setting default log level" notice unless the launcher's loggers are configured).
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
"""

#: PySpark logs every SQL error to stderr as JSON before raising it; the exception reaches the
#: caller anyway, so the log line is only noise.
_PYSPARK_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger", "py4j")

_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_view_ids = itertools.count(1)


def read_spark_conf(path: Path) -> dict[str, str]:
    """Spark settings from a file in ``spark-defaults.conf``'s form: per line a key and a
    value, separated by spaces or ``=``; a line that starts with ``#`` is a comment. A clear
    error names the file and line of anything else."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{SPARK_CONF_VARIABLE}={path}: cannot be read ({exc})") from None
    conf: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = re.fullmatch(r"(spark\.[A-Za-z0-9_.\-]+)\s*(?:=|\s)\s*(\S.*)", text)
        if match is None:
            raise ConfigError(
                f"{path}, line {number}: expected a Spark setting and its value "
                f"(spark.executor.memory 4g), got {text!r}"
            )
        conf[match.group(1)] = match.group(2).strip()
    return conf


def spark_settings(environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The master and the settings carepool starts Spark with itself: the master
    ``CAREPOOL_SPARK_MASTER`` (default :data:`SPARK_MASTER`), and carepool's settings
    (:data:`SPARK_CONFIG`) overridden by those of the file ``CAREPOOL_SPARK_CONF``; on any
    master but a local one, without the loopback-only driver address."""
    master = environ.get(SPARK_MASTER_VARIABLE, "").strip() or SPARK_MASTER
    conf = dict(SPARK_CONFIG)
    if not master.startswith("local"):
        conf = {k: v for k, v in conf.items() if k not in LOCAL_ONLY}
    file = environ.get(SPARK_CONF_VARIABLE, "").strip()
    if file:
        conf.update(read_spark_conf(Path(file)))
    return master, conf


def submitted_settings(given: Collection[str]) -> dict[str, str]:
    """What carepool sets in a session ``spark-submit`` started, whose settings ``given``
    stand: its SQL settings (UTC, ANSI arithmetic, Arrow, partition values as text, shuffle
    partitions) where spark-submit gave none. Nothing else: the driver, the master and the
    application are spark-submit's, fixed when it started the JVM."""
    return {
        key: value
        for key, value in SPARK_CONFIG.items()
        if key.startswith("spark.sql.") and key not in given
    }


@cache
def spark_session() -> SparkSession:
    """The process's one local SparkSession, started on first use.

    Starting Spark costs seconds (a JVM), so every :class:`Warehouse` on Spark shares it.
    ``pyspark`` is imported here and nowhere else, so that carepool without the ``spark``
    extra still imports and runs on DuckDB.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(
            "CAREPOOL_ENGINE=spark needs the Spark extra: pip install 'carepool[spark]' "
            "(and Java 17 or newer)"
        ) from exc
    for name in _PYSPARK_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if SUBMITTED_VARIABLE in os.environ:  # spark-submit started this process, and Spark
        submitted = SparkSession.builder.getOrCreate()
        given = {key for key, _ in submitted.sparkContext.getConf().getAll()}
        for key, value in submitted_settings(given).items():
            submitted.conf.set(key, value)
        return submitted
    fd, log_config = tempfile.mkstemp(prefix="carepool-log4j2-", suffix=".properties")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(_LOG4J2)
    master, conf = spark_settings(os.environ)
    builder = SparkSession.builder.master(master).config(
        "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}"
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, or a JVM that will not start
        raise ConfigError(
            f"CAREPOOL_ENGINE=spark: cannot start local Spark ({exc}); it needs Java 17 or "
            "newer on PATH or JAVA_HOME"
        ) from exc
    finally:
        Path(log_config).unlink(missing_ok=True)  # read once, when the JVM starts
    session.sparkContext.setLogLevel("ERROR")
    return session


class Tables(Protocol):
    """What analysis asks of a warehouse: a table as an expression, and an expression's rows.

    :class:`Warehouse` is one; a test may hand over anything else with these methods.
    """

    def table(self, name: str) -> ir.Table: ...

    def to_pandas(self, expr: ir.Expr) -> pd.DataFrame: ...

    def manifest(self) -> dict[str, Any]: ...

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table: ...


class Warehouse:
    """The warehouse's Parquet tables, queried through one engine.

    Open one with :func:`connect`, use it as a context manager, and keep it for one piece of
    work: tables are read lazily on first use and cached for the life of the object.
    """

    def __init__(
        self,
        warehouse_dir: Location,
        engine: str = "duckdb",
        manifest: dict[str, Any] | None = None,
    ) -> None:
        """``warehouse_dir`` is a folder, or a URL (:mod:`carepool.warehouse.location`): on
        Spark any it knows, on DuckDB a ``file://`` one. ``manifest`` reads the tables of a
        state not yet committed (a build or a load deriving its tables before the commit);
        by default the committed one."""
        if engine not in ENGINES:
            raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
        if engine == "duckdb" and local_folder(warehouse_dir) is None:
            raise ConfigError(
                f"the warehouse is at {warehouse_dir}: DuckDB reads a warehouse on this "
                "machine; read one in object storage with CAREPOOL_ENGINE=spark"
            )
        self.warehouse_dir = warehouse_dir
        self.engine: str = engine
        self._spark: SparkSession | None = None
        if engine == "spark":
            # the session first: it explains a missing Spark extra before Ibis tries
            self._spark = spark_session()
            self._backend: Any = ibis.pyspark.connect(self._spark)
            self._spill: Path | None = None
        else:
            # it holds counts from before disclosure control: readable by this user alone
            # (mkdtemp's 0700); removed at close, or when collected
            try:
                self._spill = Path(tempfile.mkdtemp(prefix="carepool-duckdb-"))
            except OSError as exc:
                raise ConfigError(
                    f"DuckDB needs a folder to spill to under {tempfile.gettempdir()} and "
                    f"cannot make one ({exc.strerror or exc}); set TMPDIR to a writable folder"
                ) from None
            weakref.finalize(self, shutil.rmtree, self._spill, True)
            memory = os.environ.get(DUCKDB_MEMORY_VARIABLE) or DUCKDB_MEMORY
            try:
                self._backend = ibis.duckdb.connect(
                    memory_limit=memory, temp_directory=str(self._spill)
                )
            except Exception as exc:  # DuckDB's error for a limit it cannot read
                shutil.rmtree(self._spill, ignore_errors=True)
                raise ConfigError(
                    f"{DUCKDB_MEMORY_VARIABLE}={memory!r}: expected a size such as 2GB or "
                    f"500MB ({exc})"
                ) from None
        self._tables: dict[str, ir.Table] = {}
        self._manifest: dict[str, Any] | None = manifest
        self._closed = False

    def __repr__(self) -> str:
        return f"Warehouse({str(self.warehouse_dir)!r}, engine={self.engine!r})"

    def table(self, name: str) -> ir.Table:
        """The Ibis table over the Parquet file that the warehouse's manifest names for ``name``.

        The manifest is read once, at the first table, so every table of this warehouse comes
        from the same commit. Raises :class:`WarehouseError` naming the file when it is
        missing. A table the manifest does not list is read from ``<name>.parquet`` (tests and
        benchmarks use their own); the declared tables are listed in
        :data:`carepool.warehouse.schemas.TABLES`.
        """
        if self._closed:
            raise WarehouseError(f"{self!r} is closed")
        cached = self._tables.get(name)
        if cached is not None:
            return cached
        if not _TABLE_NAME.fullmatch(name):
            raise WarehouseError(
                f"{name!r} is not a table name (lowercase letters, digits and underscores)"
            )
        path = join(self.warehouse_dir, table_file(self.manifest(), name))
        local = local_folder(path)
        if local is None:
            found = kind(path)
        elif local.is_file():
            found = "file"
        else:  # a folder without a partition is no table
            found = "folder" if table_exists(local) else None
        if found is None:
            hint = "run `carepool build` first" if name in TABLES else "no such table"
            raise WarehouseError(f"{path}: missing; {hint}")
        # Spark reads any URL its file systems know; DuckDB the local folder
        source = spark_url(path) if self.engine == "spark" else str(local)
        # Spark keeps views per session, and every Warehouse shares the one session: a view
        # name unique in the process keeps two warehouses' tables of the same name apart.
        view = f"carepool_{name}_{next(_view_ids)}"
        table: ir.Table = (
            self._read_partitioned(source, name, view)
            if found == "folder"
            else self._backend.read_parquet(source, table_name=view)
        )
        self._tables[name] = table
        return table

    def _read_partitioned(self, path: str, name: str, view: str) -> ir.Table:
        """A hive-partitioned table (one folder per council) as one table, its columns in the
        declared order and the key a string, so that it is the same table as one file."""
        if self.engine == "spark":
            table: ir.Table = self._backend.read_parquet(path, table_name=view)
        else:
            table = self._backend.read_parquet(
                f"{path}/{PARTITION_KEY}=*/*.parquet",
                table_name=view,
                hive_partitioning=True,
                hive_types_autocast=False,  # a council code is a string, never a guess
            )
        columns = TABLES[name].names if name in TABLES else table.columns
        return table.select(
            *[table[c].cast("string").name(c) if c == PARTITION_KEY else table[c] for c in columns]
        )

    def manifest(self) -> dict[str, Any]:
        """The manifest this warehouse's tables are read by: read once, at first use, so it
        is the one the tables come from (empty for a folder of Parquet files without one)."""
        if self._manifest is None:
            self._manifest = current_manifest(self.warehouse_dir)
        return self._manifest

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table:
        """Run ``expr`` (a table, column or scalar) and return its rows as an Arrow table.

        The result has exactly the types ``expr`` declares, whichever engine ran it.
        """
        table = expr.as_table()
        result: pa.Table = self._backend.to_pyarrow(table)
        return conform_result(result, table.schema().to_pyarrow())

    def to_pandas(self, expr: ir.Expr) -> pd.DataFrame:
        """Run ``expr`` and return a pandas DataFrame (through :meth:`to_pyarrow`)."""
        frame: pd.DataFrame = self.to_pyarrow(expr).to_pandas()
        return frame

    def close(self) -> None:
        """Release the engine: drop this warehouse's Spark views, or close DuckDB.

        The shared Spark session itself stays up for the next warehouse. Safe to call twice.
        """
        if self._closed:
            return
        self._closed = True
        if self._spark is not None:
            for table in self._tables.values():
                with contextlib.suppress(Exception):  # the session may already be stopped
                    self._spark.catalog.dropTempView(table.get_name())
        else:
            self._backend.disconnect()
        if self._spill is not None:
            shutil.rmtree(self._spill, ignore_errors=True)
        self._tables.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def conform_result(result: pa.Table, schema: pa.Schema) -> pa.Table:
    """``result`` in the declared ``schema``, without engine-specific schema metadata.

    Ibis already casts results to the expression's types; this makes that a guarantee of the
    layer rather than of an Ibis version (Spark results come back through pandas and can carry
    ``large_string`` or pandas metadata).
    """
    if result.schema.names != schema.names:
        raise WarehouseError(
            f"engine returned columns {result.schema.names}, expected {schema.names}"
        )
    if not result.schema.equals(schema):
        result = result.cast(schema)
    return result.replace_schema_metadata(None)


def connect(settings: Settings | None = None, warehouse_dir: Path | None = None) -> Warehouse:
    """Open the warehouse on the configured engine (``CAREPOOL_ENGINE``, DuckDB by default),
    where ``CAREPOOL_WAREHOUSE_URL`` or the data directory says it is.

    ``warehouse_dir`` overrides the settings' folder (tests, or a second warehouse).
    """
    settings = settings or Settings.from_env()
    return Warehouse(warehouse_dir or location_of(settings), settings.engine)
