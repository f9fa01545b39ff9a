"""The council-by-council validation as a chart: model against published, one point per
council, one panel per measure (Plotly; an HTML file that opens offline on its own).

A point on the diagonal is a council the model reproduces; its vertical bar is the pass band
(:attr:`~carepool.model.boroughs.BoroughCheck.tolerance`), so a bar that does not cross the
diagonal is a failed check; with many councils (England's 296) the bars of the checks that
pass are faint, and the failures' stand out. Each panel says whether the model was calibrated
to the figure or never given it: a calibrated panel on the diagonal shows the fitting worked,
an independent one shows the model is right for reasons of its own.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from carepool.charts import INLINE, Library, write_html
from carepool.errors import ConfigError
from carepool.model.boroughs import CALIBRATED, MEASURES, BoroughCheck, BoroughValidation
from carepool.model.need_index import MEASURE as NEED_MEASURE

#: Panels side by side before a new row starts.
COLUMNS = 3
PASS, FAIL = "#1d70b8", "#d4351c"
#: Above this many councils in a panel (England has 296) the pass bands of the checks that
#: pass are drawn faint and without caps: drawn in full they merge into one mass, and the
#: failures' bands, which matter, are lost in it.
CROWDED = 40
#: Characters of a panel's title on one line.
TITLE_WIDTH = 42


def validation_scatter(
    validation: BoroughValidation, path: Path, region: str, library: Library = INLINE
) -> Path:
    """Write the chart of every estimable check of ``validation`` to ``path``."""
    if not any(c.estimable for c in validation.checks):
        raise ConfigError(
            f"{path}: no council's figure could be estimated at this scale, so there is "
            "nothing to draw; build at a larger --scale"
        )
    return write_html(validation_figure(validation, region), path, ConfigError, library)


def validation_figure(validation: BoroughValidation, region: str) -> Any:
    """The Plotly figure of every estimable check of ``validation`` (at least one)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    drawn = [c for c in validation.checks if c.estimable]
    if not drawn:
        raise ValueError("no check can be estimated: nothing to draw")
    measures = list(dict.fromkeys(c.check for c in drawn))
    columns = min(COLUMNS, len(measures))
    rows = math.ceil(len(measures) / columns)
    titles = [_title(next(c for c in drawn if c.check == check)) for check in measures]
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        horizontal_spacing=0.08,
        vertical_spacing=0.6 / rows,
    )
    in_legend: set[str] = set()
    for index, check in enumerate(measures):
        row, column = index // columns + 1, index % columns + 1
        points = [c for c in drawn if c.check == check]
        crowded = len(points) > CROWDED
        for ok, colour, label in (
            (True, PASS, "within its band"),
            (False, FAIL, "outside its band"),
        ):
            chosen = [c for c in points if c.ok is ok]
            # in the legend once, from the first panel with such points (an empty trace
            # shows no entry)
            legend = bool(chosen) and label not in in_legend
            if legend:
                in_legend.add(label)
            bands: dict[str, object] = {"type": "data", "array": [c.tolerance for c in chosen]}
            if crowded and ok:
                bands |= {"color": "rgba(29, 112, 184, 0.25)", "width": 0, "thickness": 1}
            figure.add_trace(
                go.Scatter(
                    x=[c.published for c in chosen],
                    y=[c.model for c in chosen],
                    error_y=bands,
                    mode="markers",
                    marker={"color": colour, "size": 5 if crowded and ok else 6},
                    name=label,
                    legendgroup=label,
                    showlegend=legend,
                    text=[_hover(c) for c in chosen],
                    hoverinfo="text",
                ),
                row=row,
                col=column,
            )
        values = [c.published for c in points] + [float(c.model or 0.0) for c in points]
        low, high = min(values), max(values)
        pad = (high - low) / 10 or 1.0
        figure.add_trace(
            go.Scatter(
                x=[low - pad, high + pad],
                y=[low - pad, high + pad],
                mode="lines",
                line={"color": "#505a5f", "dash": "dot", "width": 1},
                name="model = published",
                legendgroup="diagonal",
                showlegend=index == 0,
                hoverinfo="skip",
            ),
            row=row,
            col=column,
        )
        unit = points[0].unit
        figure.update_xaxes(title_text=f"published ({unit})", row=row, col=column)
        figure.update_yaxes(title_text=f"model ({unit})", row=row, col=column)
    councils = len({c.area_code for c in drawn})
    failed = sum(c.ok is False for c in drawn)
    figure.update_annotations(font_size=12)  # the panels' titles
    figure.update_layout(
        title=(
            f"{region}: the model against published figures, {councils} councils "
            f"({failed} of {len(drawn)} checks outside their band)"
        ),
        width=420 * columns,
        height=420 * rows + 120,
    )
    return figure


def _title(check: BoroughCheck) -> str:
    """The measure's title and whether the model was calibrated to it (the check's own
    basis, as the table and JSON report it)."""
    measure = {**MEASURES, NEED_MEASURE.check: NEED_MEASURE}.get(check.check)
    title = measure.title if measure is not None else check.check
    basis = "calibrated" if check.basis == CALIBRATED else "independent"
    # a panel is a third of the page wide: long titles are wrapped, not run into the next
    return "<br>".join([*textwrap.wrap(title, TITLE_WIDTH), f"({basis})"])


def _hover(check: BoroughCheck) -> str:
    return (
        f"{check.area_name} ({check.area_code})<br>model {check.model:,.2f}, published "
        f"{check.published:,.2f} {check.unit}<br>band ±{check.tolerance:,.2f}, {check.period}"
    )
