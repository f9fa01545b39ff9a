"""Attacks on the ledger run on SQLite and on PostgreSQL, like the ledger's own tests."""

from tests.ledger.conftest import (  # noqa: F401 (fixtures, found by name)
    backend,
    ledger,
    ledger_target,
    postgres_schema,
)
