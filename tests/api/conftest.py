"""A published site: the demonstration run on a small model (two boroughs at 2%), its
public figures written, and one account (with an API token) per role."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from carepool.api import create_app, portal_database_url
from carepool.cli import app as cli
from carepool.config import Settings
from carepool.governance import Governance, Role
from carepool.ledger import Allocate, Contribute, Ledger, parse_spec
from carepool.publication import publish_fund

PASSWORD = "correct horse battery staple"

#: Account name (a fund user's name where the role posts to the ledger) and its roles.
ACCOUNTS: dict[str, tuple[str, frozenset[Role]]] = {
    "resident": ("ann.resident", frozenset({Role.RESIDENT})),
    "analyst": ("ali.analyst", frozenset({Role.ANALYST})),
    "finance": ("finance.icb", frozenset({Role.FINANCE})),
    "board": ("board.chair", frozenset({Role.BOARD})),
    "moderator": ("mo.moderator", frozenset({Role.MODERATOR})),
    "auditor": ("auditor.gm", frozenset({Role.AUDITOR})),
    "admin": ("gm.admin", frozenset({Role.ADMIN})),
}


@dataclass(frozen=True)
class Site:
    data_dir: Path
    tokens: dict[str, str]

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            engine="duckdb",
            database_url=f"sqlite:///{(self.data_dir / 'ledger.sqlite').resolve()}",
        )


@pytest.fixture(scope="session")
def published_site(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demonstration run once on the small model; tests copy it before writing."""
    data_dir = tmp_path_factory.mktemp("site")
    shutil.copytree(small_warehouse, data_dir / "warehouse")
    result = CliRunner().invoke(cli, ["demo"], env={"CAREPOOL_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert (data_dir / "public" / "fund" / "checkpoint.json").is_file()
    return data_dir


@pytest.fixture(scope="session")
def prepared_site(published_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The published site with next year's fund open and an account and API token per role:
    made once a session (hashing seven passwords and posting the fund is most of a site's
    cost); each test works on a copy of it."""
    data_dir = tmp_path_factory.mktemp("prepared") / "data"
    shutil.copytree(published_site, data_dir)
    settings = Site(data_dir, {}).settings()
    open_next_year(settings)
    tokens = {}
    with Governance.connect(portal_database_url(settings)) as governance:
        for role, (name, roles) in ACCOUNTS.items():
            governance.add_account(name, PASSWORD, roles)
            tokens[role] = governance.issue_token(name).secret
    return Site(data_dir, tokens)


@pytest.fixture
def site(prepared_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """A private copy of the prepared site: what one test writes no other test sees."""
    data_dir = tmp_path / "data"
    shutil.copytree(prepared_site.data_dir, data_dir)
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(data_dir))
    monkeypatch.delenv("CAREPOOL_DATABASE_URL", raising=False)
    monkeypatch.delenv("CAREPOOL_PORTAL_DATABASE_URL", raising=False)
    return Site(data_dir, dict(prepared_site.tokens))


#: The fund the portal's officers work on: next year's, open, its budget set.
LIVE_FUND = "gm-2027-28"


def open_next_year(settings: Settings) -> None:
    """Open next year's fund beside the demonstration's closed one, contribute and allocate,
    and publish it: the fund officers now work on."""
    with Ledger.connect(settings.database_url) as ledger:
        (closed,) = ledger.funds()
        spec = ledger.spec(closed).model_dump(mode="json")
        spec["fund"] |= {"id": LIVE_FUND, "year": "2027-28"}
        ledger.open_fund(parse_spec(spec, "next year"), actor="gm.admin", request_id="open")
        ledger.post(
            LIVE_FUND,
            Contribute(partner="QOP", amount_pence=10_000_000_00),
            actor="finance.icb",
            request_id="contribute",
        )
        ledger.post(
            LIVE_FUND,
            Contribute(partner="E08000003", amount_pence=1_000_000_00),
            actor="finance.E08000003",
            request_id="contribute-council",
        )
        ledger.post(
            LIVE_FUND,
            Allocate(allocations=[("adult_social_care:E08000003", 1_000_000_00)]),
            actor="finance.icb",
            request_id="allocate-council",
        )
        ledger.post(
            LIVE_FUND,
            Allocate(
                allocations=[
                    ("acute:E08000003", 9_000_000_00),
                    ("community:E08000003", 1_000_000_00),
                ]
            ),
            actor="finance.icb",
            request_id="allocate",
        )
        publish_fund(settings, ledger, LIVE_FUND)


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(Settings.from_env())) as test_client:
        yield test_client
