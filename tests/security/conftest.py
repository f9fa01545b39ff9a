"""Attacks on the ledger run on SQLite and on PostgreSQL, like the ledger's own tests; attacks
by a PostgreSQL login use ``owner`` and ``fund``; attacks on the loader use the loader tests'
small warehouse."""

from collections.abc import Iterator

import pytest

from carepool.ledger import Ledger
from tests.ledger.conftest import (  # noqa: F401 (fixtures, found by name)
    POSTGRES_URL,
    backend,
    database_url,
    funded,
    ledger,
    ledger_target,
    postgres_schema,
)
from tests.security.logins import THRESHOLD
from tests.warehouse.test_loader import warehouse  # noqa: F401 (a fixture, found by name)


@pytest.fixture
def owner(postgres_schema: str) -> Iterator[Ledger]:  # noqa: F811 (the fixture, by name)
    """The tables' owner (here a superuser): it may act for anyone, as the demo does."""
    with Ledger.connect(POSTGRES_URL, schema=postgres_schema) as opened:
        yield opened


@pytest.fixture
def fund(owner: Ledger) -> str:
    """A funded fund whose virements of £1 or more are held for the board."""
    return funded(owner, rules=[THRESHOLD])
