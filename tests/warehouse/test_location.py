"""Where the warehouse is (``CAREPOOL_WAREHOUSE_URL``) and how Spark is pointed at a cluster.

A ``file://`` URL takes the road an ``s3://`` one does (the manifest through Arrow's file
systems, the tables by URL to Spark), so these tests run it with local folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import carepool
from carepool.cli import app
from carepool.config import Settings
from carepool.errors import ConfigError, WarehouseError
from carepool.indicators import indicator_table
from carepool.warehouse import read_manifest, refuse_foreign
from carepool.warehouse.connection import (
    SPARK_CONFIG,
    SPARK_MASTER,
    Warehouse,
    read_spark_conf,
    spark_settings,
    submitted_settings,
)
from carepool.warehouse.location import join, kind, local_folder, parse_location, spark_url

runner = CliRunner()


def test_a_path_is_a_folder_and_a_url_is_kept_as_given() -> None:
    assert parse_location("data/warehouse") == Path("data/warehouse")
    assert parse_location("file:///srv/carepool/warehouse/") == "file:///srv/carepool/warehouse"
    assert parse_location("s3://health-data/carepool") == "s3://health-data/carepool"
    assert local_folder("file:///srv/carepool%20data") == Path("/srv/carepool data")
    assert local_folder("s3://health-data/carepool") is None
    # Hadoop's file system for S3 is s3a; Arrow's is s3
    assert (
        spark_url("s3://health-data/carepool/x.parquet") == "s3a://health-data/carepool/x.parquet"
    )
    assert spark_url("gs://bucket/w") == "gs://bucket/w"


def test_a_local_folder_is_a_file_uri_to_spark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare path would be resolved against a cluster's default file system (HDFS on YARN);
    Hadoop's paths are not percent-encoded."""
    monkeypatch.chdir(tmp_path)
    assert spark_url(Path("w a")) == f"file://{Path.cwd()}/w a"
    assert spark_url("file:///srv/carepool%20data/") == "file:///srv/carepool data"


def test_the_edges_of_a_location() -> None:
    assert parse_location("file:///") == "file:///"
    assert parse_location("s3://health-data/") == "s3://health-data"
    assert join(parse_location("s3://health-data/"), "manifest.json") == (
        "s3://health-data/manifest.json"
    )
    assert parse_location(r"C:\carepool\warehouse") == Path(r"C:\carepool\warehouse")
    assert parse_location("D:/carepool") == Path("D:/carepool")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.org/warehouse", "expected a path or a URL beginning file://, s3://"),
        ("file://server/share/warehouse", "names a folder on this machine"),
        ("file:///srv/warehouse?version=2", "without a host, query or fragment"),
        ("file:///srv/warehouse#top", "without a host, query or fragment"),
        ("s3://health-data/carepool?versionId=3", "without a query or fragment"),
        ("gs://health-data/carepool#x", "without a query or fragment"),
    ],
)
def test_a_url_carepool_cannot_read_is_refused(url: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_location(url)


@pytest.mark.parametrize(
    "url",
    [
        "file://server/share/warehouse",
        "file:///srv/w?x=1",
        "file:///srv/w#x",
        "file:relative/w",
        "file:",
        "file://",
        "file://localhost",
    ],
)
def test_a_build_refuses_a_file_url_the_readers_refuse(url: str, tmp_path: Path) -> None:
    """Writing and reading agree on what a ``file://`` URL names: not the local ``/share``
    for another host's share, nor a folder relative to wherever the command runs."""
    with pytest.raises(ConfigError, match="names a folder on this machine"):
        _ = Settings(tmp_path, "duckdb", warehouse_url=url).warehouse_dir
    with pytest.raises(ConfigError, match="names a folder on this machine"):
        parse_location(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///srv/carepool/warehouse",
        "file:///srv/carepool/warehouse///",
        "file://localhost/srv/w",
        "file://LOCALHOST/srv/w",
        "FILE:///srv/w",
        "file:/srv/w",
        "file:////srv/w",
        "file:///srv/carepool%20data",
        "file:///",
    ],
)
def test_the_writers_and_the_readers_find_the_same_folder(url: str, tmp_path: Path) -> None:
    written = Settings(tmp_path, "duckdb", warehouse_url=url).warehouse_dir
    assert local_folder(parse_location(url)) == written


