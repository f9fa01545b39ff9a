"""Charts of an allocation as HTML files (Plotly; self-contained, or sharing the plotting
library with the other charts of a folder: :mod:`carepool.charts`): a waterfall from an equal
share per head to a place's allocation, and a tornado of the weights its target is most
sensitive to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from carepool.charts import INLINE, Library, write_html
from carepool.errors import AllocationError


def waterfall(explained: dict[str, Any], path: Path, library: Library = INLINE) -> Path:
    """The explanation of one place (:meth:`Allocation.explain`) as a waterfall chart."""
    import plotly.graph_objects as go

    steps = explained["steps"]
    labels = [s["label"] for s in steps] + ["Allocation"]
    values = [s["change"] for s in steps] + [steps[-1]["amount"]]
    measures = ["absolute"] + ["relative"] * (len(steps) - 1) + ["total"]
    figure = go.Figure(
        go.Waterfall(
            x=labels,
            y=values,
            measure=measures,
            text=[_pounds(v) for v in values],
            textposition="outside",
            connector={"line": {"color": "#888"}},
        )
    )
    meta = explained["metadata"]
    figure.update_layout(
        title=(
            f"{explained['name']} ({explained['place']}): from an equal share per head to its "
            f"allocation, {meta['year']} (formula {meta['formula']['id']} "
            f"{meta['formula']['version']})"
        ),
        # the changes are a few per cent of the whole: start the axis near the lowest
        # running total, not at zero, so that they can be seen
        yaxis={"title": "£", "range": _levels_range(values), "tickprefix": "£"},
        showlegend=False,
    )
    return write_html(figure, path, AllocationError, library)


def _pounds(value: float) -> str:
    """``£1,234`` and ``−£1,234``: the sign before the pound sign."""
    return f"{'−' if value < 0 else ''}£{abs(value):,.0f}"


def _levels_range(values: list[float]) -> list[float]:
    """A y range for a waterfall: its running totals (and their ends) with room above and
    below for the bars' labels."""
    total = values[0]
    levels = [total, values[-1]]
    for value in values[1:-1]:
        total += value
        levels.append(total)
    low, high = min(levels), max(levels)
    span = high - low or abs(high) or 1.0
    return [max(0.0, low - span / 4), high + span / 4]


def tornado(
    table: pd.DataFrame, place: str, path: Path, top: int = 15, library: Library = INLINE
) -> Path:
    """One place's rows of the sensitivity table as a tornado chart (largest swing on top)."""
    import plotly.graph_objects as go

    rows = table[table["place"] == place].nlargest(top, "swing").iloc[::-1]
    if rows.empty:
        raise AllocationError(f"no sensitivity rows for place {place!r}")
    figure = go.Figure(
        [
            go.Bar(
                y=rows["description"],
                x=rows["low_change"],
                orientation="h",
                name="weight -10%",
            ),
            go.Bar(
                y=rows["description"],
                x=rows["high_change"],
                orientation="h",
                name="weight +10%",
            ),
        ]
    )
    figure.update_layout(
        barmode="overlay",
        title=f"{rows['name'].iloc[0]} ({place}): change in target when one weight moves",
        xaxis_title="change in target, £",
    )
    return write_html(figure, path, AllocationError, library)
