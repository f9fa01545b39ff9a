"""``carepool report``: one file that opens offline in Chromium, draws every chart without a
script error, and holds the published figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from carepool.cli import app
from tests.api.conftest import Site


def test_the_report_opens_offline_and_draws_every_chart(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    context = browser.new_context(offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(out.as_uri())
    holders = page.locator("[data-chart]")
    assert holders.count() >= 4  # the map, a waterfall per place, the fund by service
    for holder in holders.all():
        holder.locator("svg.main-svg").first.wait_for()
    assert errors == []
    text = page.locator("body").inner_text()
    for words in (
        "Places: need and allocation",
        "Manchester",
        "Trafford",
        "Decisions",
        "Each partner's share",
    ):
        assert words in text
    context.close()


def test_no_report_before_anything_is_published(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 5
    assert "nothing is published yet" in result.output
    assert not (tmp_path / "report.html").exists()
