"""The places page and the report of a model with neighbourhoods carepool has no boundaries
for (it ships Greater Manchester's only): the map says what it leaves out, or that there is
none, and the table still lists every place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.geography import lsoa_lookup
from tests.api.conftest import Site
from tests.web.test_journeys import accessible

BIRMINGHAM = "E08000025"


def _move_outside_boundaries(site: Site, how_many: int | None) -> tuple[list[str], list[str]]:
    """Give ``how_many`` of the published neighbourhoods (all when None) Birmingham's MSOA
    codes, as a model of a region without shipped boundaries publishes; returns the codes
    moved to and the codes kept."""
    path = site.data_dir / "public" / "model" / "neighbourhoods.parquet"
    frame = pq.read_table(path).to_pandas()
    lookup = lsoa_lookup()
    elsewhere = sorted(set(lookup.loc[lookup["lad24_code"] == BIRMINGHAM, "msoa21_code"]))
    moved = len(frame) if how_many is None else how_many
    assert moved <= len(elsewhere)
    frame.loc[: moved - 1, "neighbourhood"] = elsewhere[:moved]
    frame.to_parquet(path, index=False)
    return elsewhere[:moved], list(frame["neighbourhood"].iloc[moved:])


def test_the_map_leaves_out_what_it_has_no_boundaries_for_and_says_so(
    site: Site, page: Any, request: pytest.FixtureRequest
) -> None:
    moved, kept = _move_outside_boundaries(site, 2)
    portal: str = request.getfixturevalue("portal")
    page.goto(f"{portal}/places")
    page.wait_for_selector(".carepool-chart--drawn")  # the map drew, without those two
    drawn = page.content()  # each drawn neighbourhood links to its place's page
    assert all(f"#n-{code}" in drawn for code in kept)
    assert not any(f"#n-{code}" in drawn for code in moved)
    notice = page.locator("#map-notice").inner_text()
    assert "No boundaries are shipped for 2 of these neighbourhoods" in notice
    assert "so the map leaves them out" in notice
    assert page.get_by_role("link", name="Trafford", exact=True).is_visible()
    accessible(page)


def test_without_any_boundaries_there_is_no_map_and_the_page_says_why(
    site: Site, page: Any, request: pytest.FixtureRequest
) -> None:
    moved = len(_move_outside_boundaries(site, None)[0])
    portal: str = request.getfixturevalue("portal")
    page.goto(f"{portal}/places")
    notice = page.locator("#map-notice").inner_text()
    assert f"No boundaries are shipped for {moved} of these neighbourhoods" in notice
    assert "so there is no map" in notice
    assert page.locator("[data-chart]").count() == 0
    assert page.get_by_role("link", name="Manchester", exact=True).is_visible()
    accessible(page)


def test_the_report_without_boundaries_has_no_map_and_says_why(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    moved = len(_move_outside_boundaries(site, None)[0])
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    context = browser.new_context(offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    notice = page.locator("p.notice").first.inner_text()
    assert f"No boundaries are shipped for {moved} of these neighbourhoods" in notice
    assert "so there is no map" in notice
    assert page.locator('[data-chart="map"]').count() == 0
    for holder in page.locator("[data-chart]").all():  # the other charts still draw
        holder.locator("svg.main-svg").first.wait_for()
    assert errors == []
    context.close()
