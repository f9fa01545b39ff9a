"""Settings, read once from the environment.

``CAREPOOL_DATA_DIR`` (default ``./carepool-data``) is where the warehouse and every other
output goes; ``CAREPOOL_ENGINE`` chooses the query engine (``duckdb``, the default, or
``spark``); ``CAREPOOL_DATABASE_URL`` is the ledger's database (default: the SQLite file
``ledger.sqlite`` in the data directory; ``postgresql://user@host/db`` for PostgreSQL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from carepool.errors import ConfigError

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    engine: str
    database_url: str = ""

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

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
        return cls(data_dir=data_dir, engine=engine, database_url=database_url)
