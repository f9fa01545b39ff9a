"""A ledger whose fund pools the small model's places, with an analyst among its users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ledger.conftest import fund_spec

from carepool.ledger import FundSpec, Ledger
from carepool.prevention import Principal

PLACES = ("E08000003", "E08000009")
USERS = [
    {"name": "t.admin", "roles": ["admin"]},
    {"name": "t.analyst", "roles": ["analyst"]},
    {"name": "t.auditor", "roles": ["auditor"]},
    {"name": "t.public", "roles": ["public"]},
]


def model_fund(fund_id: str = "model-fund") -> FundSpec:
    """A fund pooling the small model's two boroughs."""
    partners = [{"id": "NHS", "name": "NHS Test ICB", "kind": "nhs_commissioner"}]
    partners += [{"id": p, "name": f"Council {p}", "kind": "council"} for p in PLACES]
    lines = [
        {"id": f"asc:{p}", "service": "adult_social_care", "place": p, "partner": p} for p in PLACES
    ]
    return fund_spec(fund_id, partners=partners, users=USERS, lines=lines)


@pytest.fixture
def analyst_ledger(tmp_path: Path) -> Iterator[tuple[str, Ledger]]:
    """(database URL, ledger) with the model's fund and another partnership's, both open."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.connect(url, create=True)
    ledger.open_fund(model_fund(), actor="t.admin", request_id="open-model")
    other = fund_spec("other-fund", users=USERS)
    ledger.open_fund(other, actor="t.admin", request_id="open-other")
    yield url, ledger
    ledger.close()


def principal(ledger: Ledger, actor: str = "t.analyst", fund: str = "model-fund") -> Principal:
    return Principal(ledger, fund, actor)
