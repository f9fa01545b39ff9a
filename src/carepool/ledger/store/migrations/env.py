"""Alembic environment: migrations run on a connection handed over by carepool.

carepool runs migrations programmatically (:func:`carepool.ledger.store.database.migrate`), so there
is no ``alembic.ini``; the caller puts an open connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from carepool.ledger.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
