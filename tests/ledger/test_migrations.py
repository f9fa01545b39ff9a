"""The Alembic migrations build exactly the tables the code describes, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from carepool.ledger import Ledger
from carepool.ledger.store.database import is_current, migrate
from carepool.ledger.store.schema import SQLITE_ONLY_KEYS, metadata


def test_migrated_database_matches_the_schema(ledger: Ledger) -> None:
    postgres = ledger.engine.dialect.name == "postgresql"

    def compared(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        return not (postgres and type_ == "foreign_key_constraint" and name in SQLITE_ONLY_KEYS)

    with ledger.engine.connect() as connection:
        options = {"compare_type": True, "include_object": compared}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, metadata)
    assert differences == []
    assert is_current(ledger.engine)


def test_the_keys_checked_per_statement_are_foreign_keys_only_on_sqlite(ledger: Ledger) -> None:
    inspector = inspect(ledger.engine)
    keys = {
        key["name"]
        for table in ("journal", "postings")
        for key in inspector.get_foreign_keys(table)
    }
    if ledger.engine.dialect.name == "postgresql":
        assert keys.isdisjoint(SQLITE_ONLY_KEYS)
    else:
        assert keys >= SQLITE_ONLY_KEYS


def test_migrating_again_changes_nothing(ledger: Ledger) -> None:
    migrate(ledger.engine)
    assert is_current(ledger.engine)