def test_writing_needs_the_warehouse_on_this_machine(tmp_path: Path) -> None:
    local = Settings(tmp_path, "duckdb", warehouse_url=f"file://{tmp_path}/w")
    assert local.warehouse_dir == tmp_path / "w"
    assert Settings(tmp_path, "duckdb", warehouse_url="w2").warehouse_dir == Path("w2")
    remote = Settings(tmp_path, "spark", warehouse_url="s3://health-data/carepool")
    with pytest.raises(ConfigError, match="needs the warehouse on this machine"):
        _ = remote.warehouse_dir


def test_build_into_object_storage_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CAREPOOL_WAREHOUSE_URL", "s3://health-data/carepool")
    result = runner.invoke(app, ["build", "--region", "E06000053"])
    assert result.exit_code != 0
    assert "Build on a local disk, then copy the folder" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []


def test_duckdb_refuses_object_storage_and_names_spark() -> None:
    with pytest.raises(ConfigError, match="CAREPOOL_ENGINE=spark"):
        Warehouse("s3://health-data/carepool", "duckdb")


def test_the_manifest_is_read_through_a_url(small_warehouse: Path, tmp_path: Path) -> None:
    url = small_warehouse.as_uri()
    assert read_manifest(url) == read_manifest(small_warehouse)
    assert kind(f"{url}/manifest.json") == "file"
    assert kind(url) == "folder"
    assert kind(f"{url}/nothing.parquet") is None
    with pytest.raises(WarehouseError, match="no warehouse at file://"):
        read_manifest(tmp_path.as_uri())


def _indicators(env: dict[str, str]) -> list[dict[str, object]]:
    command = [sys.executable, "-m", "carepool", "indicators", "--level", "lad", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


@pytest.mark.spark
def test_the_commands_read_a_warehouse_by_url_on_either_engine(
    small_warehouse: Path, tmp_path: Path
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREPOOL_")}
    by_path = _indicators({**base, "CAREPOOL_DATA_DIR": str(small_warehouse.parent)})
    url = {
        **base,
        "CAREPOOL_DATA_DIR": str(tmp_path),
        "CAREPOOL_WAREHOUSE_URL": small_warehouse.as_uri(),
    }
    assert _indicators(url) == by_path
    spark = _indicators({**url, "CAREPOOL_ENGINE": "spark"})
    assert len(spark) == len(by_path) > 20
    for duck_row, spark_row in zip(by_path, spark, strict=True):
        assert duck_row.keys() == spark_row.keys()
        for key, value in duck_row.items():
            if isinstance(value, float):
                assert spark_row[key] == pytest.approx(value, rel=1e-9)
            else:
                assert spark_row[key] == value, key
    assert list(tmp_path.iterdir()) == []  # nothing was written beside the data directory


def test_spark_runs_locally_unless_told_otherwise(tmp_path: Path) -> None:
    master, conf = spark_settings({})
    assert master == SPARK_MASTER
    assert conf == SPARK_CONFIG
    file = tmp_path / "cluster.conf"
    file.write_text(
        "# the cluster's settings\n"
        "spark.executor.memory   8g\n"
        "spark.sql.shuffle.partitions=400\n"
        "\n"
        "spark.hadoop.fs.s3a.endpoint https://s3.eu-west-2.amazonaws.com\n"
    )
    environ = {"CAREPOOL_SPARK_MASTER": "spark://10.0.0.5:7077", "CAREPOOL_SPARK_CONF": str(file)}
    master, conf = spark_settings(environ)
    assert master == "spark://10.0.0.5:7077"
    assert conf["spark.executor.memory"] == "8g"
    assert conf["spark.sql.shuffle.partitions"] == "400"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "https://s3.eu-west-2.amazonaws.com"
    assert conf["spark.sql.ansi.enabled"] == "true"  # carepool's own, where the file is silent
    # executors on other machines must reach the driver: no loopback address off this machine
    assert "spark.driver.host" not in conf
    assert "spark.driver.bindAddress" not in conf


def test_spark_submit_settings_stand() -> None:
    given = {"spark.master", "spark.sql.shuffle.partitions", "spark.driver.host"}
    added = submitted_settings(given)
    assert "spark.sql.shuffle.partitions" not in added  # spark-submit's stands
    assert added["spark.sql.session.timeZone"] == "UTC"
    assert added["spark.sql.ansi.enabled"] == "true"
    # the driver, the master and the application are spark-submit's alone
    assert all(key.startswith("spark.sql.") for key in added)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("spark.executor.memory 8g\nexecutor.cores 4\n", 2),
        ("spark.executor.memory\n", 1),
    ],
)
def test_a_bad_spark_settings_file_names_the_file_and_line(
    tmp_path: Path, text: str, line: int
) -> None:
    file = tmp_path / "spark.conf"
    file.write_text(text)
    with pytest.raises(ConfigError, match=rf"spark.conf, line {line}: expected a Spark setting"):
        read_spark_conf(file)
    with pytest.raises(ConfigError, match="cannot be read"):
        read_spark_conf(tmp_path / "missing.conf")


