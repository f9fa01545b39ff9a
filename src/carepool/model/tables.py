"""The warehouse's tables as a partner sees them: each column's type, loading rule and meaning,
(loading one is :func:`carepool.warehouse.load_file`)."""

from __future__ import annotations

from typing import Any

from carepool.errors import ConfigError
from carepool.warehouse import TABLES, Column, Kind, TableSchema

#: What ``carepool load`` checks for each kind of column, in words.
RULES = {
    Kind.LSOA: "LSOA 2021 code of the model",
    Kind.LAD: "local authority code of the model",
    Kind.PAYER: "ICB or council code of the model, or SELF",
    Kind.NHS_NUMBER: "NHS number with a valid check digit",
    Kind.MONEY: "integer pence, not negative",
    Kind.COUNT: "whole number, not negative",
    Kind.DATE: "date YYYY-MM-DD",
    Kind.YEAR: "financial year such as 2024-25",
}


def column_rule(column: Column, pseudonyms: bool) -> str:
    """The loading rule of one column, in words ("" for a column of plain type)."""
    if column.kind == Kind.CATEGORY:
        return "one of: " + ", ".join(column.categories)
    if column.kind == Kind.NHS_NUMBER and pseudonyms:
        return "NHS number (check digit) or pseudonym P:<16-64 hex>"
    return RULES.get(column.kind, "")


def table_schemas(name: str | None = None) -> list[TableSchema]:
    """One table's schema, or every table's; an unknown name is a usage error."""
    names = [name] if name else list(TABLES)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise ConfigError(f"no warehouse table {unknown[0]!r}; tables: {', '.join(TABLES)}")
    return [TABLES[n] for n in names]


def describe(spec: TableSchema) -> dict[str, Any]:
    """A table's schema as plain data: its key, whether it loads, and each column's rule."""
    return {
        "table": spec.name,
        "doc": spec.doc,
        "key": list(spec.key),
        "loadable": spec.loadable,
        "columns": [
            {
                "name": c.name,
                "type": str(c.type),
                "rule": column_rule(c, spec.pseudonymised_ids),
                "required": not c.nullable,
                "doc": c.doc,
            }
            for c in spec.columns
        ],
    }
