"""The Alembic migrations build exactly the tables the code describes, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from carepool.ledger import Ledger
from carepool.ledger.store.database import is_current, migrate
from carepool.ledger.store.schema import metadata


def test_migrated_database_matches_the_schema(ledger: Ledger) -> None:
    with ledger.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
    assert is_current(ledger.engine)


def test_migrating_again_changes_nothing(ledger: Ledger) -> None:
    migrate(ledger.engine)
    assert is_current(ledger.engine)
