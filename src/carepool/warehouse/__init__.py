"""The analytical warehouse: Parquet tables, their schemas, and the query engine."""

from carepool.warehouse.connection import Tables, Warehouse, connect
from carepool.warehouse.loader import LoadResult, load_file
from carepool.warehouse.schemas import CONDITIONS, TABLES, Column, Kind, TableSchema
from carepool.warehouse.store import (
    mixed_sources,
    read_manifest,
    table_path,
    write_manifest,
    write_table,
)

__all__ = [
    "CONDITIONS",
    "TABLES",
    "Column",
    "Kind",
    "LoadResult",
    "TableSchema",
    "Tables",
    "Warehouse",
    "connect",
    "load_file",
    "mixed_sources",
    "read_manifest",
    "table_path",
    "write_manifest",
    "write_table",
]
