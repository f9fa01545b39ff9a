"""Attacks on the ledger run on SQLite and on PostgreSQL, like the ledger's own tests; attacks
on the loader use the loader tests' small warehouse."""

from tests.ledger.conftest import (  # noqa: F401 (fixtures, found by name)
    backend,
    database_url,
    ledger,
    ledger_target,
    postgres_schema,
)
from tests.warehouse.test_loader import warehouse  # noqa: F401 (a fixture, found by name)
