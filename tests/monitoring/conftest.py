"""The monitors read a ledger: its fixtures, on SQLite and on PostgreSQL, as the ledger's tests."""

from tests.ledger.conftest import backend, ledger, ledger_target, postgres_schema

__all__ = ["backend", "ledger", "ledger_target", "postgres_schema"]
