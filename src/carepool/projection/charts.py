"""Fan charts of a projection, as one offline HTML file: the region's population and its
oldest, two measures of demand, and the ICB's and the councils' cost and gap, each scenario a
line (its central case) in a fan of the draws (the 10th to 90th percentiles, and the 25th to
75th darker)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.charts import INLINE, Library, write_html
from carepool.errors import ProjectionError
from carepool.projection.engine import COLUMNS
from carepool.projection.service import ProjectionResult

FloatArray = npt.NDArray[np.float64]

PANELS: Final = (
    ("population", "Residents"),
    ("population_85_plus", "Residents aged 85 and over"),
    ("emergency_admissions", "Emergency admissions a year"),
    ("care_home_places", "Care home places"),
    ("cost_nhs", "The ICB's cost, £m"),
    ("cost_councils", "The councils' social care cost, £m"),
    ("gap_nhs", "The ICB's gap (cost less income), £m"),
    ("gap_councils", "The councils' gap (cost less income), £m"),
)
COLOURS: Final = (
    "#1d70b8",
    "#d4351c",
    "#00703c",
    "#912b88",
    "#f47738",
    "#5694ca",
    "#85994b",
    "#6f72af",
)


def _series(result: ProjectionResult, index: int, panel: str) -> FloatArray:
    """``(year, draw)`` of one panel for scenario ``index``."""
    item = result.scenarios[index]
    if panel.startswith(("cost_", "gap_")):
        kind, who = panel.split("_")
        array = item.money.cost if kind == "cost" else item.money.gap
        chosen = array[:, 0, :] if who == "nhs" else array[:, 1:, :].sum(axis=1)
        values: FloatArray = chosen / 1e6
        return values
    region: FloatArray = item.projected.lad[..., COLUMNS.index(panel)].sum(axis=1)
    return region


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def fan_charts(result: ProjectionResult, path: Path, library: Library = INLINE) -> Path:
    """Write the fan charts of every scenario of ``result`` to ``path``."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = [title for _, title in PANELS]
    figure = make_subplots(rows=4, cols=2, subplot_titles=titles, vertical_spacing=0.07)
    years = list(result.years)
    for index, item in enumerate(result.scenarios):
        colour = COLOURS[index % len(COLOURS)]
        for number, (panel, _title) in enumerate(PANELS):
            row, col = number // 2 + 1, number % 2 + 1
            series = _series(result, index, panel)
            central, draws = series[:, 0], series[:, 1:]
            if draws.shape[1] > 1:
                bands = np.percentile(draws, [10, 25, 75, 90], axis=1)
                for low, high, alpha in ((0, 3, 0.15), (1, 2, 0.3)):
                    figure.add_trace(
                        go.Scatter(
                            x=years + years[::-1],
                            y=list(bands[high]) + list(bands[low][::-1]),
                            fill="toself",
                            fillcolor=_rgba(colour, alpha),
                            line={"width": 0},
                            hoverinfo="skip",
                            showlegend=False,
                            legendgroup=item.scenario.name,
                        ),
                        row=row,
                        col=col,
                    )
            figure.add_trace(
                go.Scatter(
                    x=years,
                    y=list(central),
                    mode="lines",
                    line={"color": colour, "width": 2},
                    name=item.scenario.name,
                    legendgroup=item.scenario.name,
                    showlegend=number == 0,
                    hovertemplate="%{x}: %{y:,.1f}<extra>" + item.scenario.name + "</extra>",
                ),
                row=row,
                col=col,
            )
    figure.update_layout(
        title=(
            f"{result.region_name}: ten years ahead ({result.request.draws:,} draws; bands are "
            f"the 10th-90th and 25th-75th percentiles; money at {result.price_year} prices)"
        ),
        width=1100,
        height=1400,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.03},
    )
    return write_html(figure, path, ProjectionError, library)
