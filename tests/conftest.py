"""Shared fixtures: small models built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepool.model import build_model
from carepool.population import BuildRequest

#: A small model: two boroughs at 2% scale, enough people for every table to have rows.
SMALL = BuildRequest(region="E08000003,E08000009", scale=0.02, seed=7)


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built once from :data:`SMALL`; tests must not modify it."""
    path = tmp_path_factory.mktemp("small") / "warehouse"
    build_model(SMALL, path)
    return path
