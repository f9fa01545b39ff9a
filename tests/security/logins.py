"""Acting as a person's own PostgreSQL login, for the attacks a login could try.

Logins are made by :func:`tests.ledger.conftest.login_url` (one group each, as a database's
administrator would); the ledger's tables live in the test session's schema.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, create_engine

from carepool.ledger import Ledger
from tests.ledger.conftest import POSTGRES_URL, login_url

#: Virements of £1 or more are held for the board: a fund with a decision to make.
THRESHOLD = {
    "name": "large-virements",
    "kind": "virement",
    "min_pence": 100,
    "reason": "virements of £1 or more need the board",
}


def as_login(user: str, schema: str, group: str = "carepool_writer") -> Ledger:
    """The ledger as ``user`` sees it, logged in as themselves."""
    return Ledger.connect(login_url(POSTGRES_URL, user, group), schema=schema)


def run_as(
    user: str, schema: str, work: Callable[[Connection], object], group: str = "carepool_writer"
) -> None:
    """Run ``work(connection)`` as the login ``user``, in one transaction, round the ledger."""
    engine = create_engine(login_url(POSTGRES_URL, user, group))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SET search_path = {schema}")
            work(connection)
    finally:
        engine.dispose()


def sql_as(user: str, schema: str, statement: str, group: str = "carepool_writer") -> None:
    """Run one SQL ``statement`` as the login ``user``, in its own transaction."""
    run_as(user, schema, lambda connection: connection.exec_driver_sql(statement), group)