@pytest.mark.spark
def test_spark_submit_runs_carepool_with_its_own_settings(small_warehouse: Path) -> None:
    """The documented cluster command, with a local master: spark-submit starts carepool's
    command line, which reads the warehouse by URL under spark-submit's settings."""
    submit = Path(sys.executable).parent / "spark-submit"
    entry = Path(carepool.__file__).parent / "__main__.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPOOL_")}
    env |= {"CAREPOOL_ENGINE": "spark", "CAREPOOL_WAREHOUSE_URL": small_warehouse.as_uri()}
    env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    command = [
        str(submit),
        "--master",
        "local[1]",
        "--conf",
        "spark.sql.shuffle.partitions=3",
        "--conf",
        "spark.ui.enabled=false",
        str(entry),
        "indicators",
        "--level",
        "lad",
        "--json",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout)
    with Warehouse(small_warehouse) as wh:
        expected = indicator_table(wh, levels=["lad"])
    published = {(r["indicator"], r["place"], r["period"]): r["value"] for r in rows}
    columns = ["indicator", "place", "period", "value"]
    wanted = {(i, p, y): v for i, p, y, v in expected[columns].itertuples(index=False)}
    assert published.keys() == wanted.keys()
    shown = {key: value for key, value in wanted.items() if value == value}  # not NaN
    assert len(shown) > 20
    assert {key for key, value in published.items() if value is not None} == shown.keys()
    for key, value in shown.items():
        assert published[key] == pytest.approx(value, rel=1e-9)


@pytest.mark.spark
def test_under_spark_submit_its_settings_stand_and_carepool_adds_its_own(tmp_path: Path) -> None:
    script = tmp_path / "settings.py"
    script.write_text(
        "from carepool.warehouse.connection import spark_session\n"
        "s = spark_session()\n"
        "print(s.sparkContext.master, s.conf.get('spark.sql.shuffle.partitions'),"
        " s.conf.get('spark.sql.session.timeZone'), s.conf.get('spark.sql.ansi.enabled'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPOOL_")}
    env["CAREPOOL_SPARK_MASTER"] = "local[2]"  # spark-submit's master wins over this
    env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    submit = Path(sys.executable).parent / "spark-submit"
    command = [str(submit), "--master", "local[1]", "--conf", "spark.sql.shuffle.partitions=3"]
    done = subprocess.run(
        [*command, str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["local[1]", "3", "UTC", "true"]


def test_a_folder_that_is_not_a_warehouse_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build replaces a folder without a manifest whole: one that holds a user's own files
    (CAREPOOL_WAREHOUSE_URL pointed at the wrong folder) is refused before any work."""
    mine = tmp_path / "projects"
    mine.mkdir()
    (mine / "budget.xlsx").write_text("mine")
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CAREPOOL_WAREHOUSE_URL", str(mine))
    result = runner.invoke(app, ["build", "--region", "E06000053"])
    assert result.exit_code != 0
    assert "holds files that are not a warehouse's (budget.xlsx)" in " ".join(result.output.split())
    assert [p.name for p in mine.iterdir()] == ["budget.xlsx"]
    with pytest.raises(WarehouseError, match="will not build there"):
        refuse_foreign(mine)  # as replace_warehouse does before it retires a folder
    assert (mine / "budget.xlsx").read_text() == "mine"
