"""Alembic environment for the portal's tables: run on a connection handed over by carepool
(:func:`carepool.governance.store.database.migrate`), with a version table of its own so the
portal's tables may share a database with the ledger's."""

from __future__ import annotations

from alembic import context

from carepool.governance.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    version_table="carepool_portal_version",
)
with context.begin_transaction():
    context.run_migrations()
