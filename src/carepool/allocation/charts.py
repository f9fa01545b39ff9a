"""Charts of an allocation as self-contained HTML files (Plotly, JavaScript inlined so they
open offline): a waterfall from an equal share per head to a place's allocation, and a
tornado of the weights its target is most sensitive to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from carepool.errors import AllocationError


def _write(figure: Any, path: Path) -> Path:
    try:
        figure.write_html(path, include_plotlyjs=True, full_html=True)
    except OSError as exc:
        raise AllocationError(f"{path}: cannot write the chart: {exc}") from None
    return path


def waterfall(explained: dict[str, Any], path: Path) -> Path:
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
            text=[f"£{v:,.0f}" for v in values],
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
        yaxis_title="£",
        showlegend=False,
    )
    return _write(figure, path)


def tornado(table: pd.DataFrame, place: str, path: Path, top: int = 15) -> Path:
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
    return _write(figure, path)
