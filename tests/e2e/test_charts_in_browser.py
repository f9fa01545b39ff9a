"""Every chart carepool writes, opened in headless Chromium (Debian's ``chromium``, which
``make test`` installs) as a person would open it: it draws without a script error, its
axes fit the data, its labels are names that do not cover each other, and charts written
to share one copy of the plotting library draw from it.

Screenshots go to ``CAREPOOL_SCREENSHOTS`` when it is set, for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from carepool.charts import SHARED, SHARED_FILE
from carepool.cli import app
from carepool.geography import england_place_name
from carepool.monitoring import chart, flag_shifts

runner = CliRunner()
GM = [f"E0800000{i}" for i in range(1, 10)] + ["E08000010"]
#: Chromium as the machine's sandbox allows it, with no network of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = os.environ.get("CAREPOOL_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("no chromium: `make test` installs Debian's (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_chart(browser: Any, path: Path) -> tuple[Any, list[str]]:
    """The chart's page once Plotly has drawn it, and the script errors it raised."""
    page = browser.new_page(viewport={"width": 1100, "height": 750})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    shots = os.environ.get("CAREPOOL_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / f"{path.stem}.png"))
    return page, errors


def text_boxes(page: Any, selector: str) -> list[dict[str, Any]]:
    """The drawn boxes and words of the SVG text elements matching ``selector``."""
    boxes: list[dict[str, Any]] = page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.textContent.trim()).map(e => {
            const b = e.getBoundingClientRect();
            return {text: e.textContent, x: b.x, y: b.y, w: b.width, h: b.height};
        })""",
    )
    return boxes


def overlapping(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for a, b in combinations(boxes, 2)
        if a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    ]


def axis_range(page: Any, axis: str) -> list[float]:
    found: list[float] = page.evaluate(
        f"() => document.querySelector('.js-plotly-plot')._fullLayout.{axis}.range"
    )
    return found


def gm_evidence(seed: int = 3) -> pd.DataFrame:
    """The monitor's evidence for ten boroughs whose activity all moved by a few per cent,
    as a real year looks: every point near zero, a few flagged."""
    rng = np.random.default_rng(seed)
    rows = []
    for place in GM:
        for year, scale in (("2024-25", 1.0), ("2025-26", None)):
            rows.append(
                {
                    "place": place,
                    "year": year,
                    "asc_home_care_hours": 1000.0 * (scale or 1 + rng.uniform(-0.05, 0.03)),
                    "delayed_discharge_days": 500.0 * (scale or 1 + rng.uniform(-0.02, 0.06)),
                    "ae_attendances": 800.0 * (scale or 1 + rng.uniform(-0.03, 0.04)),
                }
            )
    spend = pd.DataFrame(columns=["place", "service", "partner_kind", "quarter", "pence"])
    return flag_shifts(spend, pd.DataFrame(rows), GM, threshold=0.02)


def test_the_burden_shift_chart_fits_its_data_and_names_places_legibly(
    browser: Any, tmp_path: Path
) -> None:
    evidence = gm_evidence()
    assert evidence["flagged"].any()
    names = {code: england_place_name(code) or code for code in GM}
    path = chart(evidence, tmp_path / "burden-shift.html", names=names)
    page, errors = open_chart(browser, path)
    assert errors == []
    assert len(page.query_selector_all(".scatterlayer .point")) == len(evidence)
    # the axes fit changes of a few per cent, not -100..100
    x_range, y_range = axis_range(page, "xaxis"), axis_range(page, "yaxis")
    spread = max(evidence["cut_change"].abs().max(), evidence["rise_change"].abs().max()) * 100
    assert x_range[1] - x_range[0] < 4 * spread
    assert y_range[1] - y_range[0] < 4 * spread
    labels = text_boxes(page, ".scatterlayer .textpoint text")
    shown = {label["text"] for label in labels}
    assert shown, "no point is labelled"
    assert shown <= set(names.values()), f"labels are not names: {shown - set(names.values())}"
    assert overlapping(labels) == []
    flagged = {names[p] for p in evidence.loc[evidence["flagged"], "place"]}
    assert flagged <= shown, "a flagged place has no label"
    title = page.text_content(".gtitle")
    assert "E080" not in title


def test_the_allocation_charts_draw_with_names(
    browser: Any, small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    waterfall, tornado = tmp_path / "waterfall.html", tmp_path / "tornado.html"
    for args in (
        ["allocate", "explain", "E08000003", "--chart", str(waterfall)],
        ["allocate", "sensitivity", "E08000009", "--chart", str(tornado)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    for path, name in ((waterfall, "Manchester"), (tornado, "Trafford")):
        page, errors = open_chart(browser, path)
        assert errors == []
        assert name in page.text_content(".gtitle")
        ticks = text_boxes(page, ".xtick text, .ytick text")
        assert ticks
        assert overlapping(ticks) == []
        assert path.stat().st_size > 3_000_000  # one file, the library inside it
    page, _ = open_chart(browser, waterfall)
    low, high = axis_range(page, "yaxis")
    assert low > 0.5 * high, "the waterfall's steps are lost on an axis from zero"
    assert "£-" not in (page.text_content(".main-svg") or "")
    shared = tmp_path / "shared"
    shared.mkdir()
    result = runner.invoke(
        app,
        ["allocate", "explain", "E08000003", "--chart", str(shared / "w.html"), "--share-library"],
    )
    assert result.exit_code == 0, result.output
    assert (shared / SHARED_FILE).exists()
    assert (shared / "w.html").stat().st_size < 200_000
    page, errors = open_chart(browser, shared / "w.html")
    assert errors == []


def test_a_folder_of_charts_shares_one_copy_of_the_library(browser: Any, tmp_path: Path) -> None:
    evidence = gm_evidence()
    first = chart(evidence, tmp_path / "one.html", library=SHARED)
    second = chart(evidence.iloc[::-1], tmp_path / "two.html", library=SHARED)
    assert [p.name for p in tmp_path.glob("*.js")] == [SHARED_FILE]
    assert first.stat().st_size < 200_000
    assert second.stat().st_size < 200_000
    for path in (first, second):
        page, errors = open_chart(browser, path)
        assert errors == []
        assert page.query_selector_all(".scatterlayer .point")


def test_share_library_without_a_chart_is_a_usage_error(
    small_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    result = runner.invoke(app, ["allocate", "explain", "E08000003", "--share-library"])
    assert result.exit_code == 2
    assert "--chart" in result.output


def test_the_prevention_charts_draw(
    browser: Any, small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    folder = tmp_path / "prevention"
    folder.mkdir()
    ceac, flows, frontier = (folder / n for n in ("ceac.html", "flows.html", "frontier.html"))
    appraised = runner.invoke(
        app,
        [
            "appraise",
            "--intervention",
            "falls_prevention",
            "--intervention",
            "urgent_community_response",
            "--draws",
            "500",
            "--chart",
            str(ceac),
            "--cash-flows",
            str(flows),
            "--share-library",
        ],
    )
    assert appraised.exit_code == 0, appraised.output
    planned = runner.invoke(
        app,
        ["portfolio", "--budget", "100000", "--frontier", "4", "--chart", str(frontier)],
    )
    assert planned.exit_code == 0, planned.output
    for path, title in (
        (ceac, "acceptability"),
        (flows, "each partner"),
        (frontier, "efficient frontier"),
    ):
        page, errors = open_chart(browser, path)
        assert errors == []
        assert title in page.text_content(".gtitle")
        ticks = text_boxes(page, ".xtick text, .ytick text")
        assert ticks
        assert overlapping(ticks) == []
    page, _ = open_chart(browser, flows)
    legend = page.text_content(".legend") or ""
    assert "Council" in legend  # partners by name, not code
    drawn = page.text_content(".main-svg") or ""
    assert "£-" not in drawn
    assert "£\u2212" not in drawn  # carepool writes −£20k, never £−20k
