"""``carepool report``: the whole picture in one self-contained HTML file that opens offline
(charts, the map and tables; Plotly's library inside the file), written from the published
figures as the portal shows them."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from carepool.api import PublicData
from carepool.config import Settings
from carepool.errors import WarehouseError
from carepool.publication import public_dir
from carepool.web.assets import PLOTLY_JS
from carepool.web.charts import dumps
from carepool.web.views import Views

TEMPLATES = Path(__file__).parent / "templates"


def report_html(data: PublicData) -> str:
    if not data.served:
        raise WarehouseError("nothing is published yet: run `carepool demo` (or carepool publish)")
    views = Views(data)
    places = views.places("need_index", "")
    place_pages = [views.place(str(p["place"])) for p in data.rows("places")]
    fund = views.fund()
    figures: dict[str, Any] = {"map": json.loads(places["map"])}
    for page in place_pages:
        if page["waterfall"]:
            figures[f"waterfall-{page['place']['place']}"] = json.loads(page["waterfall"])
    if fund["services_chart"]:
        figures["services"] = json.loads(fund["services_chart"])
    try:
        checkpoint = data.checkpoint()
    except Exception:
        checkpoint = None
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    return environment.get_template("report.html").render(
        written=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
        model=data.meta("model"),
        home=views.home(),
        places=places,
        place_pages=place_pages,
        fund=fund,
        decisions=data.rows("decisions"),
        checkpoint=checkpoint,
        prevention=views.prevention(),
        figures=dumps(figures),
        plotly=PLOTLY_JS.read_text(encoding="utf-8").replace("</script", "<\\/script"),
    )


def write_report(settings: Settings, path: Path | None = None) -> Path:
    """Write the report (default: ``report.html`` in the data directory), whole or not at
    all; its path."""
    target = path or settings.data_dir / "report.html"
    html = report_html(PublicData(public_dir(settings.data_dir)))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=target.parent, suffix=".html")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(html)
    Path(staging).chmod(0o644)  # a public report: anyone may read it
    Path(staging).replace(target)
    return target
