"""The portal's tables and database (see :mod:`carepool.governance.store.schema`)."""
