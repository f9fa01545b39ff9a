"""The ledger's store: its tables, the database connection, and one write transaction.

The append-only tables (``schema``, created by the Alembic ``migrations``), engines,
migration and retried write transactions (``database``), a fund's registries (``registries``),
the transaction that chains and buffers entries under the fund's lock (``writer``, with
PostgreSQL's own statements in ``postgres``) and concurrent requests sharing a transaction
(``group_commit``).
"""
