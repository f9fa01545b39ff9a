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


#: Three years of one borough at half scale: neighbourhoods (MSOAs) of about 2,000 people of
#: each sex, too few for a life table in one year and enough over three pooled years.
THREE_YEARS = BuildRequest(region="E08000009", scale=0.5, seed=11, years=3)


@pytest.fixture(scope="session")
def three_year_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built once from :data:`THREE_YEARS`; tests must not modify it."""
    path = tmp_path_factory.mktemp("three_years") / "warehouse"
    build_model(THREE_YEARS, path)
    return path
