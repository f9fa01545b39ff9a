"""The portal posts as the person signed in, by the database's own mechanism: its login is
a member of each person's role and connects as that role (``-c role=NAME``). The database
then checks every entry's actor against the person, as when they log in themselves; a person
the portal's login was not granted cannot be acted for at all. On PostgreSQL, as real logins.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from carepool.errors import CarepoolError, PermissionDenied
from carepool.ledger import Ledger, Spend
from carepool.ledger.store.database import database_url as driver_url
from tests.ledger.conftest import POSTGRES_URL, funded, login_url

PORTAL_LOGIN = "carepool_portal_test"


@pytest.fixture
def portal_url() -> str:
    """The portal's own login: no privileges of its own, a member of ``t.nhs``'s role only."""
    login_url(POSTGRES_URL, "t.nhs")  # the person's login role, a writer
    login_url(POSTGRES_URL, "t.council")
    admin = create_engine(driver_url(POSTGRES_URL))
    with admin.begin() as c:
        if (
            c.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{PORTAL_LOGIN}'").first()
            is None
        ):
            c.exec_driver_sql(f"CREATE ROLE {PORTAL_LOGIN} LOGIN NOINHERIT")
        c.exec_driver_sql(f'REVOKE "t.council" FROM {PORTAL_LOGIN}')
        c.exec_driver_sql(f'GRANT "t.nhs" TO {PORTAL_LOGIN}')
    admin.dispose()
    return (
        make_url(driver_url(POSTGRES_URL))
        .set(username=PORTAL_LOGIN)
        .render_as_string(hide_password=False)
    )


def test_the_portal_posts_as_the_person_and_the_database_checks_it(
    owner: Ledger, postgres_schema: str, portal_url: str
) -> None:
    fund = funded(owner)
    url = f"{portal_url}?options=-csearch_path%3D{postgres_schema}"
    with Ledger.connect(url, create=False, role="t.nhs") as as_person:
        assert as_person.login == "t.nhs"
        receipt = as_person.post(
            fund, Spend(line="acute", amount_pence=100), actor="t.nhs", request_id="portal-1"
        )
        assert receipt.status == "posted"
        # the ledger refuses to name anyone else; so would the database's trigger
        with pytest.raises(PermissionDenied, match="may act only as that user"):
            as_person.post(
                fund, Spend(line="asc", amount_pence=1), actor="t.council", request_id="p-2"
            )
    journal = owner.journal(fund, actor="t.auditor")
    assert journal.iloc[-1]["actor"] == "t.nhs"


def test_a_person_the_portal_was_not_granted_cannot_be_acted_for(
    owner: Ledger, postgres_schema: str, portal_url: str
) -> None:
    funded(owner)
    url = f"{portal_url}?options=-csearch_path%3D{postgres_schema}"
    with pytest.raises((CarepoolError, Exception), match="permission denied to set role"):
        Ledger.connect(url, create=False, role="t.council")


def test_a_role_name_cannot_smuggle_options(portal_url: str) -> None:
    with pytest.raises(PermissionDenied, match="cannot be a database role"):
        Ledger.connect(portal_url, create=False, role="t.nhs -c role=postgres")
