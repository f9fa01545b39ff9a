"""Every ledger test runs twice: on SQLite and on PostgreSQL.

PostgreSQL is the machine's server (``postgresql://postgres@127.0.0.1:5432/test``) or
``CAREPOOL_TEST_POSTGRES_URL``. Each test session works in a schema of its own, dropped at
the end. When no server answers, the tests fail (never skip) with a message saying how to
start one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from carepool.ledger import Allocate, Contribute, FundSpec, Ledger, migrate, parse_spec
from carepool.ledger.store.database import database_url as driver_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_URL = os.environ.get("CAREPOOL_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
HOW_TO_START = (
    "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
    "(or `sudo service postgresql start`), or point CAREPOOL_TEST_POSTGRES_URL at a server "
    "where the user may create schemas"
)
BACKENDS = ("sqlite", "postgresql")
GROUPS = ("carepool_writer", "carepool_opener", "carepool_auditor", "carepool_public")


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the test server for this session, dropped afterwards."""
    engine = create_engine(driver_url(POSTGRES_URL))
    name = f"carepool_test_{uuid.uuid4().hex[:10]}"
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {name}"))
    except OperationalError as exc:
        pytest.fail(
            f"the ledger tests need PostgreSQL, and none answers at {POSTGRES_URL} "
            f"({exc.orig}); {HOW_TO_START}",
            pytrace=False,
        )
    migrate(POSTGRES_URL, schema=name)  # as its owner, as `carepool db migrate` does
    yield name
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


def login_url(url: str, user: str, group: str = "carepool_writer") -> str:
    """``url`` as the PostgreSQL login ``user`` (a member of ``group`` only), made if new:
    on PostgreSQL who acts is the database login, so each user of a test fund logs in as
    themselves. Logins are the server's, shared by the test schemas, as in a deployment."""
    engine = create_engine(driver_url(POSTGRES_URL))
    with engine.begin() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :user"), {"user": user}
        ).first()
        if exists is None:
            connection.exec_driver_sql(f'CREATE ROLE "{user}" LOGIN')
        for other in GROUPS:  # exactly this group: a login's groups are the server's
            if other != group:
                connection.exec_driver_sql(f'REVOKE {other} FROM "{user}"')
        connection.exec_driver_sql(f'GRANT {group} TO "{user}"')
    engine.dispose()
    return make_url(driver_url(url)).set(username=user).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ledger_target(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, str | None]:
    """(URL, schema) of a ledger database for this test on ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}", None
    return POSTGRES_URL, request.getfixturevalue("postgres_schema")


@pytest.fixture
def ledger(ledger_target: tuple[str, str | None]) -> Iterator[Ledger]:
    url, schema = ledger_target
    opened = Ledger.connect(url, schema=schema)
    yield opened
    opened.close()


def fund_spec(fund_id: str | None = None, **overrides: Any) -> FundSpec:
    """A small two-partner fund: the NHS hosts; one council; two lines each; five users."""
    data: dict[str, Any] = {
        "fund": {
            "id": fund_id or f"f-{uuid.uuid4().hex[:12]}",
            "name": "Test pooled fund",
            "year": "2026-27",
            "kind": "pooled",
            "host": "NHS",
        },
        "partners": [
            {"id": "NHS", "name": "NHS Test ICB", "kind": "nhs_commissioner"},
            {"id": "C1", "name": "Test Council", "kind": "council"},
        ],
        "users": [
            {"name": "t.admin", "roles": ["admin"]},
            {"name": "t.nhs", "partner": "NHS", "roles": ["finance"]},
            {"name": "t.council", "partner": "C1", "roles": ["finance"]},
            {"name": "t.board1", "roles": ["board"]},
            {"name": "t.board2", "roles": ["board"]},
            {"name": "t.auditor", "roles": ["auditor"]},
            {"name": "t.public", "roles": ["public"]},
        ],
        "lines": [
            {"id": "acute", "service": "acute", "place": "C1", "partner": "NHS"},
            {"id": "mh", "service": "mental_health", "place": "C1", "partner": "NHS"},
            {"id": "asc", "service": "adult_social_care", "place": "C1", "partner": "C1"},
            {"id": "ph", "service": "public_health", "place": "C1", "partner": "C1"},
        ],
        "rules": [],
    }
    data.update(overrides)
    return parse_spec(data, "test spec")


def open_fund(ledger: Ledger, **overrides: Any) -> str:
    spec = fund_spec(**overrides)
    ledger.open_fund(spec, actor="t.admin", request_id=f"open-{spec.fund.id}")
    return spec.fund.id


def funded(ledger: Ledger, nhs: int = 10_000, council: int = 5_000, **overrides: Any) -> str:
    """A fund with contributions from both partners, allocated across its four lines."""
    fund = open_fund(ledger, **overrides)
    ledger.post(
        fund, Contribute(partner="NHS", amount_pence=nhs), actor="t.nhs", request_id="c-nhs"
    )
    ledger.post(
        fund, Contribute(partner="C1", amount_pence=council), actor="t.council", request_id="c-c1"
    )
    total = nhs + council
    ledger.post(
        fund,
        Allocate(
            allocations=[
                ("acute", total * 4 // 10),
                ("mh", total * 2 // 10),
                ("asc", total * 3 // 10),
                ("ph", total - total * 9 // 10),
            ]
        ),
        actor="t.nhs",
        request_id="alloc",
    )
    return fund


def entries(ledger: Ledger, fund: str) -> int:
    return ledger.verify(fund).entries


@pytest.fixture
def database_url(ledger_target: tuple[str, str | None]) -> str:
    """The ledger database as one URL, as a user sets ``CAREPOOL_DATABASE_URL``."""
    url, schema = ledger_target
    return url if schema is None else f"{url}?options=-csearch_path%3D{schema}"
