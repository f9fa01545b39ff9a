"""The analytical warehouse: Parquet tables, their schemas, the query engine and the loader."""

from carepool.warehouse.connection import ENGINES, Tables, Warehouse, connect
from carepool.warehouse.loading import (
    SELF_PAYER,
    KnownCodes,
    LoadResult,
    load_file,
    loadable_schema,
    validate_file,
)
from carepool.warehouse.schemas import (
    ASC_FUNDING,
    ASC_SETTINGS,
    CONDITIONS,
    DEATH_CAUSES,
    PAYER_KINDS,
    PERSON_YEAR,
    SEXES,
    TABLES,
    Column,
    Kind,
    TableSchema,
)
from carepool.warehouse.store import (
    MANIFEST,
    mixed_sources,
    read_manifest,
    table_path,
    write_manifest,
    write_table,
    write_table_parts,
)

__all__ = [
    "ASC_FUNDING",
    "ASC_SETTINGS",
    "CONDITIONS",
    "DEATH_CAUSES",
    "ENGINES",
    "MANIFEST",
    "PAYER_KINDS",
    "PERSON_YEAR",
    "SELF_PAYER",
    "SEXES",
    "TABLES",
    "Column",
    "Kind",
    "KnownCodes",
    "LoadResult",
    "TableSchema",
    "Tables",
    "Warehouse",
    "connect",
    "load_file",
    "loadable_schema",
    "mixed_sources",
    "read_manifest",
    "table_path",
    "validate_file",
    "write_manifest",
    "write_table",
    "write_table_parts",
]
