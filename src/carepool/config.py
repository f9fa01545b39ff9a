"""Settings, read once from the environment.

``CAREPOOL_DATA_DIR`` (default ``./carepool-data``) is where the warehouse and every other
output goes; ``CAREPOOL_ENGINE`` chooses the query engine (``duckdb``, the default, or
``spark``); ``CAREPOOL_DATABASE_URL`` is the ledger's database (default: the SQLite file
``ledger.sqlite`` in the data directory; ``postgresql://user@host/db`` for PostgreSQL);
``CAREPOOL_WAREHOUSE_URL`` is where the warehouse is, when not in the data directory: a path,
or a URL the commands that read the model take it from (``s3://bucket/warehouse`` on Spark;
:mod:`carepool.warehouse.location`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from carepool.errors import ConfigError

ENGINES = ("duckdb", "spark")


def local_path(location: str) -> Path | None:
    """The folder on this machine a warehouse location names (a path, or a ``file://`` URL);
    None for a URL of any other scheme. A ``file://`` URL naming another host, or with a
    query or fragment, is refused: it names no folder here."""
    parts = urlsplit(location)
    if not parts.scheme or is_drive(parts.scheme):
        return Path(location)
    if parts.scheme.lower() != "file":
        return None
    path = unquote(parts.path)
    local_host = parts.netloc.lower() in ("", "localhost")
    if not local_host or parts.query or parts.fragment or not path.startswith("/"):
        raise ConfigError(
            f"CAREPOOL_WAREHOUSE_URL={location!r}: a file:// URL names a folder on this machine "
            "by its whole path (file:///path/to/warehouse), without a host, query or fragment"
        )
    return Path(path)


def is_drive(scheme: str) -> bool:
    """Whether a URL's scheme is a Windows drive letter (``C:\\data`` is a path)."""
    return len(scheme) == 1 and scheme.isalpha()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    engine: str
    database_url: str = ""
    #: ``CAREPOOL_WAREHOUSE_URL`` as given; empty for the data directory's ``warehouse``.
    warehouse_url: str = ""

    @property
    def warehouse_dir(self) -> Path:
        """The warehouse's folder on this machine, which building and loading write; a clear
        error when ``CAREPOOL_WAREHOUSE_URL`` names object storage, which is read only."""
        if not self.warehouse_url:
            return self.data_dir / "warehouse"
        folder = local_path(self.warehouse_url)
        if folder is None:
            raise ConfigError(
                f"CAREPOOL_WAREHOUSE_URL={self.warehouse_url}: this command needs the warehouse "
                "on this machine. A URL is read only, with CAREPOOL_ENGINE=spark, by the "
                "commands that read the model (indicators, allocate, validate, info). Build on "
                "a local disk, then copy the folder to the object store."
            )
        return folder

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("CAREPOOL_DATA_DIR", "carepool-data"))
        engine = os.environ.get("CAREPOOL_ENGINE", "duckdb").strip().lower() or "duckdb"
        if engine not in ENGINES:
            raise ConfigError(
                f"CAREPOOL_ENGINE={engine!r} is not supported; expected one of {', '.join(ENGINES)}"
            )
        database_url = os.environ.get("CAREPOOL_DATABASE_URL", "").strip()
        if not database_url:
            database_url = f"sqlite:///{(data_dir / 'ledger.sqlite').resolve()}"
        warehouse_url = os.environ.get("CAREPOOL_WAREHOUSE_URL", "").strip()
        return cls(data_dir, engine, database_url, warehouse_url)
