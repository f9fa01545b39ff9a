"""Where the portal's static files come from.

GOV.UK Frontend is installed from npm by the Makefile into the virtual environment
(``$VIRTUAL_ENV/web/node_modules/govuk-frontend``; ``CAREPOOL_WEB_ASSETS`` names another
``dist/govuk`` folder); Plotly's browser library comes with the ``plotly`` package; the
portal's own script and styles are in ``static/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import plotly

HERE = Path(__file__).parent
OWN = HERE / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def govuk_frontend() -> Path | None:
    """The ``dist/govuk`` folder of GOV.UK Frontend, if installed."""
    named = os.environ.get("CAREPOOL_WEB_ASSETS", "").strip()
    candidates = [Path(named)] if named else []
    candidates.append(
        Path(sys.prefix) / "web" / "node_modules" / "govuk-frontend" / "dist" / "govuk"
    )
    for candidate in candidates:
        if (candidate / "govuk-frontend.min.css").is_file():
            return candidate
    return None
